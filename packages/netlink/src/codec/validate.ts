/**
 * Validation of every request before anything is encoded or sent: each field is checked against
 * its wire width and its meaning, so nothing wraps, truncates or defaults silently (a table of -1
 * would otherwise land in the local table, a protocol of 336 would become 80).
 *
 * Rules stated once, here:
 * - Integers are JavaScript numbers that are integers within the field's range (no 1.5, no
 *   NaN, no 2^32 + 3). Interface indexes are 1..2^31-1 (the kernel's ifindex is a positive int).
 * - A route destination is `address/length` (or a bare address: a host route); the length is
 *   decimal without sign, spaces or leading zeros and at most 32 (IPv4) or 128 (IPv6); the host
 *   bits past the length must be zero (`10.1.0.0/16`, not `10.1.2.3/16`), as the kernel itself
 *   demands for IPv4. An interface address keeps its host bits (`10.1.2.3/24` is an address).
 * - Route table: 1..2^32-1 (0 is RT_TABLE_UNSPEC, not a table: omit the field for main).
 * - Every request must be encodable: attributes are at most 65,535 bytes, so a multipath route
 *   holds at most MAX_NEXTHOPS next hops.
 *
 * `checkRequest` throws a NetlinkError (NETLINK_INVALID_REQUEST) naming the field and value.
 */
import { NetlinkError } from '../errors.js';
import type { AddressSpec } from './address.js';
import { checkIfName, invalid } from './common.js';
import { parseIp, parseMac, parsePrefix, type IpFamily } from './ip.js';
import type { LinkChange, LinkKindSpec, LinkSpec, NsTarget } from './link.js';
import type { NeighSpec } from './neigh.js';
import type { Request } from './request.js';
import type { NextHop, RouteSpec } from './route.js';

const U8 = 0xff;
const U16 = 0xffff;
const U32 = 0xffffffff;
const IFINDEX_MAX = 0x7fffffff;
/** Next hops per multipath route: each IPv6 hop is 8 + 20 bytes in a 65,535-byte attribute. */
export const MAX_NEXTHOPS = 2048;

/** Checks that `v` is an integer in [min, max]. */
export function checkInt(field: string, v: unknown, min: number, max: number): void {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) invalid(field, v, `expected an integer ${min}..${max}`);
}

function optInt(field: string, v: unknown, min: number, max: number): void {
  if (v !== undefined) checkInt(field, v, min, max);
}

function optBool(field: string, v: unknown): void {
  if (v !== undefined && typeof v !== 'boolean') invalid(field, v, 'expected true or false');
}

function checkString(field: string, v: unknown): asserts v is string {
  if (typeof v !== 'string') invalid(field, v, 'expected a string');
}

function checkObject(field: string, v: unknown): asserts v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) invalid(field, v, 'expected an object');
}

/** Checks an address of `family` (either family when omitted); returns its family. */
export function checkIp(field: string, v: unknown, family?: IpFamily): IpFamily {
  checkString(field, v);
  const ip = parseIp(v);
  if (!ip) invalid(field, v, 'malformed address');
  if (family !== undefined && ip.family !== family) invalid(field, v, `not an IPv${family} address`);
  return ip.family;
}

/**
 * Parses `addr/len` strictly (see the module header); with `hostBits: 'zero'` the bits past the
 * length must be 0. Returns the family and length.
 */
export function checkPrefix(field: string, v: unknown, hostBits: 'zero' | 'any'): { family: IpFamily; len: number } {
  checkString(field, v);
  const p = parsePrefix(v);
  if (!p) invalid(field, v, 'expected address/length, the length a decimal 0..32 (IPv4) or 0..128 (IPv6)');
  if (hostBits === 'zero' && !hostBitsZero(p.bytes, p.len)) invalid(field, v, `host bits set past /${p.len}; did you mean the network address?`);
  return { family: p.family, len: p.len };
}

function hostBitsZero(bytes: Uint8Array, len: number): boolean {
  for (let bit = len; bit < bytes.length * 8; bit++) {
    if (bytes[bit >> 3]! & (0x80 >> (bit & 7))) return false;
  }
  return true;
}

