/**
 * IPv4 and IPv6 addresses and CIDRs as bigints: parsing, canonical text, containment, sizes and
 * indexing. Pure; used by IPAM, BGP and felix.
 *
 * Invariants: a parsed `Cidr` always has its host bits cleared (`addr` is the network address)
 * and `text` is its canonical form: dotted quad for IPv4, RFC 5952 text for IPv6, then
 * `/prefixLen`. Addresses are never zone-scoped. IPv4 octets with leading zeros are rejected
 * (as Go's net.ParseIP does) because their meaning (octal or decimal) is ambiguous.
 */
import { TabbyError } from '../errors.js';
import { formatIpv4Number, formatIpv6, parseIpv4, writeIpv6 } from './ip-bytes.js';

/** The address family: 4 or 6. */
export type IpFamily = 4 | 6;

/** A parsed IP address. */
export interface IpAddress {
  family: IpFamily;
  addr: bigint;
}

/** A parsed CIDR: network address (host bits zero), prefix length and canonical text. */
export interface Cidr {
  family: IpFamily;
  addr: bigint;
  prefixLen: number;
  /** Canonical text, e.g. `10.0.0.0/24` or `fd00::/64`. */
  text: string;
}

/** Either a CIDR's text or a parsed CIDR. */
export type CidrLike = string | Cidr;
/** Either an address's text or a parsed address. */
export type IpLike = string | IpAddress;

/** Error codes thrown by this module. */
export type CidrErrorCode = 'InvalidCidr' | 'InvalidIp';

/** Number of bits in an address of `family`. */
export function familyBits(family: IpFamily): number {
  return family === 4 ? 32 : 128;
}

/** The address as an unsigned integer, from its network-order bytes. */
function bytesToBigint(b: Uint8Array): bigint {
  let v = 0n;
  for (const x of b) v = (v << 8n) | BigInt(x);
  return v;
}

function bigintToBytes(addr: bigint, len: number): Uint8Array {
  const b = new Uint8Array(len);
  for (let i = len - 1; i >= 0; i--, addr >>= 8n) b[i] = Number(addr & 0xffn);
  return b;
}

function parseV4(text: string): bigint | undefined {
  const v = parseIpv4(text);
  return v < 0 ? undefined : BigInt(v);
}

function parseV6(text: string): bigint | undefined {
  const b = new Uint8Array(16);
  return writeIpv6(text, b, 0) ? bytesToBigint(b) : undefined;
}

/** Parses an address, or returns undefined when `text` is not one. */
export function tryParseIp(text: string): IpAddress | undefined {
  if (text.includes(':')) {
    const addr = parseV6(text);
    return addr === undefined ? undefined : { family: 6, addr };
  }
  const addr = parseV4(text);
  return addr === undefined ? undefined : { family: 4, addr };
}

/** Parses an IPv4 or IPv6 address; throws TabbyError 'InvalidIp'. */
export function parseIp(text: string): IpAddress {
  const ip = tryParseIp(text);
  if (!ip) {
    throw new TabbyError<CidrErrorCode>('InvalidIp', `"${text}" is not a valid IPv4 or IPv6 address`, { value: text });
  }
  return ip;
}

/** True when `text` is a valid IPv4 or IPv6 address. */
export function isIp(text: string): boolean {
  return tryParseIp(text) !== undefined;
}

/** Formats an address: dotted quad for IPv4, RFC 5952 canonical text for IPv6. */
export function formatIp(family: IpFamily, addr: bigint): string {
  return family === 4 ? formatIpv4Number(Number(addr)) : formatIpv6(bigintToBytes(addr, 16), 0);
}

/** The canonical text of an address given as text (throws 'InvalidIp'). */
export function canonicalIp(text: string): string {
  const ip = parseIp(text);
  return formatIp(ip.family, ip.addr);
}

