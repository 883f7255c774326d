/**
 * UPDATE decoding (RFC 4271 §4.3) with the error handling of RFC 7606.
 *
 * Invariants: the result is an `UpdateOutcome` (accept / treat-as-withdraw) or a thrown
 * BgpCodecError carrying the NOTIFICATION for "session reset"; a treat-as-withdraw outcome lists
 * every prefix of the message (IPv4 field and MP_REACH) as withdrawn and carries no other
 * attributes. Decoded prefixes and attributes never alias the input buffer.
 */
import { reconcileAs4 } from './as-path.js';
import { SPEC_BY_TYPE, attrName, type AttributesResult, type DecodeOptions } from './attributes-decode.js';
import { updateError } from './errors.js';
import { HEADER_LEN } from './header.js';
import { checkNlri, decodeNlri } from './nlri.js';
import { copyBytes, rd16 } from './writer.js';
import {
  AttrFlag,
  AttrType,
  UpdateSubcode,
  type AttributeIssue,
  type CodecContext,
  type MpUnreach,
  type PathAttributes,
  type Prefix,
  type UpdateOutcome,
} from './types.js';

const EBGP_DISCARDED: ReadonlySet<number> = new Set([AttrType.LocalPref, AttrType.OriginatorId, AttrType.ClusterList]);
const EBGP_RULES: Record<number, string> = {
  [AttrType.LocalPref]: 'RFC 7606 §7.5',
  [AttrType.OriginatorId]: 'RFC 7606 §7.9',
  [AttrType.ClusterList]: 'RFC 7606 §7.10',
};

function issue(attrType: number, reason: string, rule: string): AttributeIssue {
  return { attrType, reason, rule };
}

/** The attribute types seen so far in one `decodeAttributes` call (reused: the call is not re-entrant). */
const SEEN = new Int32Array(8);

/**
 * Decodes the path attribute field `b[start..end)`. Throws BgpCodecError for session-reset
 * cases; returns the attributes plus the discard / treat-as-withdraw issues otherwise.
 */
export function decodeAttributes(
  b: Uint8Array,
  start: number,
  end: number,
  ctx: CodecContext,
  opts: DecodeOptions,
  hasIpv4Nlri: boolean,
): AttributesResult {
  const st = { ctx, opts, attrs: {} as PathAttributes, hasIpv4Nlri, reachCount: 0 };
  const discarded: AttributeIssue[] = [];
  const withdrawIssues: AttributeIssue[] = [];
  const seen = SEEN.fill(0); // one bit per attribute type code
  let p = start;
  while (p < end) {
    const flags = b[p]!;
    const hdr = flags & AttrFlag.ExtendedLength ? 4 : 3;
    if (end - p < hdr) {
      // RFC 7606 §4: too few octets for an attribute header → treat-as-withdraw.
      withdrawIssues.push(issue(end - p >= 2 ? b[p + 1]! : 0, `${end - p} octets left, too few for an attribute header`, 'RFC 7606 §4'));
      break;
    }
    const type = b[p + 1]!;
    const len = hdr === 4 ? rd16(b, p + 2) : b[p + 2]!;
    const v = p + hdr;
    if (v + len > end) {
      // RFC 7606 §4: the attribute overruns the field → treat-as-withdraw, unless it is an MP
      // attribute whose NLRI can then not be located (RFC 7606 §5.3) → session reset.
      if (type === AttrType.MpReachNlri || type === AttrType.MpUnreachNlri) {
        throw updateError(UpdateSubcode.AttributeLengthError, `${attrName(type)} length ${len} overruns the path attributes`, copyBytes(b, p, end));
      }
      withdrawIssues.push(issue(type, `${attrName(type)} length ${len} overruns the path attributes`, 'RFC 7606 §4'));
      break;
    }
    p = v + len;
    decodeOne(b, flags, type, v, len, st, seen, discarded, withdrawIssues);
  }
  return { attrs: st.attrs, discarded, withdrawIssues, reachCount: st.reachCount };
}

