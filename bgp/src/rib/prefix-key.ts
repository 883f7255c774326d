/**
 * Compact prefix keys for the RIB tables.
 *
 * Invariants:
 * - IPv4 key: a non-negative integer `addr * 64 + len` (addr as unsigned 32-bit, len 0-32), so
 *   every key is an exact double below 2^38 and no object is allocated per prefix.
 * - IPv6 key: a short string of UTF-16 code units, built from the address bits, not text: the
 *   length, then the address as 16-bit groups with trailing zero groups dropped (2001:db8::/32
 *   is 3 code units). One string per address/length, so it is a Map/Set key like any other; it
 *   is not printable (use keyToString / keyToPrefix) and is cheap to make straight from NLRI
 *   bytes (`v6Key`). Ipv6Table stores the bits of the key, not the string.
 * - Keys carry no ADD-PATH path id: path identity is (peer, prefix key, path id) and the RIB
 *   keeps one table per (peer, path id) — see rib.ts.
 */
import { formatIpv4Number as formatIpv4, formatIpv6, parseIpv4, writeIpv6 } from '@tabby/api';
import type { Family, Prefix } from '../codec/types.js';

/** An IPv4 key (number) or IPv6 key (string, see the module header). */
export type PrefixKey = number | string;

/** Dotted-quad text ⇄ unsigned 32-bit number: @tabby/api's one implementation (allocation-free). */
export { parseIpv4, formatIpv4Number as formatIpv4 } from '@tabby/api';

/** The IPv4 key of (addr, len). */
export function v4Key(addr: number, len: number): number {
  return addr * 64 + len;
}

/**
 * The IPv6 key of a prefix given as four 32-bit words (most significant first) and its length.
 * Allocates one short string, nothing else.
 */
export function v6Key(w0: number, w1: number, w2: number, w3: number, len: number): string {
  const c = String.fromCharCode;
  if (w3 !== 0) return w3 & 0xffff ? c(len, w0 >>> 16, w0 & 0xffff, w1 >>> 16, w1 & 0xffff, w2 >>> 16, w2 & 0xffff, w3 >>> 16, w3 & 0xffff) : c(len, w0 >>> 16, w0 & 0xffff, w1 >>> 16, w1 & 0xffff, w2 >>> 16, w2 & 0xffff, w3 >>> 16);
  if (w2 !== 0) return w2 & 0xffff ? c(len, w0 >>> 16, w0 & 0xffff, w1 >>> 16, w1 & 0xffff, w2 >>> 16, w2 & 0xffff) : c(len, w0 >>> 16, w0 & 0xffff, w1 >>> 16, w1 & 0xffff, w2 >>> 16);
  if (w1 !== 0) return w1 & 0xffff ? c(len, w0 >>> 16, w0 & 0xffff, w1 >>> 16, w1 & 0xffff) : c(len, w0 >>> 16, w0 & 0xffff, w1 >>> 16);
  if (w0 !== 0) return w0 & 0xffff ? c(len, w0 >>> 16, w0 & 0xffff) : c(len, w0 >>> 16);
  return c(len);
}

/** Word `i` (0-3) of an IPv6 key's address, as a signed 32-bit int (missing groups are zero). */
export function v6KeyWord(k: string, i: number): number {
  const j = 1 + 2 * i;
  const n = k.length;
  return j + 1 < n ? (k.charCodeAt(j) << 16) | k.charCodeAt(j + 1) : j < n ? k.charCodeAt(j) << 16 : 0;
}

/** The prefix length of an IPv6 key. */
export function v6KeyLen(k: string): number {
  return k.charCodeAt(0);
}

const v6buf = new Uint8Array(16);

/** The IPv6 key of address text and a length, or undefined when the text is not an IPv6 address. */
export function ipv6Key(addr: string, len: number): string | undefined {
  if (!writeIpv6(addr, v6buf, 0)) return undefined;
  const b = v6buf;
  const w = (i: number): number => ((b[i]! << 24) | (b[i + 1]! << 16) | (b[i + 2]! << 8) | b[i + 3]!) >>> 0;
  return v6Key(w(0), w(4), w(8), w(12), len);
}

function v6KeyAddr(k: string): string {
  const n = k.length;
  for (let i = 0; i < 8; i++) {
    const g = 1 + i < n ? k.charCodeAt(1 + i) : 0;
    v6buf[2 * i] = g >>> 8;
    v6buf[2 * i + 1] = g & 255;
  }
  return formatIpv6(v6buf, 0);
}

/** The key of a prefix (path id ignored); throws a TypeError on a malformed address. */
export function prefixKey(p: Prefix): PrefixKey {
  if (p.afi === 1) {
    const a = parseIpv4(p.addr);
    if (a < 0) throw new TypeError(`malformed IPv4 prefix address "${p.addr}"`);
    return a * 64 + p.len;
  }
  const k = ipv6Key(p.addr, p.len);
  if (k === undefined) throw new TypeError(`malformed IPv6 prefix address "${p.addr}"`);
  return k;
}

/** Turns a key back into a Prefix (with `pathId` when non-zero); IPv6 text is canonical (RFC 5952). */
export function keyToPrefix(key: PrefixKey, pathId = 0): Prefix {
  let p: Prefix;
  if (typeof key === 'number') {
    const addr = Math.floor(key / 64);
    p = { afi: 1, addr: formatIpv4(addr), len: key - addr * 64 };
  } else {
    p = { afi: 2, addr: v6KeyAddr(key), len: v6KeyLen(key) };
  }
  if (pathId !== 0) p.pathId = pathId;
  return p;
}

/** Text form "addr/len" of a key, for logs and status output. */
export function keyToString(key: PrefixKey): string {
  if (typeof key === 'string') return `${v6KeyAddr(key)}/${v6KeyLen(key)}`;
  const addr = Math.floor(key / 64);
  return `${formatIpv4(addr)}/${key - addr * 64}`;
}

/** RFC 5952 canonical text of an IPv6 address; the input unchanged when it does not parse. */
export function canonicalIpv6(addr: string): string {
  const b = new Uint8Array(16);
  return writeIpv6(addr, b, 0) ? formatIpv6(b, 0) : addr;
}

/**
 * Like `prefixKey`, for prefixes typed by people (config). The same function since IPv6 keys are
 * built from the address bits: every spelling of an address gives the same key.
 */
export const userPrefixKey: (p: Prefix) => PrefixKey = prefixKey;

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
