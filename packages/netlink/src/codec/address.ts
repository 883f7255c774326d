/**
 * ifaddrmsg codec (RTM_NEWADDR / RTM_DELADDR / RTM_GETADDR), IPv4 and IPv6.
 *
 * struct ifaddrmsg (if_addr.h): u8 family, u8 prefixlen, u8 flags, u8 scope, u32 index.
 * Like iproute2, a request carries the address in both IFA_LOCAL and IFA_ADDRESS (they differ
 * only for point-to-point peers); IFA_ADDRESS is what identifies the address on delete.
 */
import { afOf, invalid, ipFamilyOf } from './common.js';
import * as C from './constants.js';
import { formatIp, parsePrefix, type IpFamily } from './ip.js';
import { DecodeError, forEachAttr, str, u32, type NlMsg } from './reader.js';
import type { NlWriter } from './writer.js';

/** An address to add or delete: `address` is `addr/len` on interface `index`. */
export interface AddressSpec {
  index: number;
  address: string;
  /** Point-to-point peer (IFA_ADDRESS differs from IFA_LOCAL). */
  peer?: string;
  label?: string;
  scope?: number;
}

/** An address read from the kernel. */
export interface Address {
  family: IpFamily;
  index: number;
  /** `addr/len` of the local address. */
  address: string;
  prefixLen: number;
  scope: number;
  flags: number;
  peer?: string;
  label?: string;
}

/** Encodes RTM_NEWADDR (create, fail if exists) or RTM_DELADDR. */
export function encodeAddress(w: NlWriter, op: 'add' | 'del', a: AddressSpec, seq: number): void {
  const p = parsePrefix(a.address);
  if (!p) invalid('address', a.address, 'expected addr/len');
  const flags = C.NLM_F_REQUEST | C.NLM_F_ACK | (op === 'add' ? C.NLM_F_CREATE | C.NLM_F_EXCL : 0);
  const start = w.beginMsg(op === 'add' ? C.RTM_NEWADDR : C.RTM_DELADDR, flags, seq);
  const h = w.zeros(C.IFADDRMSG_LEN);
  w.u8At(h, afOf(p.family));
  w.u8At(h + 1, p.len);
  w.u8At(h + 3, a.scope ?? 0);
  w.u32At(h + 4, a.index);
  w.attrBytes(C.IFA_LOCAL, p.bytes);
  if (a.peer !== undefined) {
    const peer = parsePrefix(a.peer);
    if (!peer || peer.family !== p.family) invalid('address peer', a.peer, `expected an IPv${p.family} address`);
    w.attrBytes(C.IFA_ADDRESS, peer.bytes);
  } else w.attrBytes(C.IFA_ADDRESS, p.bytes);
  if (a.label !== undefined) w.attrStr(C.IFA_LABEL, a.label);
  w.endMsg(start);
}

/** Encodes an RTM_GETADDR dump (strict checking filters by family and interface index). */
export function encodeAddressDump(w: NlWriter, f: { family?: IpFamily; index?: number }, seq: number): void {
  const start = w.beginMsg(C.RTM_GETADDR, C.NLM_F_REQUEST | C.NLM_F_DUMP, seq);
  const h = w.zeros(C.IFADDRMSG_LEN);
  w.buf[h] = f.family ? afOf(f.family) : C.AF_UNSPEC;
  w.u32At(h + 4, f.index ?? 0);
  w.endMsg(start);
}

/** Decodes RTM_NEWADDR / RTM_DELADDR; `undefined` for non-IP families. */
export function decodeAddress(buf: Uint8Array, m: NlMsg): Address | undefined {
  const h = m.off + C.NLMSG_HDRLEN;
  if (m.len < C.NLMSG_HDRLEN + C.IFADDRMSG_LEN) throw new DecodeError(`ifaddrmsg of ${m.len} bytes is too short`);
  const family = ipFamilyOf(buf[h]!);
  if (family === undefined) return undefined;
  const alen = family === 4 ? 4 : 16;
  const prefixLen = buf[h + 1]!;
  let local: string | undefined;
  let address: string | undefined;
  const a: Address = { family, index: u32(buf, h + 4), address: '', prefixLen, flags: buf[h + 2]!, scope: buf[h + 3]! };
  forEachAttr(buf, h + C.IFADDRMSG_LEN, m.off + m.len, (type, at, len) => {
    if (type === C.IFA_LOCAL && len >= alen) local = formatIp(buf, at, alen);
    else if (type === C.IFA_ADDRESS && len >= alen) address = formatIp(buf, at, alen);
    else if (type === C.IFA_LABEL) a.label = str(buf, at, len);
    else if (type === C.IFA_FLAGS && len >= 4) a.flags = u32(buf, at);
  });
  // IPv6 sends only IFA_ADDRESS; with both, IFA_ADDRESS is the peer when it differs.
  a.address = `${local ?? address ?? ''}/${prefixLen}`;
  if (local !== undefined && address !== undefined && local !== address) a.peer = address;
  return a;
}

/** One-line summary for errors. */
export function describeAddress(a: AddressSpec): string {
  return `${a.address} dev ${a.index}`;
}