function decodeOne(
  b: Uint8Array,
  flags: number,
  type: number,
  v: number,
  len: number,
  st: { ctx: CodecContext; opts: DecodeOptions; attrs: PathAttributes; hasIpv4Nlri: boolean; reachCount: number },
  seen: Int32Array,
  discarded: AttributeIssue[],
  withdrawIssues: AttributeIssue[],
): void {
  const isMp = type === AttrType.MpReachNlri || type === AttrType.MpUnreachNlri;
  if (seen[type >> 5]! & (1 << (type & 31))) {
    // RFC 7606 §3 g: duplicate MP attributes → reset; any other duplicate → keep the first.
    if (isMp) throw updateError(UpdateSubcode.MalformedAttributeList, `${attrName(type)} appears more than once`);
    discarded.push(issue(type, `duplicate ${attrName(type)} ignored`, 'RFC 7606 §3 g'));
    return;
  }
  seen[type >> 5]! |= 1 << (type & 31);
  const spec = SPEC_BY_TYPE[type];
  if (!spec) {
    // RFC 4271 §6.3: an unrecognised well-known attribute → session reset.
    if ((flags & AttrFlag.Optional) === 0) {
      throw updateError(UpdateSubcode.UnrecognizedWellKnownAttribute, `unrecognised well-known attribute ${type}`, copyBytes(b, v - (flags & AttrFlag.ExtendedLength ? 4 : 3), v + len));
    }
    // RFC 4271 §5: unrecognised optional attributes are kept (transitive ones are passed on).
    (st.attrs.unknown ??= []).push({ flags, type, value: copyBytes(b, v, v + len) });
    return;
  }
  if (st.opts.ibgp === false && EBGP_DISCARDED.has(type)) {
    discarded.push(issue(type, `${attrName(type)} from an external peer ignored`, EBGP_RULES[type]!));
    return;
  }
  if (st.ctx.fourOctetAs && (type === AttrType.As4Path || type === AttrType.As4Aggregator)) {
    // RFC 6793 §6: AS4_PATH / AS4_AGGREGATOR between two NEW speakers are discarded.
    discarded.push(issue(type, `${attrName(type)} from a 4-octet-AS peer ignored`, 'RFC 6793 §6'));
    return;
  }
  let reason: string | undefined;
  let flagError = false;
  if ((flags & (AttrFlag.Optional | AttrFlag.Transitive)) !== spec.flags) {
    // RFC 7606 §3 c: Optional/Transitive bits in conflict → the attribute's malformed handling.
    reason = `${attrName(type)} flags 0x${flags.toString(16)} conflict with the attribute type`;
    flagError = true;
  } else {
    reason = spec.decode(b, v, len, st);
    if (isMp && reason === undefined && st.attrs.mpReach === undefined && type === AttrType.MpReachNlri) keepRaw(b, flags, type, v, len, st.attrs);
    if (isMp && reason === undefined && st.attrs.mpUnreach === undefined && type === AttrType.MpUnreachNlri) keepRaw(b, flags, type, v, len, st.attrs);
  }
  if (reason === undefined) return;
  let action = spec.action;
  // NEXT_HOP only matters for IPv4 NLRI (RFC 4760 §3): without it a bad one is just dropped.
  if (type === AttrType.NextHop && !st.hasIpv4Nlri) action = 'discard';
  if (action === 'reset') {
    // RFC 7606 §5.3 / RFC 4760 §7: MP attribute errors — session reset or AFI/SAFI disable.
    const sub = flagError ? UpdateSubcode.AttributeFlagsError : UpdateSubcode.OptionalAttributeError;
    const family = len >= 3 ? { afi: rd16(b, v), safi: b[v + 2]! } : undefined;
    throw updateError(sub, reason, copyBytes(b, v - (flags & AttrFlag.ExtendedLength ? 4 : 3), v + len), family);
  }
  (action === 'discard' ? discarded : withdrawIssues).push(issue(type, reason, flagError ? 'RFC 7606 §3 c' : spec.rule));
}

/** An MP attribute for an AFI/SAFI this codec does not parse (RFC 4760 §7 lets it be ignored). */
function keepRaw(b: Uint8Array, flags: number, type: number, v: number, len: number, attrs: PathAttributes): void {
  (attrs.unknown ??= []).push({ flags, type, value: copyBytes(b, v, v + len) });
}

/** Octet ranges [start, end) of the three variable fields of an UPDATE. */
export interface UpdateFields {
  withdrawn: [number, number];
  attributes: [number, number];
  nlri: [number, number];
}

/**
 * Locates the withdrawn, path attribute and NLRI fields of an UPDATE (`b` whole, header
 * included) without decoding them — e.g. to walk the NLRI with `forEachNlri` after
 * `decodeUpdate` accepted the message. Throws BgpCodecError (Malformed Attribute List) when the
 * lengths are inconsistent (RFC 4271 §6.3).
 */
export function locateUpdateFields(b: Uint8Array): UpdateFields {
  const end = b.length;
  let p = HEADER_LEN;
  if (p + 4 > end) throw updateError(UpdateSubcode.MalformedAttributeList, 'UPDATE shorter than its fixed fields');
  const wLen = rd16(b, p);
  p += 2;
  // RFC 7606 §3 b (RFC 4271 §6.3): inconsistent lengths → Malformed Attribute List, session reset.
  if (p + wLen + 2 > end) throw updateError(UpdateSubcode.MalformedAttributeList, `withdrawn routes length ${wLen} overruns the message`);
  const w: [number, number] = [p, p + wLen];
  p += wLen;
  const aLen = rd16(b, p);
  p += 2;
  if (p + aLen > end) throw updateError(UpdateSubcode.MalformedAttributeList, `total path attribute length ${aLen} overruns the message`);
  return { withdrawn: w, attributes: [p, p + aLen], nlri: [p + aLen, end] };
}

