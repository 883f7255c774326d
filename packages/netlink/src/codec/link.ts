/**
 * ifinfomsg codec (RTM_NEWLINK / RTM_DELLINK / RTM_GETLINK): veth (peer created directly in
 * another namespace), vxlan, ipip, dummy and bridge links; up/down, MTU, MAC, name, namespace.
 *
 * struct ifinfomsg (rtnetlink.h): u8 family, u8 pad, u16 type, s32 index, u32 flags,
 * u32 change. A link is addressed by index when known, else by IFLA_IFNAME (the kernel looks a
 * device up by name when ifi_index is 0). Link kinds live in IFLA_LINKINFO { IFLA_INFO_KIND,
 * IFLA_INFO_DATA { kind-specific } }; a veth's peer is VETH_INFO_PEER = ifinfomsg + attrs.
 */
import { checkIfName, invalid } from './common.js';
import * as C from './constants.js';
import { formatIp, formatMac, parseMac } from './ip.js';
import { DecodeError, forEachAttr, str, u16be, u32, type NlMsg } from './reader.js';
import type { NlWriter } from './writer.js';

/**
 * A namespace for IFLA_NET_NS_FD / IFLA_NET_NS_PID. `{ name }` (a name under /var/run/netns or
 * a path) is resolved to `{ fd }` by the client before encoding; the codec itself cannot.
 */
export type NsTarget = { fd: number } | { pid: number } | { name: string };

/** Kind-specific creation parameters. */
export type LinkKindSpec =
  | { kind: 'veth'; peer: { name: string; netns?: NsTarget; mtu?: number; mac?: string } }
  | { kind: 'vxlan'; vni: number; local?: string; port?: number; dev?: number; learning?: boolean }
  | { kind: 'ipip'; local?: string; remote?: string; dev?: number; ttl?: number; pmtudisc?: boolean }
  | { kind: 'dummy' }
  | { kind: 'bridge' };

/** A link to create. */
export interface LinkSpec {
  name: string;
  info: LinkKindSpec;
  mtu?: number;
  mac?: string;
  up?: boolean;
  master?: number;
  netns?: NsTarget;
}

/** Changes to an existing link, addressed by `index` or `name`. */
export interface LinkChange {
  index?: number;
  name?: string;
  up?: boolean;
  mtu?: number;
  mac?: string;
  /** Rename (needs `index`). */
  newName?: string;
  netns?: NsTarget;
  master?: number;
}

/** A link read from the kernel. */
export interface Link {
  index: number;
  name: string;
  flags: number;
  up: boolean;
  mtu?: number;
  mac?: string;
  /** IFLA_INFO_KIND (`veth`, `vxlan`, `ipip`, ...), absent for plain devices like lo. */
  kind?: string;
  /** IFLA_LINK: a veth's peer index, a tunnel's parent. */
  link?: number;
  master?: number;
  operState?: number;
  vxlan?: { vni?: number; local?: string; port?: number; dev?: number; learning?: boolean };
  ipip?: { local?: string; remote?: string; dev?: number; ttl?: number };
}

function ifinfo(w: NlWriter, index: number, up: boolean | undefined): void {
  const h = w.zeros(C.IFINFOMSG_LEN);
  w.u32At(h + 4, index);
  if (up !== undefined) {
    w.u32At(h + 8, up ? C.IFF_UP : 0);
    w.u32At(h + 12, C.IFF_UP);
  }
}

function nsAttr(w: NlWriter, ns: NsTarget): void {
  if ('fd' in ns) w.attrU32(C.IFLA_NET_NS_FD, ns.fd);
  else if ('pid' in ns) w.attrU32(C.IFLA_NET_NS_PID, ns.pid);
  else invalid('netns', ns.name, 'resolve a namespace name to an fd before encoding');
}

function macAttr(w: NlWriter, mac: string): void {
  const b = parseMac(mac);
  if (!b) invalid('mac', mac, 'expected aa:bb:cc:dd:ee:ff');
  w.attrBytes(C.IFLA_ADDRESS, b);
}

function ipAttr(w: NlWriter, type: number, text: string, field: string): void {
  if (text.includes(':') || !w.attrIp(type, 4, text)) invalid(field, text, 'expected an IPv4 address');
}

