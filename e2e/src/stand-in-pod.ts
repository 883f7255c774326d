/**
 * A pod added without the CNI plugin: an IPAM address for the node, the veth and pod side
 * (`plumbPod`), and the WorkloadEndpoint the plugin would write (kns.<namespace> profile).
 */
import type { Resource } from '@tabby/api';
import type { Datastore } from '@tabby/datastore';
import type { Ipam } from '@tabby/ipam';
import type { Netlink } from '@tabby/netlink';
import { plumbPod } from './pod.js';

/** Adds pod `namespace/name` in `podNetns` to the node; returns its address. */
export async function addStandInPod(
  c: { store: Datastore; ipam: Ipam },
  node: { name: string; nl: Netlink; netns: { name: string } },
  pod: { namespace: string; name: string; podNetns: string; labels?: Record<string, string> },
): Promise<string> {
  const { ipv4 } = await c.ipam.autoAssign({ handle: `k8s-pod-network.${pod.namespace}.${pod.name}`, node: node.name, num4: 1, attrs: { namespace: pod.namespace, pod: pod.name } });
  const ip = ipv4[0]!;
  const iface = await plumbPod(node.nl, { namespace: pod.namespace, name: pod.name, ip, nodeNetns: node.netns.name, podNetns: pod.podNetns });
  await c.store.create({
    apiVersion: 'tabby.dev/v1', kind: 'WorkloadEndpoint', metadata: { name: `${node.name}-k8s-${pod.name}-eth0`, namespace: pod.namespace, labels: pod.labels ?? {} },
    spec: { node: node.name, orchestrator: 'k8s', pod: pod.name, endpoint: 'eth0', interfaceName: iface, ipNetworks: [`${ip}/32`], mac: 'ee:ee:ee:ee:ee:ee', profiles: [`kns.${pod.namespace}`] },
  } as Resource);
  return ip;
}