/** Where the NLRI of an MP_REACH_NLRI / MP_UNREACH_NLRI attribute lie in the message. */
export interface MpNlriField {
  afi: number;
  safi: number;
  /** Octet range [start, end) of the NLRI (MP_REACH: after the next hop and reserved octet). */
  start: number;
  end: number;
}

/**
 * Finds the first attribute of `type` (MP_REACH_NLRI or MP_UNREACH_NLRI) in the path attribute
 * field `b[start..end)` and returns where its NLRI lie, without decoding anything — e.g. to walk
 * the NLRI left undecoded by `lazyIpv6Nlri` with `forEachIpv6Nlri`. For a message `decodeUpdate`
 * accepted; undefined when the attribute is absent or too short to hold its fixed fields.
 */
export function locateMpNlri(b: Uint8Array, start: number, end: number, type: 14 | 15): MpNlriField | undefined {
  let p = start;
  while (p + 3 <= end) {
    const hdr = b[p]! & AttrFlag.ExtendedLength ? 4 : 3;
    if (p + hdr > end) return undefined;
    const len = hdr === 4 ? rd16(b, p + 2) : b[p + 2]!;
    const v = p + hdr;
    if (b[p + 1] === type) {
      if (len < (type === AttrType.MpReachNlri ? 5 : 3) || v + len > end) return undefined;
      const nlri = type === AttrType.MpReachNlri ? v + 4 + b[v + 3]! + 1 : v + 3;
      return nlri > v + len ? undefined : { afi: rd16(b, v), safi: b[v + 2]!, start: nlri, end: v + len };
    }
    p = v + len;
  }
  return undefined;
}

/** Decodes the MP NLRI that `lazyIpv6Nlri` left out of `attrs` (the treat-as-withdraw path). */
function decodeLazyMp(b: Uint8Array, field: [number, number], attrs: PathAttributes, ctx: CodecContext): void {
  const addPath = ctx.addPath.has('ipv6-unicast');
  const fam = { afi: 2, safi: 1 };
  const reach = attrs.mpReach;
  const r = reach && reach.afi === 2 && reach.safi === 1 ? locateMpNlri(b, field[0], field[1], AttrType.MpReachNlri) : undefined;
  if (reach && r) attrs.mpReach = { ...reach, nlri: decodeNlri(b, r.start, r.end, 2, addPath, [], fam) };
  const un = attrs.mpUnreach;
  const u = un && un.afi === 2 && un.safi === 1 ? locateMpNlri(b, field[0], field[1], AttrType.MpUnreachNlri) : undefined;
  if (un && u) attrs.mpUnreach = { ...un, withdrawn: decodeNlri(b, u.start, u.end, 2, addPath, [], fam) };
}

/**
 * Decodes an UPDATE (`b` is the whole message, header included and already validated by
 * `readMessageHeader`). Returns the RFC 7606 outcome or throws BgpCodecError for session reset.
 */
export function decodeUpdate(b: Uint8Array, ctx: CodecContext, opts: DecodeOptions = {}): UpdateOutcome {
  const f = locateUpdateFields(b);
  const v4AddPath = ctx.addPath.has('ipv4-unicast');
  // RFC 7606 §5.3: an unparsable withdrawn or NLRI field → session reset (Invalid Network Field).
  const withdrawn = decodeNlri(b, f.withdrawn[0], f.withdrawn[1], 1, v4AddPath, []);
  const nlri: Prefix[] = [];
  let nlriCount: number;
  if (opts.lazyIpv4Nlri) nlriCount = checkNlri(b, f.nlri[0], f.nlri[1], 1, v4AddPath);
  else nlriCount = decodeNlri(b, f.nlri[0], f.nlri[1], 1, v4AddPath, nlri).length;
  const r = decodeAttributes(b, f.attributes[0], f.attributes[1], ctx, opts, nlriCount > 0);
  missingWellKnown(r, nlriCount > 0);
  if (r.withdrawIssues.length > 0) {
    const first = r.withdrawIssues[0]!;
    // RFC 7606 §5.2: path attributes but no reachable NLRI — an error calling for more than
    // "attribute discard" resets the session (nothing to withdraw; the NLRI may be what broke).
    // An MP_REACH of a family we do not parse counts as reachable.
    const reachable = nlriCount > 0 || r.reachCount > 0 || (r.attrs.unknown ?? []).some((u) => u.type === AttrType.MpReachNlri);
    if (!reachable) throw updateError(subcodeOf(first), `${first.reason} in an UPDATE without reachable NLRI (RFC 7606 §5.2)`);
    if (opts.lazyIpv6Nlri) decodeLazyMp(b, f.attributes, r.attrs, ctx);
    return treatAsWithdraw(withdrawn, nlri, r.attrs, r.withdrawIssues);
  }
  return { action: 'accept', update: { type: 'update', withdrawn, attributes: reconciled(r.attrs, ctx, opts), nlri }, discarded: r.discarded };
}