/** A mask with the top `prefixLen` bits of a `family` address set. */
export function prefixMask(family: IpFamily, prefixLen: number): bigint {
  const bits = BigInt(familyBits(family));
  const all = (1n << bits) - 1n;
  return all ^ ((1n << (bits - BigInt(prefixLen))) - 1n);
}

/** Builds a CIDR from parts, clearing host bits. */
export function makeCidr(family: IpFamily, addr: bigint, prefixLen: number): Cidr {
  const net = addr & prefixMask(family, prefixLen);
  return { family, addr: net, prefixLen, text: `${formatIp(family, net)}/${prefixLen}` };
}

function cidrError(text: string, why: string): TabbyError<CidrErrorCode> {
  return new TabbyError<CidrErrorCode>('InvalidCidr', `"${text}" is not a valid CIDR: ${why}`, { value: text });
}

/**
 * Parses `addr/len` (IPv4 or IPv6). Host bits are cleared, so `10.0.0.1/24` parses as
 * `10.0.0.0/24`; use `isCanonicalCidr` to reject such input. Throws TabbyError 'InvalidCidr'.
 */
export function parseCidr(text: string): Cidr {
  if (typeof text !== 'string') throw cidrError(String(text), 'expected a string');
  const slash = text.indexOf('/');
  if (slash < 0) throw cidrError(text, 'missing "/prefix-length" (for example 10.0.0.0/24)');
  const ipText = text.slice(0, slash);
  const lenText = text.slice(slash + 1);
  const ip = tryParseIp(ipText);
  if (!ip) throw cidrError(text, `"${ipText}" is not an IPv4 or IPv6 address`);
  const max = familyBits(ip.family);
  if (!/^(0|[1-9][0-9]{0,2})$/.test(lenText) || Number(lenText) > max) {
    throw cidrError(text, `prefix length "${lenText}" must be a number from 0 to ${max}`);
  }
  return makeCidr(ip.family, ip.addr, Number(lenText));
}

/** Parses a CIDR, or returns undefined when `text` is not one. */
export function tryParseCidr(text: string): Cidr | undefined {
  try {
    return parseCidr(text);
  } catch {
    return undefined;
  }
}

/** Parses a CIDR, or a bare address as a host route (/32 or /128). */
export function parseCidrOrIp(text: string): Cidr {
  if (text.includes('/')) return parseCidr(text);
  const ip = tryParseIp(text);
  if (!ip) throw cidrError(text, 'neither an address nor address/prefix-length');
  return makeCidr(ip.family, ip.addr, familyBits(ip.family));
}

/** True when `text` parses as a CIDR. */
export function isCidr(text: string): boolean {
  return tryParseCidr(text) !== undefined;
}

/** True when `text` is a CIDR whose host bits are zero (its address is the network address). */
export function isCanonicalCidr(text: string): boolean {
  const slash = text.indexOf('/');
  const c = tryParseCidr(text);
  if (!c || slash < 0) return false;
  return parseIp(text.slice(0, slash)).addr === c.addr;
}

/** The canonical text of a CIDR given as text (host bits cleared; throws 'InvalidCidr'). */
export function canonicalCidr(text: string): string {
  return parseCidr(text).text;
}

function toCidr(c: CidrLike): Cidr {
  return typeof c === 'string' ? parseCidr(c) : c;
}

function toCidrOrHost(c: CidrLike | IpLike): Cidr {
  if (typeof c === 'string') return parseCidrOrIp(c);
  if ('prefixLen' in c) return c;
  return makeCidr(c.family, c.addr, familyBits(c.family));
}

/** The number of addresses in a CIDR. */
export function cidrSize(c: CidrLike): bigint {
  const cidr = toCidr(c);
  return 1n << BigInt(familyBits(cidr.family) - cidr.prefixLen);
}

/** The last address of a CIDR (the broadcast address for IPv4). */
export function cidrLast(c: CidrLike): bigint {
  const cidr = toCidr(c);
  return cidr.addr + cidrSize(cidr) - 1n;
}

