/**
 * rtmsg codec (RTM_NEWROUTE / RTM_DELROUTE / RTM_GETROUTE), IPv4 and IPv6.
 *
 * struct rtmsg (rtnetlink.h): u8 family, dst_len, src_len, tos, table, protocol, scope, type;
 * u32 flags. Tables above 255 go in RTA_TABLE with rtm_table = RT_TABLE_UNSPEC (as iproute2
 * does). Scope defaults as in iproute2: link for a unicast route with neither gateway nor
 * multipath, universe otherwise, and "nowhere" (a wildcard) on delete.
 */
import { afOf, invalid, ipFamilyOf } from './common.js';
import * as C from './constants.js';
import { familyOf, formatIp, parsePrefix, type IpFamily } from './ip.js';
import { forEachAttr, u16, u32, DecodeError, type NlMsg } from './reader.js';
import type { NlWriter } from './writer.js';

/** Route types this package programs; other kernel types decode as `other`. */
export type RouteType = 'unicast' | 'local' | 'blackhole' | 'unreachable' | 'prohibit' | 'other';

const typeNum: Record<Exclude<RouteType, 'other'>, number> = {
  unicast: C.RTN_UNICAST,
  local: C.RTN_LOCAL,
  blackhole: C.RTN_BLACKHOLE,
  unreachable: C.RTN_UNREACHABLE,
  prohibit: C.RTN_PROHIBIT,
};

/** Decodes rtm_type. */
export function routeTypeName(n: number): RouteType {
  switch (n) {
    case C.RTN_UNICAST: return 'unicast';
    case C.RTN_LOCAL: return 'local';
    case C.RTN_BLACKHOLE: return 'blackhole';
    case C.RTN_UNREACHABLE: return 'unreachable';
    case C.RTN_PROHIBIT: return 'prohibit';
    default: return 'other';
  }
}

/** One path of a multipath route (struct rtnexthop + RTA_GATEWAY). */
export interface NextHop {
  gateway?: string;
  oif?: number;
  /** 1..256 (rtnh_hops + 1). */
  weight?: number;
  onlink?: boolean;
}

/** A route to program: `dst` is `addr/len` (or a bare address for a host route). */
export interface RouteSpec {
  dst: string;
  type?: RouteType;
  gateway?: string;
  oif?: number;
  onlink?: boolean;
  /** rtm_protocol; RTPROT_BOOT (3) when omitted on add, like iproute2. Tabby uses 80. */
  protocol?: number;
  /** rtm_scope; see the module header for the default. */
  scope?: number;
  /** Table id, main (254) by default; ids above 255 use RTA_TABLE. */
  table?: number;
  /** RTA_PRIORITY, the metric. */
  priority?: number;
  /** RTA_PREFSRC. */
  prefsrc?: string;
  multipath?: NextHop[];
}

/** A route read from the kernel. */
export interface Route {
  family: IpFamily;
  /** `addr/len`; the default route is `0.0.0.0/0` or `::/0`. */
  dst: string;
  type: RouteType;
  /** Raw rtm_type (for `other`). */
  typeNum: number;
  table: number;
  protocol: number;
  scope: number;
  flags: number;
  onlink: boolean;
  gateway?: string;
  oif?: number;
  priority?: number;
  prefsrc?: string;
  multipath?: NextHop[];
}

/** Which route request: add (create, fail if exists), replace (create or replace), del. */
export type RouteOp = 'add' | 'replace' | 'del';