function encodeKind(w: NlWriter, k: LinkKindSpec): void {
  const info = w.beginNest(C.IFLA_LINKINFO);
  w.attrStr(C.IFLA_INFO_KIND, k.kind);
  switch (k.kind) {
    case 'veth': {
      checkIfName('veth peer name', k.peer.name);
      const data = w.beginNest(C.IFLA_INFO_DATA);
      const peer = w.beginNest(C.VETH_INFO_PEER);
      ifinfo(w, 0, undefined);
      w.attrStr(C.IFLA_IFNAME, k.peer.name);
      if (k.peer.mtu !== undefined) w.attrU32(C.IFLA_MTU, k.peer.mtu);
      if (k.peer.mac !== undefined) macAttr(w, k.peer.mac);
      if (k.peer.netns) nsAttr(w, k.peer.netns);
      w.endNest(peer);
      w.endNest(data);
      break;
    }
    case 'vxlan': {
      if (!(Number.isInteger(k.vni) && k.vni >= 0 && k.vni < 1 << 24)) invalid('vxlan vni', k.vni, 'expected 0..16777215');
      const data = w.beginNest(C.IFLA_INFO_DATA);
      w.attrU32(C.IFLA_VXLAN_ID, k.vni);
      if (k.local !== undefined) {
        const v6 = k.local.includes(':');
        if (!w.attrIp(v6 ? C.IFLA_VXLAN_LOCAL6 : C.IFLA_VXLAN_LOCAL, v6 ? 6 : 4, k.local)) invalid('vxlan local', k.local, 'malformed address');
      }
      if (k.dev !== undefined) w.attrU32(C.IFLA_VXLAN_LINK, k.dev);
      if (k.port !== undefined) w.attrU16be(C.IFLA_VXLAN_PORT, k.port); // network byte order
      if (k.learning !== undefined) w.attrU8(C.IFLA_VXLAN_LEARNING, k.learning ? 1 : 0);
      w.endNest(data);
      break;
    }
    case 'ipip': {
      const data = w.beginNest(C.IFLA_INFO_DATA);
      if (k.dev !== undefined) w.attrU32(C.IFLA_IPTUN_LINK, k.dev);
      if (k.local !== undefined) ipAttr(w, C.IFLA_IPTUN_LOCAL, k.local, 'ipip local');
      if (k.remote !== undefined) ipAttr(w, C.IFLA_IPTUN_REMOTE, k.remote, 'ipip remote');
      if (k.ttl !== undefined) w.attrU8(C.IFLA_IPTUN_TTL, k.ttl);
      if (k.pmtudisc !== undefined) w.attrU8(C.IFLA_IPTUN_PMTUDISC, k.pmtudisc ? 1 : 0);
      w.endNest(data);
      break;
    }
    case 'dummy':
    case 'bridge':
      break;
    default: {
      const never: never = k;
      invalid('link kind', never, 'unknown');
    }
  }
  w.endNest(info);
}

/** Encodes RTM_NEWLINK with NLM_F_CREATE | NLM_F_EXCL. */
export function encodeLinkAdd(w: NlWriter, l: LinkSpec, seq: number): void {
  checkIfName('link name', l.name);
  const start = w.beginMsg(C.RTM_NEWLINK, C.NLM_F_REQUEST | C.NLM_F_ACK | C.NLM_F_CREATE | C.NLM_F_EXCL, seq);
  ifinfo(w, 0, l.up);
  w.attrStr(C.IFLA_IFNAME, l.name);
  if (l.mtu !== undefined) w.attrU32(C.IFLA_MTU, l.mtu);
  if (l.mac !== undefined) macAttr(w, l.mac);
  if (l.master !== undefined) w.attrU32(C.IFLA_MASTER, l.master);
  if (l.netns) nsAttr(w, l.netns);
  encodeKind(w, l.info);
  w.endMsg(start);
}

/** Encodes RTM_NEWLINK (no create flags) changing an existing link. */
export function encodeLinkSet(w: NlWriter, c: LinkChange, seq: number): void {
  if (c.index === undefined && c.name === undefined) invalid('link', c, 'needs index or name');
  if (c.newName !== undefined && c.index === undefined) invalid('link newName', c.newName, 'renaming needs the index');
  const start = w.beginMsg(C.RTM_NEWLINK, C.NLM_F_REQUEST | C.NLM_F_ACK, seq);
  ifinfo(w, c.index ?? 0, c.up);
  if (c.index === undefined && c.name !== undefined) w.attrStr(C.IFLA_IFNAME, c.name);
  if (c.newName !== undefined) {
    checkIfName('link newName', c.newName);
    w.attrStr(C.IFLA_IFNAME, c.newName);
  }
  if (c.mtu !== undefined) w.attrU32(C.IFLA_MTU, c.mtu);
  if (c.mac !== undefined) macAttr(w, c.mac);
  if (c.master !== undefined) w.attrU32(C.IFLA_MASTER, c.master);
  if (c.netns) nsAttr(w, c.netns);
  w.endMsg(start);
}

/** A link by index or name, for delete and get. */
export type LinkRef = { index: number } | { name: string };

function refMsg(w: NlWriter, type: number, flags: number, ref: LinkRef, seq: number): void {
  const start = w.beginMsg(type, flags, seq);
  const index = 'index' in ref ? ref.index : undefined;
  const name = 'name' in ref ? ref.name : undefined;
  ifinfo(w, index ?? 0, undefined);
  if (name !== undefined) {
    checkIfName('link name', name);
    w.attrStr(C.IFLA_IFNAME, name);
  }
  w.endMsg(start);
}

/** Encodes RTM_DELLINK. */
export function encodeLinkDel(w: NlWriter, ref: LinkRef, seq: number): void {
  refMsg(w, C.RTM_DELLINK, C.NLM_F_REQUEST | C.NLM_F_ACK, ref, seq);
}

