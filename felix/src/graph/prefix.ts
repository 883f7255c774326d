/**
 * Fast prefix arithmetic for the graph's hot paths: IPv4 in plain numbers (no bigint, no
 * allocation beyond the result), IPv6 through @tabby/api's general CIDR code. Every route
 * destination the graph keys on goes through `canonical` once.
 */
import { canonicalCidr, cidrContains, formatIpv4Number, parseIpv4, tryParseCidr } from '@tabby/api';

/** A parsed prefix: IPv4 as numbers, IPv6 as the canonical text (handled by the slow path). */
export interface Prefix {
  v4: boolean;
  /** IPv4 network address as an unsigned 32-bit number. */
  net: number;
  len: number;
  text: string;
}

function mask(len: number): number {
  return len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0;
}

/** Parses `addr/len` or a bare address (a host prefix), clearing host bits; undefined when invalid. */
export function parsePrefix(text: string): Prefix | undefined {
  const slash = text.indexOf('/');
  const addr = slash < 0 ? text : text.slice(0, slash);
  if (!addr.includes(':')) {
    const v = parseIpv4(addr);
    if (v < 0) return undefined;
    const lenText = slash < 0 ? '32' : text.slice(slash + 1);
    const len = /^(0|[1-9]\d?)$/.test(lenText) ? Number(lenText) : -1;
    if (len < 0 || len > 32) return undefined;
    const net = (v & mask(len)) >>> 0;
    return { v4: true, net, len, text: `${formatIpv4Number(net)}/${len}` };
  }
  const c = tryParseCidr(slash < 0 ? `${text}/128` : text);
  return c && { v4: false, net: 0, len: c.prefixLen, text: c.text };
}

/** Canonical text of a prefix (host bits cleared); throws like @tabby/api's canonicalCidr when invalid. */
export function canonical(text: string): string {
  return parsePrefix(text)?.text ?? canonicalCidr(text);
}

/** True when `inner` lies within `outer`. */
export function contains(outer: Prefix, inner: Prefix): boolean {
  if (outer.v4 !== inner.v4 || inner.len < outer.len) return false;
  if (outer.v4) return ((inner.net & mask(outer.len)) >>> 0) === outer.net;
  return cidrContains(outer.text, inner.text);
}

/** The network of `p` at the shorter length `len` (canonical text). */
export function networkAt(p: Prefix, len: number): string {
  if (p.v4) return `${formatIpv4Number((p.net & mask(len)) >>> 0)}/${len}`;
  const c = tryParseCidr(`${p.text.split('/')[0]}/${len}`);
  return c ? c.text : '';
}
