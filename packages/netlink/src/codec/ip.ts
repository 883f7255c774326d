/**
 * IPv4 / IPv6 text ⇄ bytes, without node:net (pure), on top of @tabby/api's one parser and
 * formatter (net/ip-bytes.ts). Parsing validates fully and returns `undefined` on malformed
 * text; formatting follows RFC 5952. Addresses are network byte order.
 */
import { formatIpv4, formatIpv6, writeIpv4, writeIpv6 } from '@tabby/api';

/** An address family as a number: 4 or 6. */
export type IpFamily = 4 | 6;

export { writeIpv4, writeIpv6 } from '@tabby/api';

/** Parses an address of either family; `undefined` when malformed. */
export function parseIp(text: string): { family: IpFamily; bytes: Uint8Array } | undefined {
  if (text.includes(':')) {
    const b = new Uint8Array(16);
    return writeIpv6(text, b, 0) ? { family: 6, bytes: b } : undefined;
  }
  const b = new Uint8Array(4);
  return writeIpv4(text, b, 0) ? { family: 4, bytes: b } : undefined;
}

/** The family of an address text (by the presence of ':'); validation happens when encoding. */
export function familyOf(text: string): IpFamily {
  return text.includes(':') ? 6 : 4;
}

/** Formats 4 or 16 bytes at `off` as text (RFC 5952 for IPv6, as everywhere in Tabby). */
export function formatIp(buf: Uint8Array, off: number, len: number): string {
  return len === 4 ? formatIpv4(buf, off) : formatIpv6(buf, off);
}

/**
 * Splits `addr/len` (len defaults to the full length); `undefined` when malformed. The length
 * is decimal digits only, without sign, spaces or leading zeros, and at most 32 or 128.
 */
export function parsePrefix(text: string): { family: IpFamily; bytes: Uint8Array; len: number } | undefined {
  const slash = text.indexOf('/');
  const ip = parseIp(slash < 0 ? text : text.slice(0, slash));
  if (!ip) return undefined;
  const max = ip.family === 4 ? 32 : 128;
  if (slash < 0) return { ...ip, len: max };
  const lenText = text.slice(slash + 1);
  if (!/^(0|[1-9]\d{0,2})$/.test(lenText)) return undefined;
  const len = Number(lenText);
  return len <= max ? { ...ip, len } : undefined;
}

/** Parses a MAC address `aa:bb:cc:dd:ee:ff` into 6 bytes; `undefined` when malformed. */
export function parseMac(text: string): Uint8Array | undefined {
  const parts = text.split(':');
  if (parts.length !== 6 || !parts.every((p) => /^[0-9a-fA-F]{2}$/.test(p))) return undefined;
  return Uint8Array.from(parts.map((p) => parseInt(p, 16)));
}

/** Formats link-layer address bytes as lower-case colon-separated hex. */
export function formatMac(buf: Uint8Array, off: number, len: number): string {
  const out: string[] = [];
  for (let i = 0; i < len; i++) out.push(buf[off + i]!.toString(16).padStart(2, '0'));
  return out.join(':');
}
