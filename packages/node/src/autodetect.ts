/**
 * The node's address, autodetected as calico-node does (IP_AUTODETECTION_METHOD /
 * IP6_AUTODETECTION_METHOD), from a list of interfaces and their addresses. Pure: the caller
 * reads the interfaces (netlink) and, for `can-reach`, the kernel's choice of source.
 *
 * Methods: `first-found` (the first global address of an interface not excluded by default),
 * `can-reach=<ip>` (the address the kernel would use toward it; approximated by the address
 * whose subnet holds it, else the default route's interface), `interface=<regex>[,<regex>]`,
 * `skip-interface=<regex>[,<regex>]`, `cidr=<cidr>[,<cidr>]`.
 */
import { cidrContains, tryParseCidr } from '@tabby/api';

/** One interface and its addresses (`addr/len`). */
export interface InterfaceInfo {
  name: string;
  addresses: string[];
}

/** Interfaces calico-node never picks with first-found. */
export const DEFAULT_EXCLUDES = [/^docker.*/, /^cbr.*/, /^dummy.*/, /^virbr.*/, /^lxcbr.*/, /^veth.*/, /^lo$/, /^cali.*/, /^tunl.*/, /^flannel.*/, /^kube-ipvs.*/, /^cni.*/, /^vxlan\.calico$/, /^vxlan-v6\.calico$/, /^wireguard\.cali$/, /^nodelocaldns.*/];

/** Why autodetection failed. */
export class AutodetectError extends Error {}

function usable(addr: string, family: 4 | 6): boolean {
  const c = tryParseCidr(addr);
  if (!c || c.family !== family) return false;
  const ip = addr.split('/')[0]!;
  if (family === 4) return !ip.startsWith('127.') && !ip.startsWith('169.254.');
  return !ip.toLowerCase().startsWith('fe80') && ip !== '::1';
}

function regexes(list: string): RegExp[] {
  return list.split(',').map((r) => {
    try {
      return new RegExp(`^(?:${r.trim()})$`);
    } catch {
      throw new AutodetectError(`invalid interface regex "${r.trim()}"`);
    }
  });
}

/**
 * Picks the node's address (`addr/len`, as Node.spec.bgp.ipv4Address holds it) by `method`.
 * `defaultRouteIface`: the interface of the default route, for can-reach's fallback.
 */
export function autodetect(method: string, family: 4 | 6, ifaces: readonly InterfaceInfo[], defaultRouteIface?: string): string {
  const m = method.trim() || 'first-found';
  const candidates = (pred: (i: InterfaceInfo) => boolean): string | undefined => {
    for (const i of ifaces) {
      if (!pred(i)) continue;
      const a = i.addresses.find((x) => usable(x, family));
      if (a) return a;
    }
    return undefined;
  };
  let found: string | undefined;
  if (m === 'first-found') found = candidates((i) => !DEFAULT_EXCLUDES.some((r) => r.test(i.name)));
  else if (m.startsWith('interface=')) {
    const rs = regexes(m.slice('interface='.length));
    found = candidates((i) => rs.some((r) => r.test(i.name)));
  } else if (m.startsWith('skip-interface=')) {
    const rs = regexes(m.slice('skip-interface='.length));
    found = candidates((i) => !rs.some((r) => r.test(i.name)) && !DEFAULT_EXCLUDES.some((r) => r.test(i.name)));
  } else if (m.startsWith('cidr=')) {
    const cidrs = m.slice('cidr='.length).split(',').map((c) => c.trim());
    for (const c of cidrs) if (!tryParseCidr(c)) throw new AutodetectError(`invalid CIDR "${c}" in ${m}`);
    for (const i of ifaces) {
      const a = i.addresses.find((x) => usable(x, family) && cidrs.some((c) => cidrContains(c, x.split('/')[0]!)));
      if (a) {
        found = a;
        break;
      }
    }
  } else if (m.startsWith('can-reach=')) {
    const target = m.slice('can-reach='.length).trim();
    for (const i of ifaces) {
      const a = i.addresses.find((x) => usable(x, family) && tryParseCidr(x) !== undefined && cidrContains(tryParseCidr(x)!, target));
      if (a) {
        found = a;
        break;
      }
    }
    found ??= defaultRouteIface ? candidates((i) => i.name === defaultRouteIface) : undefined;
  } else throw new AutodetectError(`unknown autodetection method "${m}" (first-found, can-reach=, interface=, skip-interface=, cidr=)`);
  if (!found) throw new AutodetectError(`no IPv${family} address found by ${m} among ${ifaces.map((i) => i.name).join(', ') || 'no interfaces'}`);
  return found;
}
