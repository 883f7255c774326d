/**
 * Names the plugin derives, as Calico derives them: the host veth, the IPAM handle, the
 * WorkloadEndpoint name. Pure.
 */
import { createHash } from 'node:crypto';

/** MAC of every host-side veth (Calico's). */
export const HOST_MAC = 'ee:ee:ee:ee:ee:ee';
/** The IPv4 next hop a pod routes through (answered by proxy ARP on the host veth). */
export const POD_GATEWAY_V4 = '169.254.1.1';
/** The host veth's IPv6 link-local address (EUI-64 of HOST_MAC), the pod's IPv6 next hop. */
export const POD_GATEWAY_V6 = 'fe80::ecee:eeff:feee:eeee';

/** `cali` + the first 11 hex chars of sha1("<namespace>.<pod>"). */
export function vethName(namespace: string, pod: string, prefix = 'cali'): string {
  return prefix + createHash('sha1').update(`${namespace}.${pod}`).digest('hex').slice(0, 15 - prefix.length);
}

/** The IPAM handle of one attachment: `<network>.<containerID>`. */
export function handleId(network: string, containerId: string): string {
  return `${network}.${containerId}`;
}

/** Calico escapes '-' as '--' inside each name part so that '-' can separate the parts. */
function esc(s: string): string {
  return s.replaceAll('-', '--');
}

/**
 * The WorkloadEndpoint name: `<node>-k8s-<pod>-<endpoint>` for Kubernetes pods,
 * `<node>-cni-<containerID>-<endpoint>` otherwise (Calico's names).
 */
export function wepName(node: string, orchestrator: 'k8s' | 'cni', workload: string, endpoint: string): string {
  return `${esc(node)}-${orchestrator}-${esc(workload)}-${esc(endpoint)}`;
}