/** True when `inner` (a CIDR or an address) lies entirely within `outer`. Families must match. */
export function cidrContains(outer: CidrLike, inner: CidrLike | IpLike): boolean {
  const o = toCidr(outer);
  const i = toCidrOrHost(inner);
  if (o.family !== i.family || i.prefixLen < o.prefixLen) return false;
  return (i.addr & prefixMask(o.family, o.prefixLen)) === o.addr;
}

/** True when two CIDRs share at least one address. */
export function cidrOverlaps(a: CidrLike, b: CidrLike): boolean {
  return cidrContains(a, b) || cidrContains(b, a);
}

/** The `n`th address of a CIDR (0 = network address), as canonical text. Throws when out of range. */
export function nthAddress(c: CidrLike, n: number | bigint): string {
  return formatIp(toCidr(c).family, nthAddressValue(c, n));
}

/** The `n`th address of a CIDR as a bigint. Throws 'InvalidIp' when out of range. */
export function nthAddressValue(c: CidrLike, n: number | bigint): bigint {
  const cidr = toCidr(c);
  const i = BigInt(n);
  if (i < 0n || i >= cidrSize(cidr)) {
    throw new TabbyError<CidrErrorCode>('InvalidIp', `address index ${i} is outside ${cidr.text} (size ${cidrSize(cidr)})`, { cidr: cidr.text });
  }
  return cidr.addr + i;
}

/**
 * The offset of `ip` within `c` (0 = network address). Throws 'InvalidIp' when the address is not
 * in the CIDR or the offset exceeds Number.MAX_SAFE_INTEGER.
 */
export function addressIndex(c: CidrLike, ip: IpLike): number {
  const cidr = toCidr(c);
  const a = typeof ip === 'string' ? parseIp(ip) : ip;
  if (!cidrContains(cidr, a)) {
    throw new TabbyError<CidrErrorCode>('InvalidIp', `${formatIp(a.family, a.addr)} is not in ${cidr.text}`, { cidr: cidr.text });
  }
  const off = a.addr - cidr.addr;
  if (off > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new TabbyError<CidrErrorCode>('InvalidIp', `offset of ${formatIp(a.family, a.addr)} in ${cidr.text} is too large`, { cidr: cidr.text });
  }
  return Number(off);
}

/** How many subnets of length `prefixLen` `c` holds (0 when `prefixLen` is shorter than c's). */
export function subnetCount(c: CidrLike, prefixLen: number): bigint {
  const cidr = toCidr(c);
  if (prefixLen < cidr.prefixLen || prefixLen > familyBits(cidr.family)) return 0n;
  return 1n << BigInt(prefixLen - cidr.prefixLen);
}

/** The `n`th subnet of length `prefixLen` inside `c` (e.g. the IPAM blocks of a pool). */
export function nthSubnet(c: CidrLike, prefixLen: number, n: number | bigint): Cidr {
  const cidr = toCidr(c);
  const i = BigInt(n);
  if (i < 0n || i >= subnetCount(cidr, prefixLen)) {
    throw new TabbyError<CidrErrorCode>('InvalidCidr', `subnet /${prefixLen} #${i} is outside ${cidr.text}`, { cidr: cidr.text });
  }
  const step = 1n << BigInt(familyBits(cidr.family) - prefixLen);
  return makeCidr(cidr.family, cidr.addr + i * step, prefixLen);
}

/** Orders addresses: IPv4 before IPv6, then numerically. */
export function compareIp(a: IpAddress, b: IpAddress): number {
  if (a.family !== b.family) return a.family - b.family;
  return a.addr < b.addr ? -1 : a.addr > b.addr ? 1 : 0;
}

/** Orders CIDRs: by family, network address, then prefix length. */
export function compareCidr(a: Cidr, b: Cidr): number {
  return compareIp(a, b) || a.prefixLen - b.prefixLen;
}
