/**
 * ndmsg codec (RTM_NEWNEIGH / RTM_DELNEIGH / RTM_GETNEIGH): permanent ARP / NDP entries and
 * bridge FDB entries (family AF_BRIDGE), e.g. a vxlan FDB entry "MAC → remote VTEP" carried in
 * NDA_LLADDR + NDA_DST with NTF_SELF.
 *
 * struct ndmsg (neighbour.h): u8 family, u8 pad1, u16 pad2, s32 ifindex, u16 state, u8 flags,
 * u8 type.
 */
import { afOf, invalid, ipFamilyOf } from './common.js';
import * as C from './constants.js';
import { familyOf, formatIp, formatMac, parseMac } from './ip.js';
import { DecodeError, forEachAttr, u16, u32, type NlMsg } from './reader.js';
import type { NlWriter } from './writer.js';

/** Neighbour table: IPv4 ARP, IPv6 NDP, or the bridge forwarding database. */
export type NeighFamily = 4 | 6 | 'bridge';

/** A neighbour or FDB entry to add or delete. */
export interface NeighSpec {
  family: NeighFamily;
  index: number;
  /** IP of the neighbour (ARP/NDP), or the remote VTEP (vxlan FDB). */
  dst?: string;
  /** Link-layer address. */
  lladdr?: string;
  /** NUD_* state; NUD_PERMANENT by default. */
  state?: number;
  /** NTF_* flags; NTF_SELF by default for bridge entries. */
  flags?: number;
  /** NDA_VNI for vxlan FDB entries. */
  vni?: number;
  /** NDA_MASTER (bridge FDB on a bridge port). */
  master?: number;
}

/** A neighbour / FDB entry read from the kernel. */
export interface Neigh {
  family: NeighFamily;
  index: number;
  state: number;
  flags: number;
  dst?: string;
  lladdr?: string;
  vni?: number;
  master?: number;
}

function afOfNeigh(f: NeighFamily): number {
  return f === 'bridge' ? C.AF_BRIDGE : afOf(f);
}

/** Encodes RTM_NEWNEIGH (add: create+excl, replace: create+replace, append: create+append) or RTM_DELNEIGH. */
export function encodeNeigh(w: NlWriter, op: 'add' | 'replace' | 'append' | 'del', n: NeighSpec, seq: number): void {
  const base = C.NLM_F_REQUEST | C.NLM_F_ACK;
  const flags =
    op === 'add' ? base | C.NLM_F_CREATE | C.NLM_F_EXCL
    : op === 'replace' ? base | C.NLM_F_CREATE | C.NLM_F_REPLACE
    : op === 'append' ? base | C.NLM_F_CREATE | C.NLM_F_APPEND
    : base;
  const start = w.beginMsg(op === 'del' ? C.RTM_DELNEIGH : C.RTM_NEWNEIGH, flags, seq);
  const h = w.zeros(C.NDMSG_LEN);
  w.buf[h] = afOfNeigh(n.family);
  w.u32At(h + 4, n.index);
  w.u16At(h + 8, n.state ?? C.NUD_PERMANENT);
  w.u8At(h + 10, n.flags ?? (n.family === 'bridge' ? C.NTF_SELF : 0));
  if (n.dst !== undefined) {
    const fam = familyOf(n.dst);
    if (n.family !== 'bridge' && fam !== n.family) invalid('neighbour dst', n.dst, `not an IPv${n.family} address`);
    if (!w.attrIp(C.NDA_DST, fam, n.dst)) invalid('neighbour dst', n.dst, 'malformed address');
  }
  if (n.lladdr !== undefined) {
    const mac = parseMac(n.lladdr);
    if (!mac) invalid('neighbour lladdr', n.lladdr, 'expected aa:bb:cc:dd:ee:ff');
    w.attrBytes(C.NDA_LLADDR, mac);
  }
  if (n.vni !== undefined) w.attrU32(C.NDA_VNI, n.vni);
  if (n.master !== undefined) w.attrU32(C.NDA_MASTER, n.master);
  w.endMsg(start);
}

/** Encodes an RTM_GETNEIGH dump of one family (optionally one interface, under strict checking). */
export function encodeNeighDump(w: NlWriter, f: { family: NeighFamily; index?: number }, seq: number): void {
  const start = w.beginMsg(C.RTM_GETNEIGH, C.NLM_F_REQUEST | C.NLM_F_DUMP, seq);
  const h = w.zeros(C.NDMSG_LEN);
  w.buf[h] = afOfNeigh(f.family);
  if (f.index !== undefined) w.attrU32(C.NDA_IFINDEX, f.index);
  w.endMsg(start);
}

/** Decodes RTM_NEWNEIGH / RTM_DELNEIGH; `undefined` for other families. */
export function decodeNeigh(buf: Uint8Array, m: NlMsg): Neigh | undefined {
  const h = m.off + C.NLMSG_HDRLEN;
  if (m.len < C.NLMSG_HDRLEN + C.NDMSG_LEN) throw new DecodeError(`ndmsg of ${m.len} bytes is too short`);
  const af = buf[h]!;
  const family: NeighFamily | undefined = af === C.AF_BRIDGE ? 'bridge' : ipFamilyOf(af);
  if (family === undefined) return undefined;
  const n: Neigh = { family, index: u32(buf, h + 4), state: u16(buf, h + 8), flags: buf[h + 10]! };
  forEachAttr(buf, h + C.NDMSG_LEN, m.off + m.len, (type, at, len) => {
    if (type === C.NDA_DST && (len === 4 || len === 16)) n.dst = formatIp(buf, at, len);
    else if (type === C.NDA_LLADDR) n.lladdr = formatMac(buf, at, len);
    else if (type === C.NDA_VNI && len >= 4) n.vni = u32(buf, at);
    else if (type === C.NDA_MASTER && len >= 4) n.master = u32(buf, at);
  });
  return n;
}

/** One-line summary for errors. */
export function describeNeigh(n: NeighSpec): string {
  const parts = [n.family === 'bridge' ? 'fdb' : `ipv${n.family}`];
  if (n.lladdr) parts.push(n.lladdr);
  if (n.dst) parts.push(n.family === 'bridge' ? `dst ${n.dst}` : n.dst);
  parts.push(`dev ${n.index}`);
  return parts.join(' ');
}
