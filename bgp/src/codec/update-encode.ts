/**
 * UPDATE encoding (RFC 4271 §4.3, RFC 4760 MP attributes, RFC 7911 path identifiers), the
 * packer that spreads many prefixes sharing one attribute set over as few UPDATEs as fit, and
 * End-of-RIB markers (RFC 4724 §2).
 *
 * Invariants: no message exceeds the negotiated maximum (4096, or 65535 with RFC 8654); MP
 * attributes come first (RFC 7606 §5.1); the shared attributes are encoded once per call.
 */
import { familyOf } from './attributes-decode.js';
import { writeAttributes, writeAttr } from './attributes-encode.js';
import { checkUint, encodeError } from './errors.js';
import { HEADER_LEN, maxMessageLength } from './header.js';
import { nlriSize, writeNlri } from './nlri.js';
import { ByteWriter, finishMessage, writeHeaderPlaceholder } from './writer.js';
import {
  AttrFlag,
  AttrType,
  MessageType,
  type CodecContext,
  type Family,
  type PathAttributes,
  type Prefix,
  type UpdateMessage,
} from './types.js';

/** AFI/SAFI of a family. */
export function familyAfiSafi(f: Family): { afi: 1 | 2; safi: 1 } {
  return f === 'ipv4-unicast' ? { afi: 1, safi: 1 } : { afi: 2, safi: 1 };
}

function addPathFor(ctx: CodecContext, afi: number, safi: number): boolean {
  const f = familyOf(afi, safi);
  return f !== undefined && ctx.addPath.has(f);
}

function writePrefixes(w: ByteWriter, ps: readonly Prefix[], addPath: boolean, afi: number, from = 0, to = ps.length): void {
  for (let i = from; i < to; i++) {
    const p = ps[i]!;
    if (p.afi !== afi) throw encodeError(`prefix ${p.addr}/${p.len} of AFI ${p.afi} in an AFI ${afi} field`);
    w.reserve(21);
    w.len = writeNlri(p, addPath, w.buf, w.len);
  }
}

function nextHopLength(afi: number, nextHops: readonly string[]): number {
  const v6 = afi === 2 || (nextHops[0] ?? '').includes(':');
  if (nextHops.length < 1 || nextHops.length > (v6 ? 2 : 1)) throw encodeError(`MP_REACH_NLRI needs ${v6 ? '1 or 2 IPv6' : '1 IPv4'} next hops, got ${nextHops.length}`);
  return v6 ? 16 * nextHops.length : 4;
}

function writeMpReach(w: ByteWriter, afi: number, safi: number, nextHops: readonly string[], nlri: readonly Prefix[], addPath: boolean, from = 0, to = nlri.length): void {
  const nhLen = nextHopLength(afi, nextHops);
  checkUint(afi, 0xffff, 'MP_REACH_NLRI AFI');
  checkUint(safi, 255, 'MP_REACH_NLRI SAFI');
  writeAttr(w, AttrFlag.Optional, AttrType.MpReachNlri, (w) => {
    w.u16(afi);
    w.u8(safi);
    w.u8(nhLen);
    for (const nh of nextHops) {
      if (nhLen === 4) w.ipv4(nh, 'MP_REACH_NLRI next hop');
      else w.ipv6(nh, 'MP_REACH_NLRI next hop');
    }
    w.u8(0); // RFC 4760 §3: reserved
    writePrefixes(w, nlri, addPath, afi, from, to);
  });
}

function writeMpUnreach(w: ByteWriter, afi: number, safi: number, ps: readonly Prefix[], addPath: boolean, from = 0, to = ps.length): void {
  checkUint(afi, 0xffff, 'MP_UNREACH_NLRI AFI');
  checkUint(safi, 255, 'MP_UNREACH_NLRI SAFI');
  writeAttr(w, AttrFlag.Optional, AttrType.MpUnreachNlri, (w) => {
    w.u16(afi);
    w.u8(safi);
    writePrefixes(w, ps, addPath, afi, from, to);
  });
}

/** Encodes one UPDATE; EncodeError when it does not fit the negotiated maximum size. */
export function encodeUpdate(m: UpdateMessage, ctx: CodecContext): Uint8Array {
  const v4AddPath = ctx.addPath.has('ipv4-unicast');
  const w = new ByteWriter(256);
  writeHeaderPlaceholder(w, MessageType.Update);
  w.u16(0);
  writePrefixes(w, m.withdrawn, v4AddPath, 1);
  w.patchU16(HEADER_LEN, w.len - HEADER_LEN - 2);
  const attrStart = w.len;
  w.u16(0);
  const a = m.attributes;
  if (a.mpReach) writeMpReach(w, a.mpReach.afi, a.mpReach.safi, a.mpReach.nextHops, a.mpReach.nlri, addPathFor(ctx, a.mpReach.afi, a.mpReach.safi));
  if (a.mpUnreach) writeMpUnreach(w, a.mpUnreach.afi, a.mpUnreach.safi, a.mpUnreach.withdrawn, addPathFor(ctx, a.mpUnreach.afi, a.mpUnreach.safi));
  writeAttributes(w, a, ctx);
  w.patchU16(attrStart, w.len - attrStart - 2);
  writePrefixes(w, m.nlri, v4AddPath, 1);
  return finishMessage(w, maxMessageLength(ctx.extendedMessage));
}

/** How many prefixes of `ps` from `from` fit `budget` octets: the end index and the octets used. */
function take(ps: readonly Prefix[], from: number, budget: number, addPath: boolean): { to: number; used: number } {
  let to = from;
  let used = 0;
  while (to < ps.length) {
    const s = nlriSize(ps[to]!, addPath);
    if (used + s > budget) break;
    used += s;
    to++;
  }
  return { to, used };
}

