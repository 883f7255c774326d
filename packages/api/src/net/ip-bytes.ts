/**
 * IP address text ⇄ bytes, for every layer that handles wire formats (the BGP codec, the
 * netlink codec) and for the bigint forms of ./cidr.ts: one parser and one formatter, so that
 * keys agree everywhere. No bigints or per-call arrays on the IPv4 path (the hot path of BGP
 * UPDATE decoding).
 *
 * Invariants: IPv4 text is a dotted quad without leading zeros (leading zeros are rejected:
 * ambiguous octal); IPv6 text is RFC 5952 §4 canonical (lowercase, no leading zeros, the
 * longest run of ≥2 zero groups as "::", the first of equal runs), with IPv4-mapped addresses
 * as "::ffff:a.b.c.d" (RFC 5952 §5). Parsing accepts RFC 4291 §2.2 text, including an
 * embedded IPv4 tail.
 */
/** "0".."255", indexed by octet value. */
export const OCTET_TEXT: readonly string[] = Array.from({ length: 256 }, (_, i) => String(i));

/** Dotted-quad text of the 4 octets at `off`. */
export function formatIpv4(b: Uint8Array, off: number): string {
  return OCTET_TEXT[b[off]!] + '.' + OCTET_TEXT[b[off + 1]!] + '.' + OCTET_TEXT[b[off + 2]!] + '.' + OCTET_TEXT[b[off + 3]!];
}

/** Dotted-quad text of a 32-bit unsigned value. */
export function formatIpv4Number(v: number): string {
  return OCTET_TEXT[(v >>> 24) & 255] + '.' + OCTET_TEXT[(v >>> 16) & 255] + '.' + OCTET_TEXT[(v >>> 8) & 255] + '.' + OCTET_TEXT[v & 255];
}

/** RFC 5952 canonical text of the 16 octets at `off`. */
export function formatIpv6(b: Uint8Array, off: number): string {
  const g = new Array<number>(8);
  for (let i = 0; i < 8; i++) g[i] = (b[off + 2 * i]! << 8) | b[off + 2 * i + 1]!;
  // RFC 5952 §5: IPv4-mapped addresses keep their dotted-quad tail.
  if (g[0] === 0 && g[1] === 0 && g[2] === 0 && g[3] === 0 && g[4] === 0 && g[5] === 0xffff) {
    return '::ffff:' + formatIpv4(b, off + 12);
  }
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    // RFC 5952 §4.2.3: the first of equally long runs is shortened.
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  // RFC 5952 §4.2.2: a single zero group is not shortened.
  if (bestLen < 2) return hexGroups(g, 0, 8);
  return hexGroups(g, 0, bestStart) + '::' + hexGroups(g, bestStart + bestLen, 8);
}

function hexGroups(g: number[], from: number, to: number): string {
  let s = '';
  for (let i = from; i < to; i++) s += (i > from ? ':' : '') + g[i]!.toString(16);
  return s;
}

/** Parses dotted-quad text into a 32-bit unsigned value; -1 when invalid. */
export function parseIpv4(text: string): number {
  let v = 0;
  let octet = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || dots === 3) return -1;
      v = v * 256 + octet;
      octet = 0;
      digits = 0;
      dots++;
    } else if (c >= 48 && c <= 57) {
      // Leading zeros are ambiguous (octal?) and rejected.
      if (digits > 0 && octet === 0) return -1;
      octet = octet * 10 + (c - 48);
      if (++digits > 3 || octet > 255) return -1;
    } else {
      return -1;
    }
  }
  if (dots !== 3 || digits === 0) return -1;
  return v * 256 + octet;
}

/** Writes the IPv4 address `text` at `out[off..off+4)`; false when `text` is not one. */
export function writeIpv4(text: string, out: Uint8Array, off: number): boolean {
  const v = parseIpv4(text);
  if (v < 0) return false;
  out[off] = v >>> 24;
  out[off + 1] = (v >>> 16) & 255;
  out[off + 2] = (v >>> 8) & 255;
  out[off + 3] = v & 255;
  return true;
}

function parseGroups(text: string, out: number[]): boolean {
  if (text === '') return true;
  const parts = text.split(':');
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i]!;
    if (i === parts.length - 1 && p.includes('.')) {
      const v4 = parseIpv4(p);
      if (v4 < 0) return false;
      out.push(v4 >>> 16, v4 & 0xffff);
    } else {
      if (!/^[0-9a-fA-F]{1,4}$/.test(p)) return false;
      out.push(parseInt(p, 16));
    }
  }
  return true;
}

/** Writes the IPv6 address `text` at `out[off..off+16)`; false when `text` is not one. */
export function writeIpv6(text: string, out: Uint8Array, off: number): boolean {
  const halves = text.split('::');
  if (halves.length > 2) return false;
  const head: number[] = [];
  const tail: number[] = [];
  if (!parseGroups(halves[0]!, head)) return false;
  let groups: number[];
  if (halves.length === 2) {
    if (halves[0]!.includes('.') || !parseGroups(halves[1]!, tail)) return false;
    const missing = 8 - head.length - tail.length;
    if (missing < 1) return false;
    groups = head.concat(new Array<number>(missing).fill(0), tail);
  } else {
    if (head.length !== 8) return false;
    groups = head;
  }
  for (let i = 0; i < 8; i++) {
    out[off + 2 * i] = groups[i]! >>> 8;
    out[off + 2 * i + 1] = groups[i]! & 255;
  }
  return true;
}
