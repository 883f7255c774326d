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

const DEC_OCTET = /^(0|[1-9][0-9]{0,2})$/;
const HEX_GROUP = /^[0-9a-fA-F]{1,4}$/;

function parseV4(text: string): bigint | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  let v = 0n;
  for (const p of parts) {
    if (!DEC_OCTET.test(p)) return undefined;
    const n = Number(p);
    if (n > 255) return undefined;
    v = (v << 8n) | BigInt(n);
  }
  return v;
}

function parseGroups(text: string): number[] | undefined {
  if (text === '') return [];
  const out: number[] = [];
  const parts = text.split(':');
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i] as string;
    if (i === parts.length - 1 && p.includes('.')) {
      const v4 = parseV4(p);
      if (v4 === undefined) return undefined;
      out.push(Number(v4 >> 16n), Number(v4 & 0xffffn));
    } else {
      if (!HEX_GROUP.test(p)) return undefined;
      out.push(parseInt(p, 16));
    }
  }
  return out;
}

function parseV6(text: string): bigint | undefined {
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  let groups: number[];
  if (halves.length === 2) {
    const head = parseGroups(halves[0] as string);
    const tail = parseGroups(halves[1] as string);
    if (!head || !tail) return undefined;
    // The IPv4 tail may only appear in the last part.
    if ((halves[0] as string).includes('.')) return undefined;
    const missing = 8 - head.length - tail.length;
    if (missing < 1) return undefined;
    groups = [...head, ...new Array<number>(missing).fill(0), ...tail];
  } else {
    const all = parseGroups(text);
    if (!all || all.length !== 8) return undefined;
    groups = all;
  }
  let v = 0n;
  for (const g of groups) v = (v << 16n) | BigInt(g);
  return v;
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

function formatV4(addr: bigint): string {
  const o: number[] = [];
  for (let s = 24n; s >= 0n; s -= 8n) o.push(Number((addr >> s) & 0xffn));
  return o.join('.');
}

/** RFC 5952 §4: lowercase, no leading zeros, the longest run (≥2) of zero groups as `::`. */
function formatV6(addr: bigint): string {
  const g: number[] = [];
  for (let s = 112n; s >= 0n; s -= 16n) g.push(Number((addr >> s) & 0xffffn));
  // RFC 5952 §5: IPv4-mapped addresses keep their dotted-quad tail.
  if (g.slice(0, 5).every((x) => x === 0) && g[5] === 0xffff) {
    return `::ffff:${formatV4(addr & 0xffffffffn)}`;
  }
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    // RFC 5952 §4.2.3: the first of equally long runs is shortened.
    if (j - i > bestLen) { bestStart = i; bestLen = j - i; }
    i = j;
  }
  const hex = (xs: number[]): string => xs.map((x) => x.toString(16)).join(':');
  // RFC 5952 §4.2.2: a single zero group is not shortened.
  if (bestLen < 2) return hex(g);
  return `${hex(g.slice(0, bestStart))}::${hex(g.slice(bestStart + bestLen))}`;
}

/** Formats an address: dotted quad for IPv4, RFC 5952 canonical text for IPv6. */
export function formatIp(family: IpFamily, addr: bigint): string {
  return family === 4 ? formatV4(addr) : formatV6(addr);
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