function checkRoute(r: unknown, op: string): void {
  checkObject('route', r);
  const route = r as unknown as RouteSpec;
  const { family } = checkPrefix('route dst', route.dst, 'zero');
  if (route.type !== undefined && !['unicast', 'local', 'blackhole', 'unreachable', 'prohibit'].includes(route.type)) invalid('route type', route.type, 'expected unicast, local, blackhole, unreachable or prohibit');
  if (route.gateway !== undefined) checkIp('route gateway', route.gateway, family);
  if (route.prefsrc !== undefined) checkIp('route prefsrc', route.prefsrc, family);
  optInt('route oif', route.oif, 1, IFINDEX_MAX);
  optBool('route onlink', route.onlink);
  optInt('route protocol', route.protocol, op === 'del' ? 0 : 1, U8);
  optInt('route scope', route.scope, 0, U8);
  optInt('route table', route.table, 1, U32);
  optInt('route priority', route.priority, 0, U32);
  if (route.multipath !== undefined) checkMultipath(route.multipath, family);
}

function checkMultipath(hops: unknown, family: IpFamily): void {
  if (!Array.isArray(hops) || hops.length === 0) invalid('route multipath', hops, 'expected a non-empty array of next hops');
  if (hops.length > MAX_NEXTHOPS) invalid('route multipath', `${hops.length} next hops`, `at most ${MAX_NEXTHOPS} fit in one route's attributes`);
  hops.forEach((h: unknown, i) => {
    checkObject(`route multipath[${i}]`, h);
    const nh = h as unknown as NextHop;
    if (nh.gateway !== undefined) checkIp(`route multipath[${i}] gateway`, nh.gateway, family);
    optInt(`route multipath[${i}] oif`, nh.oif, 1, IFINDEX_MAX);
    optInt(`route multipath[${i}] weight`, nh.weight, 1, 256);
    optBool(`route multipath[${i}] onlink`, nh.onlink);
  });
}

function checkAddress(a: unknown): void {
  checkObject('address', a);
  const spec = a as unknown as AddressSpec;
  checkInt('address index', spec.index, 1, IFINDEX_MAX);
  const { family } = checkPrefix('address', spec.address, 'any');
  if (spec.peer !== undefined && checkPrefix('address peer', spec.peer, 'any').family !== family) invalid('address peer', spec.peer, `not an IPv${family} address`);
  if (spec.label !== undefined) {
    checkString('address label', spec.label);
    if (spec.label.length === 0 || spec.label.length > 15) invalid('address label', spec.label, 'a label is 1-15 characters');
  }
  optInt('address scope', spec.scope, 0, U8);
}

function checkNeigh(n: unknown): void {
  checkObject('neighbour', n);
  const spec = n as unknown as NeighSpec;
  if (spec.family !== 4 && spec.family !== 6 && spec.family !== 'bridge') invalid('neighbour family', spec.family, "expected 4, 6 or 'bridge'");
  checkInt('neighbour index', spec.index, 1, IFINDEX_MAX);
  if (spec.dst !== undefined) checkIp('neighbour dst', spec.dst, spec.family === 'bridge' ? undefined : spec.family);
  if (spec.lladdr !== undefined) {
    checkString('neighbour lladdr', spec.lladdr);
    if (!parseMac(spec.lladdr)) invalid('neighbour lladdr', spec.lladdr, 'expected aa:bb:cc:dd:ee:ff');
  }
  optInt('neighbour state', spec.state, 0, U16);
  optInt('neighbour flags', spec.flags, 0, U8);
  optInt('neighbour vni', spec.vni, 0, (1 << 24) - 1);
  optInt('neighbour master', spec.master, 1, IFINDEX_MAX);
}

function checkMac(field: string, v: unknown): void {
  if (v === undefined) return;
  checkString(field, v);
  if (!parseMac(v)) invalid(field, v, 'expected aa:bb:cc:dd:ee:ff');
}

function checkNs(field: string, ns: unknown): void {
  if (ns === undefined) return;
  checkObject(field, ns);
  const t = ns as unknown as NsTarget;
  if ('fd' in t) checkInt(`${field} fd`, t.fd, 0, 0x7fffffff);
  else if ('pid' in t) checkInt(`${field} pid`, t.pid, 1, 0x7fffffff);
  else if ('name' in t) checkString(`${field} name`, t.name);
  else invalid(field, ns, 'expected { fd }, { pid } or { name }');
}

/** MTU: the kernel's int; 68 is the IPv4 minimum (RFC 791), the device checks its own maximum. */
const checkMtu = (field: string, v: unknown): void => optInt(field, v, 68, 0x7fffffff);

