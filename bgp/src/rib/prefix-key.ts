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
import type { Family, Prefix } from '../codec/types.js';

/** An IPv4 key (number) or IPv6 key (string). */
export type PrefixKey = number | string;

/** Parses dotted-quad text into an unsigned 32-bit number; -1 if malformed. Allocation-free. */
export function parseIpv4(s: string): number {
  let acc = 0;
  let part = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || dots === 3) return -1;
      acc = acc * 256 + part;
      part = 0;
      digits = 0;
      dots++;
    } else if (c >= 48 && c <= 57) {
      part = part * 10 + (c - 48);
      if (++digits > 3 || part > 255) return -1;
    } else return -1;
  }
  if (dots !== 3 || digits === 0) return -1;
  return acc * 256 + part;
}

const OCTET_DOT: string[] = [];
const OCTET: string[] = [];
for (let i = 0; i < 256; i++) {
  OCTET.push(String(i));
  OCTET_DOT.push(`${i}.`);
}

/** Formats an unsigned 32-bit number as dotted-quad text (table-driven: ~2x a template literal). */
export function formatIpv4(n: number): string {
  return OCTET_DOT[(n >>> 24) & 255]! + OCTET_DOT[(n >>> 16) & 255]! + OCTET_DOT[(n >>> 8) & 255]! + OCTET[n & 255]!;
}

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

/**
 * RFC 5952 canonical text of an IPv6 address (lower case, leading zeros dropped, the longest
 * run of two or more zero groups as "::"); the input unchanged when it does not parse.
 */
export function canonicalIpv6(addr: string): string {
  const groups = expandIpv6(addr.toLowerCase());
  if (!groups) return addr;
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j === i ? i + 1 : j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}

function expandIpv6(a: string): number[] | undefined {
  const dbl = a.indexOf('::');
  if (dbl !== a.lastIndexOf('::')) return undefined;
  const parse = (part: string): number[] | undefined => {
    if (part === '') return [];
    const out: number[] = [];
    const pieces = part.split(':');
    for (let i = 0; i < pieces.length; i++) {
      const x = pieces[i]!;
      if (i === pieces.length - 1 && x.includes('.')) {
        const v4 = parseIpv4(x); // RFC 4291 §2.2 form 3: trailing dotted quad
        if (v4 < 0) return undefined;
        out.push(Math.floor(v4 / 65536), v4 % 65536);
      } else if (/^[0-9a-f]{1,4}$/.test(x)) out.push(parseInt(x, 16));
      else return undefined;
    }
    return out;
  };
  if (dbl < 0) {
    const g = parse(a);
    return g && g.length === 8 ? g : undefined;
  }
  const head = parse(a.slice(0, dbl));
  const tail = parse(a.slice(dbl + 2));
  if (!head || !tail || head.length + tail.length > 7) return undefined;
  return [...head, ...Array<number>(8 - head.length - tail.length).fill(0), ...tail];
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
