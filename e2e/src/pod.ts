/**
 * Pod plumbing as DESIGN.md's "Kernel objects" lays it out, through @tabby/netlink only:
 * host side `cali` + sha1("<namespace>.<pod>")[0:11] with MAC ee:ee:ee:ee:ee:ee and proxy ARP
 * (without delay),
 * pod side `eth0` with the /32, `169.254.1.1 dev eth0 scope link` and a default route via it,
 * and on the node `<ip>/32 dev caliX scope link proto 80`. The CNI plugin's issue builds the
 * production version; the demo and the end-to-end tests use this one until then.
 */
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { Netlink, withNetns } from '@tabby/netlink';

/** Route protocol of every route Tabby programs. */
export const RTPROT_TABBY = 80;
const RT_SCOPE_LINK = 253;

/** The host-side interface name of a pod's veth. */
export function vethName(namespace: string, pod: string): string {
  return 'cali' + createHash('sha1').update(`${namespace}.${pod}`).digest('hex').slice(0, 11);
}

/**
 * Writes a sysctl inside the namespace `netns` (never the root namespace). /proc/sys/net is
 * resolved against the network namespace of the thread that opens the file, so the write is
 * synchronous, on the main thread, while `withNetns` has switched it: an async write would
 * run on a libuv pool thread still in the root namespace.
 */
export async function nsSysctl(netns: string, key: string, value: string): Promise<void> {
  if (!netns) throw new Error(`nsSysctl ${key}: no namespace given; refusing to write the root namespace`);
  withNetns(netns, () => writeFileSync(`/proc/sys/${key.replaceAll('.', '/')}`, value));
}

export interface PodSpec {
  namespace: string;
  name: string;
  /** The pod's IPv4 address (no length). */
  ip: string;
  /** Network namespace names (under /var/run/netns) of the node and the pod. */
  nodeNetns: string;
  podNetns: string;
}

/**
 * Creates the veth pair and the pod side (address, link route, default route), as the CNI
 * plugin does; the node side (its /32 route and sysctls) is left to felix. Returns the host
 * interface name.
 */
export async function plumbPod(node: Netlink, spec: PodSpec): Promise<string> {
  const host = vethName(spec.namespace, spec.name);
  await node.links.add({
    name: host,
    mac: 'ee:ee:ee:ee:ee:ee',
    info: { kind: 'veth', peer: { name: 'eth0', netns: { name: spec.podNetns } } },
  });
  await node.links.setUp(host, true);
  const pod = await Netlink.open({ netns: spec.podNetns });
  try {
    const eth0 = await pod.links.get('eth0');
    await pod.addresses.add({ index: eth0.index, address: `${spec.ip}/32` });
    await pod.links.setUp('lo', true);
    await pod.links.setUp('eth0', true);
    await pod.routes.add({ dst: '169.254.1.1/32', oif: eth0.index, scope: RT_SCOPE_LINK });
    await pod.routes.add({ dst: '0.0.0.0/0', gateway: '169.254.1.1', oif: eth0.index });
  } finally {
    pod.close();
  }
  return host;
}

/** `plumbPod` plus the node side felix would program: sysctls and the /32 route. */
export async function attachPod(node: Netlink, spec: PodSpec): Promise<string> {
  const host = await plumbPod(node, spec);
  await nsSysctl(spec.nodeNetns, `net.ipv4.conf.${host}.proxy_arp`, '1');
  await nsSysctl(spec.nodeNetns, `net.ipv4.conf.${host}.forwarding`, '1');
  // Answer proxy ARP at once (the kernel's default delays each reply up to 0.8 s), as Felix does.
  await nsSysctl(spec.nodeNetns, `net.ipv4.neigh.${host}.proxy_delay`, '0');
  const hostLink = await node.links.get(host);
  await node.routes.add({ dst: `${spec.ip}/32`, oif: hostLink.index, scope: RT_SCOPE_LINK, protocol: RTPROT_TABBY });
  return host;
}
