/** IP protocol names and numbers as Calico's API spells them (IANA protocol numbers). */

const BY_NAME: Record<string, number> = { tcp: 6, udp: 17, icmp: 1, icmpv6: 58, sctp: 132, udplite: 136 };

/** Protocol numbers that carry ports. */
export const PORT_PROTOCOLS: ReadonlySet<number> = new Set([6, 17, 132, 136]);

/** A protocol name or number as its number; undefined when unknown. */
export function protocolNumber(p: string | number): number | undefined {
  if (typeof p === 'number') return Number.isInteger(p) && p >= 0 && p <= 255 ? p : undefined;
  const n = BY_NAME[p.toLowerCase()];
  if (n !== undefined) return n;
  return /^\d+$/.test(p) ? protocolNumber(Number(p)) : undefined;
}

/** The name iptables prints for a protocol number (`-p tcp`), or the number. */
export function iptProtocolName(n: number): string {
  switch (n) {
    case 6:
      return 'tcp';
    case 17:
      return 'udp';
    case 1:
      return 'icmp';
    case 58:
      return 'ipv6-icmp';
    case 132:
      return 'sctp';
    case 136:
      return 'udplite';
    default:
      return String(n);
  }
}

/** The name ipset uses in `ip,proto:port` members. */
export function ipsetProtocolName(n: number): string {
  switch (n) {
    case 6:
      return 'tcp';
    case 17:
      return 'udp';
    case 132:
      return 'sctp';
    case 136:
      return 'udplite';
    default:
      return String(n);
  }
}