/** Encodes RTM_GETLINK for one link (answered by one RTM_NEWLINK). */
export function encodeLinkGet(w: NlWriter, ref: LinkRef, seq: number): void {
  refMsg(w, C.RTM_GETLINK, C.NLM_F_REQUEST, ref, seq);
}

/** Encodes an RTM_GETLINK dump of every link (with IFLA_EXT_MASK, as iproute2 sends it). */
export function encodeLinkDump(w: NlWriter, seq: number): void {
  const start = w.beginMsg(C.RTM_GETLINK, C.NLM_F_REQUEST | C.NLM_F_DUMP, seq);
  ifinfo(w, 0, undefined);
  // Without IFLA_EXT_MASK the kernel sizes its dump buffers without the link's property list
  // and silently skips a link whose message is larger (e.g. hundreds of altnames); iproute2
  // always sends it, and so do we.
  w.attrU32(C.IFLA_EXT_MASK, C.RTEXT_FILTER_VF);
  w.endMsg(start);
}

/** Decodes RTM_NEWLINK / RTM_DELLINK. */
export function decodeLink(buf: Uint8Array, m: NlMsg): Link {
  const h = m.off + C.NLMSG_HDRLEN;
  if (m.len < C.NLMSG_HDRLEN + C.IFINFOMSG_LEN) throw new DecodeError(`ifinfomsg of ${m.len} bytes is too short`);
  const flags = u32(buf, h + 8);
  const l: Link = { index: u32(buf, h + 4), name: '', flags, up: (flags & C.IFF_UP) !== 0 };
  forEachAttr(buf, h + C.IFINFOMSG_LEN, m.off + m.len, (type, at, len) => {
    switch (type) {
      case C.IFLA_IFNAME: l.name = str(buf, at, len); break;
      case C.IFLA_MTU: if (len >= 4) l.mtu = u32(buf, at); break;
      case C.IFLA_ADDRESS: l.mac = formatMac(buf, at, len); break;
      case C.IFLA_LINK: if (len >= 4) l.link = u32(buf, at); break;
      case C.IFLA_MASTER: if (len >= 4) l.master = u32(buf, at); break;
      case C.IFLA_OPERSTATE: if (len >= 1) l.operState = buf[at]; break;
      case C.IFLA_LINKINFO: decodeLinkInfo(buf, at, len, l); break;
      default: break;
    }
  });
  return l;
}

function decodeLinkInfo(buf: Uint8Array, at: number, len: number, l: Link): void {
  let data: [number, number] | undefined;
  forEachAttr(buf, at, at + len, (type, a, n) => {
    if (type === C.IFLA_INFO_KIND) l.kind = str(buf, a, n);
    else if (type === C.IFLA_INFO_DATA) data = [a, n];
  });
  if (!data) return;
  const [a0, n0] = data;
  if (l.kind === 'vxlan') {
    const v: NonNullable<Link['vxlan']> = {};
    forEachAttr(buf, a0, a0 + n0, (type, a, n) => {
      if (type === C.IFLA_VXLAN_ID && n >= 4) v.vni = u32(buf, a);
      else if (type === C.IFLA_VXLAN_LOCAL && n >= 4) v.local = formatIp(buf, a, 4);
      else if (type === C.IFLA_VXLAN_LOCAL6 && n >= 16) v.local = formatIp(buf, a, 16);
      else if (type === C.IFLA_VXLAN_PORT && n >= 2) v.port = u16be(buf, a);
      else if (type === C.IFLA_VXLAN_LINK && n >= 4) v.dev = u32(buf, a);
      else if (type === C.IFLA_VXLAN_LEARNING && n >= 1) v.learning = buf[a] !== 0;
    });
    l.vxlan = v;
  } else if (l.kind === 'ipip') {
    const t: NonNullable<Link['ipip']> = {};
    forEachAttr(buf, a0, a0 + n0, (type, a, n) => {
      if (type === C.IFLA_IPTUN_LOCAL && n >= 4) t.local = formatIp(buf, a, 4);
      else if (type === C.IFLA_IPTUN_REMOTE && n >= 4) t.remote = formatIp(buf, a, 4);
      else if (type === C.IFLA_IPTUN_LINK && n >= 4) t.dev = u32(buf, a);
      else if (type === C.IFLA_IPTUN_TTL && n >= 1) t.ttl = buf[a];
    });
    l.ipip = t;
  }
}

/** One-line summary of a link request for errors. */
export function describeLink(l: LinkSpec | LinkChange | LinkRef): string {
  const parts: string[] = [];
  if ('name' in l && l.name !== undefined) parts.push(l.name);
  if ('index' in l && l.index !== undefined) parts.push(`index ${l.index}`);
  if ('info' in l) parts.push(`type ${l.info.kind}`);
  if ('newName' in l && l.newName !== undefined) parts.push(`name ${l.newName}`);
  if ('up' in l && l.up !== undefined) parts.push(l.up ? 'up' : 'down');
  if ('mtu' in l && l.mtu !== undefined) parts.push(`mtu ${l.mtu}`);
  return parts.join(' ');
}
