/**
 * Host-side sysctls of each local workload interface, as Calico's Felix sets them: proxy ARP
 * (the pod's gateway 169.254.1.1 is answered by the host), forwarding, route_localnet, no
 * proxy-ARP delay, and IPv6 proxy NDP and forwarding. Plus the node-wide IPv4 / IPv6
 * forwarding switches. Written once per interface instance (name + ifindex): a veth recreated
 * under the same name is configured again.
 *
 * Invariant: every write goes through the injected SysctlWriter, which is bound to felix's own
 * network namespace; a failure is reported and retried at the next apply.
 */
import type { SysctlWrite, SysctlWriter } from '../kernel/kernel.js';

/** The sysctls of one workload interface: [path under /proc/sys, value]. */
export function workloadSysctls(iface: string): Array<[string[], string]> {
  return [
    [['net', 'ipv4', 'conf', iface, 'proxy_arp'], '1'],
    [['net', 'ipv4', 'conf', iface, 'forwarding'], '1'],
    [['net', 'ipv4', 'conf', iface, 'route_localnet'], '1'],
    [['net', 'ipv4', 'neigh', iface, 'proxy_delay'], '0'],
    [['net', 'ipv6', 'conf', iface, 'proxy_ndp'], '1'],
    [['net', 'ipv6', 'conf', iface, 'forwarding'], '1'],
  ];
}

/** Node-wide forwarding. */
export const GLOBAL_SYSCTLS: Array<[string[], string]> = [
  [['net', 'ipv4', 'ip_forward'], '1'],
  [['net', 'ipv6', 'conf', 'all', 'forwarding'], '1'],
];

/** Errors of a sysctl apply. */
export interface SysctlFailure {
  iface: string;
  path: string;
  error: string;
}

/** Writes each interface's sysctls once per interface instance. */
export class SysctlDriver {
  private readonly done = new Map<string, number>();
  private globalDone = false;

  constructor(private readonly w: SysctlWriter) {}

  /** Configures every wanted interface present in `links` (name → ifindex) not yet configured. */
  apply(wanted: ReadonlySet<string>, links: ReadonlyMap<string, number>): SysctlFailure[] {
    for (const iface of this.done.keys()) if (!wanted.has(iface) || links.get(iface) !== this.done.get(iface)) this.done.delete(iface);
    const writes: SysctlWrite[] = [];
    const owner: Array<{ iface: string; index: number }> = [];
    const add = (iface: string, index: number, list: Array<[string[], string]>): void => {
      for (const w of list) {
        writes.push(w);
        owner.push({ iface, index });
      }
    };
    if (!this.globalDone) add('*', 0, GLOBAL_SYSCTLS);
    for (const iface of wanted) {
      const index = links.get(iface);
      if (index !== undefined && this.done.get(iface) !== index) add(iface, index, workloadSysctls(iface));
    }
    if (writes.length === 0) return [];
    const failures: SysctlFailure[] = [];
    const failedIfaces = new Set<string>();
    for (const f of this.w.writeAll(writes)) {
      const [path] = writes[f.index]!;
      // IPv6 may be disabled in the namespace: its files are then absent, which is fine.
      if (path[1] === 'ipv6' && (f.error as { code?: unknown }).code === 'ENOENT') continue;
      const iface = owner[f.index]!.iface;
      failedIfaces.add(iface);
      failures.push({ iface, path: path.join('/'), error: f.error instanceof Error ? f.error.message : String(f.error) });
    }
    if (!failedIfaces.has('*')) this.globalDone = true;
    for (const { iface, index } of owner) if (iface !== '*' && !failedIfaces.has(iface)) this.done.set(iface, index);
    return failures;
  }
}