/** Encodes one route request as a message with `seq`; `ack` adds NLM_F_ACK. */
export function encodeRoute(w: NlWriter, op: RouteOp, r: RouteSpec, seq: number, ack = true): void {
  const p = parsePrefix(r.dst);
  if (!p) return invalid('route dst', r.dst, 'expected address/length');
  const { family, len: dstLen } = p;
  const type = r.type ?? 'unicast';
  if (type === 'other' || typeNum[type] === undefined) invalid('route type', type, 'cannot program a route of this type');
  const base = C.NLM_F_REQUEST | (ack ? C.NLM_F_ACK : 0);
  const flags = op === 'add' ? base | C.NLM_F_CREATE | C.NLM_F_EXCL : op === 'replace' ? base | C.NLM_F_CREATE | C.NLM_F_REPLACE : base;
  const start = w.beginMsg(op === 'del' ? C.RTM_DELROUTE : C.RTM_NEWROUTE, flags, seq);
  const h = w.zeros(C.RTMSG_LEN);
  const table = r.table ?? C.RT_TABLE_MAIN;
  w.u8At(h, afOf(family));
  w.u8At(h + 1, dstLen);
  w.u8At(h + 4, table < 256 ? table : C.RT_TABLE_UNSPEC);
  const del = op === 'del';
  w.u8At(h + 5, r.protocol ?? (del ? 0 : 3));
  const noNexthop = r.gateway === undefined && r.multipath === undefined;
  w.u8At(h + 6, r.scope ?? (del ? C.RT_SCOPE_NOWHERE : type === 'unicast' && noNexthop ? C.RT_SCOPE_LINK : C.RT_SCOPE_UNIVERSE));
  w.u8At(h + 7, del && r.type === undefined ? 0 : typeNum[type]);
  if (r.onlink) w.u32At(h + 8, C.RTNH_F_ONLINK);
  if (table >= 256) w.attrU32(C.RTA_TABLE, table);
  if (dstLen > 0) w.attrBytes(C.RTA_DST, p.bytes);
  if (r.priority !== undefined) w.attrU32(C.RTA_PRIORITY, r.priority);
  if (r.prefsrc !== undefined) addr(w, C.RTA_PREFSRC, family, r.prefsrc, 'route prefsrc');
  if (r.gateway !== undefined) addr(w, C.RTA_GATEWAY, family, r.gateway, 'route gateway');
  if (r.oif !== undefined) w.attrU32(C.RTA_OIF, r.oif);
  if (r.multipath !== undefined) encodeMultipath(w, family, r.multipath);
  w.endMsg(start);
}

function addr(w: NlWriter, type: number, family: IpFamily, text: string, field: string): void {
  if (familyOf(text) !== family) invalid(field, text, `not an IPv${family} address`);
  if (!w.attrIp(type, family, text)) invalid(field, text, 'malformed address');
}

function encodeMultipath(w: NlWriter, family: IpFamily, hops: NextHop[]): void {
  const nest = w.beginNest(C.RTA_MULTIPATH);
  for (const nh of hops) {
    const at = w.zeros(C.RTNH_LEN); // struct rtnexthop: u16 len, u8 flags, u8 hops, s32 ifindex
    const weight = nh.weight ?? 1;
    if (!(weight >= 1 && weight <= 256)) invalid('nexthop weight', weight, 'expected 1..256');
    w.u8At(at + 2, nh.onlink ? C.RTNH_F_ONLINK : 0);
    w.u8At(at + 3, weight - 1);
    w.u32At(at + 4, nh.oif ?? 0);
    if (nh.gateway !== undefined) addr(w, C.RTA_GATEWAY, family, nh.gateway, 'nexthop gateway');
    w.u16At(at, w.pos - at);
  }
  w.endNest(nest);
}

/** Filters for a route dump; table and protocol go to the kernel under strict checking. */
export interface RouteFilter {
  family?: IpFamily;
  table?: number;
  protocol?: number;
  type?: RouteType;
  oif?: number;
}

/** Encodes an RTM_GETROUTE dump request carrying the filter (NETLINK_GET_STRICT_CHK). */
export function encodeRouteDump(w: NlWriter, f: RouteFilter, seq: number): void {
  const start = w.beginMsg(C.RTM_GETROUTE, C.NLM_F_REQUEST | C.NLM_F_DUMP, seq);
  const h = w.zeros(C.RTMSG_LEN);
  w.u8At(h, f.family ? afOf(f.family) : C.AF_UNSPEC);
  const table = f.table ?? 0;
  w.u8At(h + 4, table < 256 ? table : C.RT_TABLE_UNSPEC);
  w.u8At(h + 5, f.protocol ?? 0);
  w.u8At(h + 7, f.type && f.type !== 'other' ? typeNum[f.type] : 0);
  if (table >= 256) w.attrU32(C.RTA_TABLE, table);
  if (f.oif !== undefined) w.attrU32(C.RTA_OIF, f.oif);
  w.endMsg(start);
}

/** True when a decoded route passes the filter (client-side check; the kernel's may be partial). */
export function routeMatches(r: Route, f: RouteFilter): boolean {
  return (
    (f.family === undefined || r.family === f.family) &&
    (f.table === undefined || r.table === f.table) &&
    (f.protocol === undefined || r.protocol === f.protocol) &&
    (f.type === undefined || r.type === f.type) &&
    (f.oif === undefined || r.oif === f.oif)
  );
}

