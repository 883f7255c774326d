import { describe, expect, it } from 'vitest';
import { buildEndpoint, vethName } from '@tabby/cni';
import { namespaceToProfile, podAddresses, podToWorkloadEndpoint, serviceAccountToProfile, type KubePod } from '../src/kube-convert.js';

const pod = (over: Partial<KubePod> = {}, meta: Partial<KubePod['metadata']> = {}): KubePod => ({
  metadata: { name: 'web-1', namespace: 'shop', labels: { app: 'web' }, ...meta },
  spec: { nodeName: 'node-a', serviceAccountName: 'front', containers: [{ ports: [{ name: 'http', containerPort: 8080 }, { containerPort: 9 }] }] },
  status: { phase: 'Running', podIPs: [{ ip: '10.65.0.5' }, { ip: 'fd00::5' }] },
  ...over,
});

describe('Pod → WorkloadEndpoint (as Calico)', () => {
  it('labels, profiles, name, interface, addresses, named ports', () => {
    const w = podToWorkloadEndpoint(pod());
    expect(w?.metadata).toEqual({
      name: 'node--a-k8s-web--1-eth0',
      namespace: 'shop',
      labels: { app: 'web', 'projectcalico.org/namespace': 'shop', 'projectcalico.org/orchestrator': 'k8s', 'projectcalico.org/serviceaccount': 'front' },
    });
    expect(w?.spec).toMatchObject({
      orchestrator: 'k8s',
      node: 'node-a',
      pod: 'web-1',
      endpoint: 'eth0',
      ipNetworks: ['10.65.0.5/32', 'fd00::5/128'],
      profiles: ['kns.shop', 'ksa.shop.front'],
      interfaceName: vethName('shop', 'web-1'),
      ports: [{ name: 'http', protocol: 'TCP', port: 8080 }],
    });
  });

  it("agrees with the CNI plugin's endpoint on name, labels, profiles and interface", () => {
    const p = pod();
    const fromPod = podToWorkloadEndpoint(p);
    const fromCni = buildEndpoint({
      node: 'node-a', pod: { namespace: 'shop', name: 'web-1', k8s: true }, containerId: 'c1', ifname: 'eth0', hostIf: vethName('shop', 'web-1'), mac: 'ee:ee:ee:ee:ee:ee', ipNetworks: [],
      info: { labels: { app: 'web' }, annotations: {}, serviceAccountName: 'front', namespaceLabels: {}, namespaceAnnotations: {} },
    });
    expect(fromPod?.metadata.name).toBe(fromCni.metadata.name);
    expect(fromPod?.metadata.labels).toEqual(fromCni.metadata.labels);
    expect(fromPod?.spec.profiles).toEqual(fromCni.spec.profiles);
    expect(fromPod?.spec.interfaceName).toBe(fromCni.spec.interfaceName);
  });

  it('address sources in Calico order: podIPs, podIP, podIPs annotation, podIP annotation', () => {
    expect(podAddresses(pod({ status: { podIP: '10.0.0.1' } }))).toEqual(['10.0.0.1/32']);
    expect(podAddresses(pod({ status: {} }, { annotations: { 'cni.projectcalico.org/podIPs': '10.0.0.2/32,fd00::2/128' } }))).toEqual(['10.0.0.2/32', 'fd00::2/128']);
    expect(podAddresses(pod({ status: {} }, { annotations: { 'cni.projectcalico.org/podIP': '10.0.0.3' } }))).toEqual(['10.0.0.3/32']);
  });

  it('no endpoint: host network, not scheduled, no address yet; finished: no addresses', () => {
    expect(podToWorkloadEndpoint(pod({ spec: { nodeName: 'n', hostNetwork: true } }))).toBeUndefined();
    expect(podToWorkloadEndpoint(pod({ spec: {} }))).toBeUndefined();
    expect(podToWorkloadEndpoint(pod({ status: { phase: 'Pending' } }))).toBeUndefined();
    expect(podToWorkloadEndpoint(pod({ status: { phase: 'Succeeded', podIP: '10.0.0.1' } }))?.spec.ipNetworks).toEqual([]);
  });

  it('service account defaults to default, as the API server admits it and the CNI plugin writes it', () => {
    const w = podToWorkloadEndpoint(pod({ spec: { nodeName: 'n' } }));
    expect(w?.metadata.labels?.['projectcalico.org/serviceaccount']).toBe('default');
    expect(w?.spec.profiles).toEqual(['kns.shop', 'ksa.shop.default']);
  });

  it('a bad address throws (the source skips the pod)', () => {
    expect(() => podToWorkloadEndpoint(pod({ status: { podIP: '10.0.0.300' } }))).toThrow(/10\.0\.0\.300/);
  });
});

describe('Namespace / ServiceAccount → Profile (as Calico)', () => {
  it('kns.<ns>: allow in and out, pcns. labels and the name label', () => {
    const p = namespaceToProfile({ metadata: { name: 'shop', labels: { team: 'red' }, resourceVersion: '7' } });
    expect(p.metadata).toEqual({ name: 'kns.shop', resourceVersion: '7' });
    expect(p.spec).toEqual({ ingress: [{ action: 'Allow' }], egress: [{ action: 'Allow' }], labelsToApply: { 'pcns.projectcalico.org/name': 'shop', 'pcns.team': 'red' } });
  });

  it('ksa.<ns>.<sa>: no rules, pcsa. labels and the name label', () => {
    const p = serviceAccountToProfile({ metadata: { name: 'front', namespace: 'shop', labels: { tier: 'web' } } });
    expect(p.metadata.name).toBe('ksa.shop.front');
    expect(p.spec).toEqual({ labelsToApply: { 'pcsa.projectcalico.org/name': 'front', 'pcsa.tier': 'web' } });
  });
});