function checkKind(k: unknown): void {
  checkObject('link info', k);
  const info = k as unknown as LinkKindSpec;
  switch (info.kind) {
    case 'veth':
      checkObject('veth peer', info.peer);
      checkString('veth peer name', info.peer.name);
      checkIfName('veth peer name', info.peer.name);
      checkMtu('veth peer mtu', info.peer.mtu);
      checkMac('veth peer mac', info.peer.mac);
      checkNs('veth peer netns', info.peer.netns);
      return;
    case 'vxlan':
      checkInt('vxlan vni', info.vni, 0, (1 << 24) - 1);
      if (info.local !== undefined) checkIp('vxlan local', info.local);
      optInt('vxlan port', info.port, 1, U16);
      optInt('vxlan dev', info.dev, 1, IFINDEX_MAX);
      optBool('vxlan learning', info.learning);
      return;
    case 'ipip':
      if (info.local !== undefined) checkIp('ipip local', info.local, 4);
      if (info.remote !== undefined) checkIp('ipip remote', info.remote, 4);
      optInt('ipip dev', info.dev, 1, IFINDEX_MAX);
      optInt('ipip ttl', info.ttl, 0, U8);
      optBool('ipip pmtudisc', info.pmtudisc);
      return;
    case 'dummy':
    case 'bridge':
      return;
    default:
      invalid('link kind', (info as { kind?: unknown }).kind, 'expected veth, vxlan, ipip, dummy or bridge');
  }
}

function checkLinkAdd(l: unknown): void {
  checkObject('link', l);
  const spec = l as unknown as LinkSpec;
  checkString('link name', spec.name);
  checkIfName('link name', spec.name);
  checkMtu('link mtu', spec.mtu);
  checkMac('link mac', spec.mac);
  optBool('link up', spec.up);
  optInt('link master', spec.master, 1, IFINDEX_MAX);
  checkNs('link netns', spec.netns);
  checkKind(spec.info);
}

function checkLinkSet(c: unknown): void {
  checkObject('link', c);
  const ch = c as unknown as LinkChange;
  if (ch.index === undefined && ch.name === undefined) invalid('link', c, 'needs index or name');
  optInt('link index', ch.index, 1, IFINDEX_MAX);
  if (ch.name !== undefined) {
    checkString('link name', ch.name);
    checkIfName('link name', ch.name);
  }
  if (ch.newName !== undefined) {
    checkString('link newName', ch.newName);
    checkIfName('link newName', ch.newName);
    if (ch.index === undefined) invalid('link newName', ch.newName, 'renaming needs the index');
  }
  optBool('link up', ch.up);
  checkMtu('link mtu', ch.mtu);
  checkMac('link mac', ch.mac);
  optInt('link master', ch.master, 0, IFINDEX_MAX); // 0 detaches from the master
  checkNs('link netns', ch.netns);
}

/** Checks a link reference (for get and delete). */
export function checkLinkRef(ref: unknown): void {
  checkObject('link', ref);
  const r = ref as { index?: unknown; name?: unknown };
  if (r.index === undefined && r.name === undefined) invalid('link', ref, 'needs index or name');
  if (r.index !== undefined) checkInt('link index', r.index, 1, IFINDEX_MAX);
  if (r.name !== undefined) {
    checkString('link name', r.name);
    checkIfName('link name', r.name);
  }
}

/** Throws NETLINK_INVALID_REQUEST when any field of `req` is malformed or out of range. */
export function checkRequest(req: unknown): void {
  checkObject('request', req);
  const r = req as unknown as Request;
  switch (r.kind) {
    case 'route':
      if (r.op !== 'add' && r.op !== 'replace' && r.op !== 'del') return invalid('route op', r.op, 'expected add, replace or del');
      return checkRoute(r.route, r.op);
    case 'address':
      if (r.op !== 'add' && r.op !== 'del') return invalid('address op', r.op, 'expected add or del');
      return checkAddress(r.address);
    case 'neigh':
      if (!['add', 'replace', 'append', 'del'].includes(r.op)) return invalid('neighbour op', r.op, 'expected add, replace, append or del');
      return checkNeigh(r.neigh);
    case 'link':
      switch (r.op) {
        case 'add':
          return checkLinkAdd(r.link);
        case 'set':
          return checkLinkSet(r.link);
        case 'del':
          return checkLinkRef(r.link);
        default:
          return invalid('link op', (r as { op?: unknown }).op, 'expected add, set or del');
      }
    default:
      invalid('request kind', (r as { kind?: unknown }).kind, 'expected route, address, neigh or link');
  }
}

/** `checkRequest` as a result: the error, or undefined when the request is valid. */
export function requestError(req: unknown): NetlinkError | undefined {
  try {
    checkRequest(req);
    return undefined;
  } catch (e: unknown) {
    if (e instanceof NetlinkError) return e;
    return new NetlinkError('NETLINK_INVALID_REQUEST', `request: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
}