/** Decodes an RTM_NEWROUTE / RTM_DELROUTE message; `undefined` for non-IP families. */
export function decodeRoute(buf: Uint8Array, m: NlMsg): Route | undefined {
  const h = m.off + C.NLMSG_HDRLEN;
  if (m.len < C.NLMSG_HDRLEN + C.RTMSG_LEN) throw new DecodeError(`rtmsg of ${m.len} bytes is too short`);
  const family = ipFamilyOf(buf[h]!);
  if (family === undefined) return undefined;
  const alen = family === 4 ? 4 : 16;
  const dstLen = buf[h + 1]!;
  const flags = u32(buf, h + 8);
  const r: Route = {
    family,
    dst: family === 4 ? '0.0.0.0/0' : '::/0',
    type: routeTypeName(buf[h + 7]!),
    typeNum: buf[h + 7]!,
    table: buf[h + 4]!,
    protocol: buf[h + 5]!,
    scope: buf[h + 6]!,
    flags,
    onlink: (flags & C.RTNH_F_ONLINK) !== 0,
  };
  // Inline attribute walk (no closure per message): dumps decode 100k+ routes.
  const end = m.off + m.len;
  let off = h + C.RTMSG_LEN;
  while (off + 4 <= end) {
    const alen2 = u16(buf, off);
    if (alen2 < 4 || off + alen2 > end) throw new DecodeError(`bad rta_len ${alen2} at offset ${off}`);
    const at = off + 4;
    const len = alen2 - 4;
    switch (u16(buf, off + 2) & 0x3fff) {
      case C.RTA_DST: if (len >= alen) r.dst = `${formatIp(buf, at, alen)}/${dstLen}`; break;
      case C.RTA_GATEWAY: if (len >= alen) r.gateway = formatIp(buf, at, alen); break;
      case C.RTA_PREFSRC: if (len >= alen) r.prefsrc = formatIp(buf, at, alen); break;
      case C.RTA_OIF: if (len >= 4) r.oif = u32(buf, at); break;
      case C.RTA_PRIORITY: if (len >= 4) r.priority = u32(buf, at); break;
      case C.RTA_TABLE: if (len >= 4) r.table = u32(buf, at); break;
      case C.RTA_MULTIPATH: r.multipath = decodeMultipath(buf, at, len, alen); break;
      default: break;
    }
    off += (alen2 + 3) & ~3;
  }
  return r;
}

function decodeMultipath(buf: Uint8Array, at: number, len: number, alen: number): NextHop[] {
  const hops: NextHop[] = [];
  let off = at;
  const end = at + len;
  while (off + C.RTNH_LEN <= end) {
    const l = u16(buf, off);
    if (l < C.RTNH_LEN || off + l > end) throw new DecodeError(`bad rtnh_len ${l}`);
    const nh: NextHop = { oif: u32(buf, off + 4), weight: buf[off + 3]! + 1 };
    if (buf[off + 2]! & C.RTNH_F_ONLINK) nh.onlink = true;
    forEachAttr(buf, off + C.RTNH_LEN, off + l, (type, a, alen2) => {
      if (type === C.RTA_GATEWAY && alen2 >= alen) nh.gateway = formatIp(buf, a, alen);
    });
    hops.push(nh);
    off += (l + 3) & ~3;
  }
  return hops;
}

/** One-line summary of a route spec for errors: `10.0.0.0/24 via 10.1.1.1 dev 3 proto 80`. */
export function describeRoute(r: RouteSpec): string {
  const parts = [r.type && r.type !== 'unicast' ? `${r.type} ${r.dst}` : r.dst];
  if (r.gateway) parts.push(`via ${r.gateway}`);
  if (r.oif !== undefined) parts.push(`dev ${r.oif}`);
  if (r.multipath) parts.push(`multipath ${r.multipath.map((h) => `${h.gateway ?? ''}@${h.oif ?? 0}`).join(',')}`);
  if (r.onlink) parts.push('onlink');
  if (r.table !== undefined) parts.push(`table ${r.table}`);
  if (r.protocol !== undefined) parts.push(`proto ${r.protocol}`);
  if (r.priority !== undefined) parts.push(`metric ${r.priority}`);
  return parts.join(' ');
}