/** RFC 6793 §4.2.3: AS4_PATH / AS4_AGGREGATOR merged in from a 2-octet-AS peer (unless turned off). */
function reconciled(attrs: PathAttributes, ctx: CodecContext, opts: DecodeOptions): PathAttributes {
  return !ctx.fourOctetAs && opts.reconcileAs4 !== false ? reconcileAs4(attrs) : attrs;
}

/**
 * The path attributes of an UPDATE with IPv4 NLRI that `decodeUpdate` accepted, decoded again
 * from the path attribute field alone (`b[start..end)`), with the same `ctx` and `opts`: the
 * same value `decodeUpdate` gave as `update.attributes` (decoding is deterministic). Lets a
 * holder keep the octets instead of the objects.
 */
export function decodeAcceptedAttributes(b: Uint8Array, start: number, end: number, ctx: CodecContext, opts: DecodeOptions): PathAttributes {
  return reconciled(decodeAttributes(b, start, end, ctx, opts, true).attrs, ctx, opts);
}

/** The RFC 4271 §6.3 subcode naming an attribute problem, for the NOTIFICATION of a reset. */
function subcodeOf(i: AttributeIssue): number {
  if (i.rule === 'RFC 7606 §4') return UpdateSubcode.MalformedAttributeList;
  if (i.rule === 'RFC 7606 §3 c') return UpdateSubcode.AttributeFlagsError;
  switch (i.attrType) {
    case AttrType.Origin:
      return UpdateSubcode.InvalidOriginAttribute;
    case AttrType.AsPath:
      return UpdateSubcode.MalformedAsPath;
    case AttrType.NextHop:
      return UpdateSubcode.InvalidNextHopAttribute;
    case AttrType.LocalPref:
      return UpdateSubcode.AttributeLengthError;
    default:
      return UpdateSubcode.OptionalAttributeError;
  }
}

/** RFC 7606 §3 d: with NLRI present, a missing ORIGIN, AS_PATH (or NEXT_HOP for IPv4 NLRI) → treat-as-withdraw. */
function missingWellKnown(r: AttributesResult, hasIpv4Nlri: boolean): void {
  const a = r.attrs;
  if (!hasIpv4Nlri && r.reachCount === 0) return;
  if (a.origin === undefined) missing(r, AttrType.Origin);
  if (a.asPath === undefined) missing(r, AttrType.AsPath);
  if (hasIpv4Nlri && a.nextHop === undefined) missing(r, AttrType.NextHop);
}

function missing(r: AttributesResult, t: number): void {
  for (const i of r.withdrawIssues) if (i.attrType === t) return; // already reported as malformed
  r.withdrawIssues.push(issue(t, `well-known ${attrName(t)} missing`, 'RFC 7606 §3 d'));
}

function treatAsWithdraw(withdrawn: Prefix[], nlri: Prefix[], attrs: PathAttributes, issues: AttributeIssue[]): UpdateOutcome {
  const w = withdrawn.concat(nlri);
  let un: MpUnreach | undefined = attrs.mpUnreach;
  const reach = attrs.mpReach;
  if (reach && reach.nlri.length > 0) {
    if (!un) un = { afi: reach.afi, safi: reach.safi, withdrawn: reach.nlri };
    else if (un.afi === reach.afi && un.safi === reach.safi) un = { ...un, withdrawn: un.withdrawn.concat(reach.nlri) };
    else if (reach.afi === 1 && reach.safi === 1) w.push(...reach.nlri);
    else if (un.afi === 1 && un.safi === 1) {
      w.push(...un.withdrawn);
      un = { afi: reach.afi, safi: reach.safi, withdrawn: reach.nlri };
    } else {
      // Two non-IPv4-unicast families cannot both be expressed as withdrawals: reset.
      throw updateError(UpdateSubcode.MalformedAttributeList, `treat-as-withdraw for two MP families (${issues[0]?.reason ?? ''})`);
    }
  }
  return { action: 'treat-as-withdraw', update: { type: 'update', withdrawn: w, attributes: un ? { mpUnreach: un } : {}, nlri: [] }, issues };
}
