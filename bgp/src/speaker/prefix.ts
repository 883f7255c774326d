/**
 * CIDR text → the codec's `Prefix`, with an IPv4 fast path (a character scan, no regex, no
 * bigint: a configuration may originate a million prefixes). Host bits are cleared.
 */
import { parseCidr } from '@tabby/api';
import type { Prefix } from '../codec/types.js';

/** IPv4 "a.b.c.d/len" scanned by hand; undefined when `s` is not one. */
function scanV4(s: string): Prefix | undefined {
  let v = 0;
  let octet = -1;
  let dots = 0;
  let i = 0;
  for (; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      octet = octet < 0 ? c - 48 : octet * 10 + c - 48;
      if (octet > 255) return undefined;
    } else if (c === 46 && octet >= 0 && dots < 3) {
      v = v * 256 + octet;
      octet = -1;
      dots++;
    } else break;
  }
  if (dots !== 3 || octet < 0 || s.charCodeAt(i) !== 47) return undefined;
  v = v * 256 + octet;
  const lenText = s.slice(i + 1);
  const len = Number(lenText);
  if (lenText.length === 0 || lenText.length > 2 || !Number.isInteger(len) || len > 32) return undefined;
  const mask = len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0;
  const a = (v & mask) >>> 0;
  const addr = a === v ? s.slice(0, i) : `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`;
  return { afi: 1, addr, len };
}

/** Parses CIDR text into the codec's Prefix (host bits cleared). Throws on invalid text. */
export function toPrefix(cidr: string): Prefix {
  const p = scanV4(cidr);
  if (p) return p;
  const c = parseCidr(cidr);
  return { afi: c.family === 4 ? 1 : 2, addr: c.text.slice(0, c.text.indexOf('/')), len: c.prefixLen };
}
