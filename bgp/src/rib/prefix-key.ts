/**
 * Compact prefix keys for the RIB tables.
 *
 * Invariants:
 * - IPv4 key: a non-negative integer `addr * 64 + len` (addr as unsigned 32-bit, len 0-32), so
 *   every key is an exact double below 2^38 and no object is allocated per prefix.
 * - IPv6 key: the string `"<canonical addr>/<len>"` (the codec already gives canonical text).
 * - Keys carry no ADD-PATH path id: path identity is (peer, prefix key, path id) and the RIB
 *   keeps one table per (peer, path id) — see rib.ts.
 */
import { formatIpv4Number as formatIpv4, formatIpv6, parseIpv4, writeIpv6 } from '@tabby/api';
import type { Family, Prefix } from '../codec/types.js';

/** An IPv4 key (number) or IPv6 key (string). */
export type PrefixKey = number | string;

/** Dotted-quad text ⇄ unsigned 32-bit number: @tabby/api's one implementation (allocation-free). */
export { parseIpv4, formatIpv4Number as formatIpv4 } from '@tabby/api';

/** The IPv4 key of (addr, len). */
export function v4Key(addr: number, len: number): number {
  return addr * 64 + len;
}

/** The key of a prefix (path id ignored); throws a TypeError on a malformed IPv4 address. */
export function prefixKey(p: Prefix): PrefixKey {
  if (p.afi === 1) {
    const a = parseIpv4(p.addr);
    if (a < 0) throw new TypeError(`malformed IPv4 prefix address "${p.addr}"`);
    return a * 64 + p.len;
  }
  return `${p.addr}/${p.len}`;
}

/** Turns a key back into a Prefix (with `pathId` when non-zero). */
export function keyToPrefix(key: PrefixKey, pathId = 0): Prefix {
  let p: Prefix;
  if (typeof key === 'number') {
    const addr = Math.floor(key / 64);
    p = { afi: 1, addr: formatIpv4(addr), len: key - addr * 64 };
  } else {
    const slash = key.lastIndexOf('/');
    p = { afi: 2, addr: key.slice(0, slash), len: Number(key.slice(slash + 1)) };
  }
  if (pathId !== 0) p.pathId = pathId;
  return p;
}

/** Text form "addr/len" of a key, for logs and status output. */
export function keyToString(key: PrefixKey): string {
  if (typeof key === 'string') return key;
  const addr = Math.floor(key / 64);
  return `${formatIpv4(addr)}/${key - addr * 64}`;
}

/** RFC 5952 canonical text of an IPv6 address; the input unchanged when it does not parse. */
export function canonicalIpv6(addr: string): string {
  const b = new Uint8Array(16);
  return writeIpv6(addr, b, 0) ? formatIpv6(b, 0) : addr;
}

/** Like `prefixKey`, for prefixes typed by people (config): IPv6 text is made canonical first. */
export function userPrefixKey(p: Prefix): PrefixKey {
  return p.afi === 2 ? `${canonicalIpv6(p.addr)}/${p.len}` : prefixKey(p);
}

/** The family of an (afi, safi) pair, or undefined if Tabby does not carry it. */
export function familyOf(afi: number, safi: number): Family | undefined {
  if (safi !== 1) return undefined;
  return afi === 1 ? 'ipv4-unicast' : afi === 2 ? 'ipv6-unicast' : undefined;
}

/** The family of a prefix (unicast assumed). */
export function prefixFamily(p: Prefix): Family {
  return p.afi === 1 ? 'ipv4-unicast' : 'ipv6-unicast';
}

/** The families Tabby carries, in a fixed order. */
export const FAMILIES: readonly Family[] = ['ipv4-unicast', 'ipv6-unicast'];

/** AFI/SAFI of a family (for MP_REACH/MP_UNREACH and End-of-RIB). */
export function familyAfiSafi(f: Family): { afi: 1 | 2; safi: 1 } {
  return f === 'ipv4-unicast' ? { afi: 1, safi: 1 } : { afi: 2, safi: 1 };
}