const EMPTY = new Uint8Array(0);

/** The attribute octets every announcement message repeats (all but MP_REACH/MP_UNREACH). */
function sharedAttributes(attrs: PathAttributes, v4: boolean, ctx: CodecContext): Uint8Array {
  const rest: PathAttributes = { ...attrs, mpReach: undefined, mpUnreach: undefined };
  if (!v4) rest.nextHop = undefined;
  const w = new ByteWriter(256);
  writeAttributes(w, rest, ctx);
  return w.finish();
}

/**
 * Encodes `withdrawn` and `nlri` (all of `family`, sharing `attrs`) into as few UPDATEs as fit
 * the negotiated maximum size: withdrawal messages first, then announcements. RFC 7606 §5.1: a
 * message carries only one of withdrawn routes, NLRI, MP_REACH_NLRI, MP_UNREACH_NLRI, so the two
 * kinds never share a message. IPv4 unicast uses the classic fields (and `attrs.nextHop`); IPv6
 * uses MP_UNREACH / MP_REACH with `attrs.mpReach.nextHops` (its `nlri` is ignored). The shared
 * attributes are encoded once. Returns [] when both lists are empty.
 */
export function encodeUpdates(
  attrs: PathAttributes,
  nlri: readonly Prefix[],
  withdrawn: readonly Prefix[],
  family: Family,
  ctx: CodecContext,
): Uint8Array[] {
  const { afi, safi } = familyAfiSafi(family);
  const addPath = ctx.addPath.has(family);
  const max = maxMessageLength(ctx.extendedMessage);
  const v4 = afi === 1;
  const shared = nlri.length > 0 ? sharedAttributes(attrs, v4, ctx) : EMPTY;
  const nextHops = attrs.mpReach?.nextHops ?? [];
  // MP_REACH header (≤ 4) + AFI/SAFI/length (4) + next hop + reserved (1); MP_UNREACH header + AFI/SAFI.
  const reachFixed = v4 || nlri.length === 0 ? 0 : 4 + 5 + nextHopLength(afi, nextHops);
  const unreachFixed = v4 ? 0 : 7;
  const out: Uint8Array[] = [];
  let wi = 0;
  let ni = 0;
  while (wi < withdrawn.length || ni < nlri.length) {
    let free = max - HEADER_LEN - 4;
    const wFrom = wi;
    if (wi < withdrawn.length) {
      const t = take(withdrawn, wi, free - unreachFixed, addPath);
      wi = t.to;
      free -= t.used + unreachFixed;
    }
    const nFrom = ni;
    if (wi === wFrom && ni < nlri.length) {
      const t = take(nlri, ni, free - shared.length - reachFixed, addPath);
      ni = t.to;
      free -= t.used + shared.length + reachFixed;
    }
    if (wi === wFrom && ni === nFrom) throw encodeError(`a ${max}-octet message cannot hold one prefix with these attributes`);
    const w = new ByteWriter(max - free + 8);
    writeHeaderPlaceholder(w, MessageType.Update);
    w.u16(0);
    if (v4) writePrefixes(w, withdrawn, addPath, 1, wFrom, wi);
    w.patchU16(HEADER_LEN, w.len - HEADER_LEN - 2);
    const attrStart = w.len;
    w.u16(0);
    if (!v4 && wi > wFrom) writeMpUnreach(w, afi, safi, withdrawn, addPath, wFrom, wi);
    if (ni > nFrom) {
      if (!v4) writeMpReach(w, afi, safi, nextHops, nlri, addPath, nFrom, ni);
      w.bytes(shared);
    }
    w.patchU16(attrStart, w.len - attrStart - 2);
    if (v4 && ni > nFrom) writePrefixes(w, nlri, addPath, 1, nFrom, ni);
    out.push(finishMessage(w, max));
  }
  return out;
}

/** The End-of-RIB marker of `family` (RFC 4724 §2) as a message value. */
export function endOfRib(family: Family): UpdateMessage {
  if (family === 'ipv4-unicast') return { type: 'update', withdrawn: [], attributes: {}, nlri: [] };
  const { afi, safi } = familyAfiSafi(family);
  return { type: 'update', withdrawn: [], attributes: { mpUnreach: { afi, safi, withdrawn: [] } }, nlri: [] };
}

/** The End-of-RIB marker of `family`, encoded. */
export function encodeEndOfRib(family: Family, ctx: CodecContext): Uint8Array {
  return encodeUpdate(endOfRib(family), ctx);
}

/**
 * RFC 4724 §2: the family whose End-of-RIB `u` is — an UPDATE with nothing in it (IPv4 unicast)
 * or with only an empty MP_UNREACH_NLRI — or null.
 */
export function isEndOfRib(u: UpdateMessage): Family | null {
  if (u.withdrawn.length > 0 || u.nlri.length > 0) return null;
  let mpUnreach: UpdateMessage['attributes']['mpUnreach'];
  for (const [k, v] of Object.entries(u.attributes)) {
    if (v === undefined || (k === 'unknown' && (v as unknown[]).length === 0)) continue;
    if (k !== 'mpUnreach') return null;
    mpUnreach = v as UpdateMessage['attributes']['mpUnreach'];
  }
  if (!mpUnreach) return 'ipv4-unicast';
  if (mpUnreach.withdrawn.length > 0) return null;
  return familyOf(mpUnreach.afi, mpUnreach.safi) ?? null;
}
