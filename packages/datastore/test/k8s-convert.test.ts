import { describe, expect, it } from 'vitest';
import type { Resource } from '@tabby/api';
import { customObjectToResource, kubeToNode, nodeToKube, resourceToCustomObject, type KubeObject } from '../src/k8s-convert.js';

const node: Resource = {
  apiVersion: 'tabby.dev/v1',
  kind: 'Node',
  metadata: { name: 'n1', labels: { rack: 'r1' }, annotations: { note: 'x' } },
  spec: {
    bgp: { ipv4Address: '10.0.0.1/24', ipv6Address: 'fd00::1/64', asNumber: 64513, routeReflectorClusterID: '224.0.0.1' },
    ipv4VXLANTunnelAddr: '192.168.0.1',
  },
};

describe('Node ↔ core/v1 Node', () => {
  it('puts BGP fields in Calico annotations and reads them back', () => {
    const k = nodeToKube(node);
    expect(k.metadata?.labels).toEqual({ rack: 'r1' });
    expect(k.metadata?.annotations).toEqual({
      note: 'x',
      'projectcalico.org/IPv4Address': '10.0.0.1/24',
      'projectcalico.org/IPv6Address': 'fd00::1/64',
      'projectcalico.org/ASNumber': '64513',
      'projectcalico.org/RouteReflectorClusterID': '224.0.0.1',
      'projectcalico.org/IPv4VXLANTunnelAddr': '192.168.0.1',
    });
    const back = kubeToNode({ ...k, status: { addresses: [{ type: 'InternalIP', address: '10.0.0.1' }, { type: 'Hostname', address: 'n1' }] } });
    expect(back.metadata.annotations).toEqual({ note: 'x' });
    expect(back.spec).toEqual({
      ...(node.spec as object),
      orchRefs: [{ orchestrator: 'k8s', nodeName: 'n1' }],
      addresses: [
        { address: '10.0.0.1', type: 'CalicoNodeIP' },
        { address: 'fd00::1', type: 'CalicoNodeIP' },
        { address: '10.0.0.1', type: 'InternalIP' },
      ],
    });
  });

  it('keeps the node spec and status and drops annotations of unset fields', () => {
    const base: KubeObject = {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: {
        name: 'n1',
        resourceVersion: '7',
        annotations: { 'projectcalico.org/ASNumber': '65000', 'kubeadm.alpha.kubernetes.io/cri-socket': 'x' },
      },
      spec: { podCIDR: '10.244.0.0/24' },
      status: { capacity: { cpu: '2' } },
    };
    const fromK = kubeToNode(base);
    expect(fromK.metadata.annotations).toEqual({ 'kubeadm.alpha.kubernetes.io/cri-socket': 'x' });
    const upd = nodeToKube({ ...fromK, spec: { bgp: { ipv4Address: '10.0.0.2/24' } } }, base);
    expect(upd.spec).toEqual({ podCIDR: '10.244.0.0/24' });
    expect(upd.status).toEqual({ capacity: { cpu: '2' } });
    expect(upd.metadata?.resourceVersion).toBe('7');
    expect(upd.metadata?.annotations).toEqual({
      'kubeadm.alpha.kubernetes.io/cri-socket': 'x',
      'projectcalico.org/IPv4Address': '10.0.0.2/24',
    });
  });
});

describe('custom resources', () => {
  it('round-trips and drops server-owned metadata', () => {
    const r: Resource = { apiVersion: 'tabby.dev/v1', kind: 'IPPool', metadata: { name: 'p', labels: { a: 'b' } }, spec: { cidr: '10.0.0.0/16' } };
    const o = resourceToCustomObject(r);
    expect(o).toEqual({ apiVersion: 'tabby.dev/v1', kind: 'IPPool', metadata: { name: 'p', labels: { a: 'b' } }, spec: { cidr: '10.0.0.0/16' } });
    const served: KubeObject = {
      ...o,
      metadata: { ...o.metadata, resourceVersion: '5', uid: 'u', generation: 1, managedFields: [], creationTimestamp: new Date('2024-01-02T03:04:05Z') },
    };
    expect(customObjectToResource(served, 'IPPool')).toEqual({
      ...r,
      metadata: { ...r.metadata, resourceVersion: '5', uid: 'u', creationTimestamp: '2024-01-02T03:04:05Z' },
    });
  });
});
