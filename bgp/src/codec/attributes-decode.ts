/**
 * Path attribute decoding with the error handling of RFC 7606, table-driven (one row per
 * attribute: expected flags, the action for its malformed case, the rule, the value decoder).
 *
 * Invariants: a malformed attribute is never stored; its issue is recorded with the action the
 * RFC assigns — "attribute discard" (dropped, UPDATE accepted), "treat-as-withdraw", or "session
 * reset" (thrown as BgpCodecError). The strongest action found wins (RFC 7606 §3, last para).
 * Only the first of duplicate attributes is kept (RFC 7606 §3 g), except MP_REACH/MP_UNREACH,
 * whose duplicates reset the session.
 */
import { formatIpv4, formatIpv6 } from './addr.js';
import { decodeAsPath } from './as-path.js';
import { updateError } from './errors.js';
import { checkNlri, decodeNlri } from './nlri.js';
import { copyBytes, rd16, rd32 } from './writer.js';
import {
  AttrFlag,
  AttrType,
  UpdateSubcode,
  type AsPathSegment,
  type AttributeIssue,
  type CodecContext,
  type Family,
  type PathAttributes,
  type Prefix,
} from './types.js';

/** Per-session decoding options beyond the negotiated CodecContext. */
export interface DecodeOptions {
  /**
   * The peer is internal (iBGP). `false` (eBGP) makes LOCAL_PREF, ORIGINATOR_ID and CLUSTER_LIST
   * subject to "attribute discard" (RFC 7606 §7.5, §7.9, §7.10). Undefined is treated as internal.
   */
  ibgp?: boolean;
  /** RFC 6793 §4.2.3: merge AS4_PATH/AS4_AGGREGATOR into AS_PATH/AGGREGATOR (default true). */
  reconcileAs4?: boolean;
  /**
   * With `ibgp: false`: the peer's AS, which must lead the AS_PATH (RFC 4271 §6.3; RFC 7606 §7.2
   * → treat-as-withdraw). Leave unset for route servers, which do not prepend their AS.
   */
  peerAs?: number;
  /**
   * Fast ingestion: the IPv4 NLRI field is syntax-checked (RFC 7606 §5.3) but not turned into
   * Prefix objects, so `update.nlri` is always empty — also in a treat-as-withdraw outcome. The
   * caller walks `locateUpdateFields(b).nlri` with `forEachIpv4Nlri` instead (as announcements on
   * accept, as withdrawals on treat-as-withdraw).
   */
  lazyIpv4Nlri?: boolean;
  /**
   * The same for IPv6 unicast (AFI 2, SAFI 1) in MP_REACH_NLRI / MP_UNREACH_NLRI: syntax-checked,
   * not decoded. In an accepted outcome their `nlri` / `withdrawn` lists are empty — even when
   * the field is not (so such an MP_UNREACH is no End-of-RIB sign): the caller walks the fields
   * (`locateMpNlri`, `forEachIpv6Nlri`). A treat-as-withdraw outcome lists them as usual.
   */
  lazyIpv6Nlri?: boolean;
}

/** How a malformed attribute is handled (RFC 7606 §2). */
export type AttrAction = 'discard' | 'withdraw' | 'reset';

/** What decoding the path attribute field produced. */
export interface AttributesResult {
  attrs: PathAttributes;
  /** Attributes dropped under "attribute discard". */
  discarded: AttributeIssue[];
  /** Problems that call for "treat-as-withdraw" (empty when none). */
  withdrawIssues: AttributeIssue[];
  /** Prefixes in MP_REACH_NLRI (a family this codec parses), decoded or not (`lazyIpv6Nlri`). */
  reachCount: number;
}

interface DecodeState {
  ctx: CodecContext;
  opts: DecodeOptions;
  attrs: PathAttributes;
  /** The IPv4 NLRI field is non-empty (NEXT_HOP matters only then). */
  hasIpv4Nlri: boolean;
  /** See AttributesResult. */
  reachCount: number;
}

interface AttrSpec {
  /** Expected Optional and Transitive bits (RFC 4271 §5). */
  flags: number;
  action: AttrAction;
  rule: string;
  /** Decodes `b[p..p+len)` into `st.attrs`; returns why it is malformed, or undefined. */
  decode(b: Uint8Array, p: number, len: number, st: DecodeState): string | undefined;
}

const WK = AttrFlag.Transitive; // well-known: optional bit clear, transitive set
const OPT = AttrFlag.Optional; // optional non-transitive
const OPT_T = AttrFlag.Optional | AttrFlag.Transitive; // optional transitive

function fixed(len: number, want: number, name: string): string | undefined {
  return len === want ? undefined : `${name} length ${len}, expected ${want}`;
}

function multiple(len: number, unit: number, name: string): string | undefined {
  return len > 0 && len % unit === 0 ? undefined : `${name} length ${len} is not a non-zero multiple of ${unit}`;
}

function ipv4List(b: Uint8Array, p: number, len: number): string[] {
  const out = new Array<string>(len >> 2);
  for (let i = 0; i < out.length; i++) out[i] = formatIpv4(b, p + 4 * i);
  return out;
}

function aggregator(b: Uint8Array, p: number, len: number, asnSize: 2 | 4): { asn: number; address: string } | string {
  if (len !== asnSize + 4) return `length ${len}, expected ${asnSize + 4}`;
  const asn = asnSize === 2 ? rd16(b, p) : rd32(b, p);
  if (asn === 0) return 'AS 0'; // RFC 7607 §2
  return { asn, address: formatIpv4(b, p + asnSize) };
}

/** RFC 4271 §6.3 semantic NEXT_HOP check: never 0/8, loopback, or class D/E. */
function martianNextHop(b: Uint8Array, p: number): boolean {
  const a = b[p]!;
  return a === 0 || a === 127 || a >= 224;
}

/** The Tabby family of an AFI/SAFI pair, or undefined for families Tabby does not carry. */
export function familyOf(afi: number, safi: number): Family | undefined {
  if (safi !== 1) return undefined;
  return afi === 1 ? 'ipv4-unicast' : afi === 2 ? 'ipv6-unicast' : undefined;
}

/** RFC 4760 §3 / §4: the families whose NLRI encoding this codec understands. */
export function supportedFamily(afi: number, safi: number): boolean {
  return (afi === 1 || afi === 2) && (safi === 1 || safi === 2);
}

function mpError(what: string, afi: number, safi: number): Error {
  // RFC 7606 §7.11/§7.12, RFC 4760 §7: session reset (or AFI/SAFI disable), Optional Attribute Error.
  return updateError(UpdateSubcode.OptionalAttributeError, what, undefined, { afi, safi });
}

function decodeMpReach(b: Uint8Array, p: number, len: number, st: DecodeState): string | undefined {
  const end = p + len;
  if (len < 5) throw mpError(`MP_REACH_NLRI length ${len} is too short`, 0, 0);
  const afi = rd16(b, p);
  const safi = b[p + 2]!;
  const nhLen = b[p + 3]!;
  if (!supportedFamily(afi, safi)) return undefined; // kept raw by the caller (see decodeAttributes)
  // RFC 7606 §7.11: a next hop length inconsistent with the AFI hides the NLRI → session reset.
  const okLen = afi === 2 ? nhLen === 16 || nhLen === 32 : nhLen === 4 || nhLen === 16 || nhLen === 32;
  if (!okLen || p + 4 + nhLen + 1 > end) throw mpError(`MP_REACH_NLRI next hop length ${nhLen} is invalid for AFI ${afi}`, afi, safi);
  const q = p + 4;
  const nextHops = nhLen === 4 ? [formatIpv4(b, q)] : nhLen === 16 ? [formatIpv6(b, q)] : [formatIpv6(b, q), formatIpv6(b, q + 16)];
  // RFC 4760 §3: the reserved octet (former SNPA count) is ignored.
  const nlriStart = q + nhLen + 1;
  const fam = familyOf(afi, safi);
  const addPath = fam !== undefined && st.ctx.addPath.has(fam);
  if (lazy(st, afi, safi)) {
    // RFC 7606 §5.3: the field is still checked here; an unparsable one resets the session.
    st.reachCount = checkNlri(b, nlriStart, end, 2, addPath, { afi, safi });
    st.attrs.mpReach = { afi, safi, nextHops, nlri: [] };
    return undefined;
  }
  const nlri = decodeNlri(b, nlriStart, end, afi as 1 | 2, addPath, [], { afi, safi });
  st.reachCount = nlri.length;
  st.attrs.mpReach = { afi, safi, nextHops, nlri };
  return undefined;
}

/** The NLRI of this MP attribute are left to the caller (`DecodeOptions.lazyIpv6Nlri`). */
function lazy(st: DecodeState, afi: number, safi: number): boolean {
  return st.opts.lazyIpv6Nlri === true && afi === 2 && safi === 1;
}

function decodeMpUnreach(b: Uint8Array, p: number, len: number, st: DecodeState): string | undefined {
  if (len < 3) throw mpError(`MP_UNREACH_NLRI length ${len} is too short`, 0, 0);
  const afi = rd16(b, p);
  const safi = b[p + 2]!;
  if (!supportedFamily(afi, safi)) return undefined;
  const fam = familyOf(afi, safi);
  const addPath = fam !== undefined && st.ctx.addPath.has(fam);
  if (lazy(st, afi, safi)) checkNlri(b, p + 3, p + len, 2, addPath, { afi, safi }); // RFC 7606 §5.3, as below
  const withdrawn: Prefix[] = lazy(st, afi, safi) ? [] : decodeNlri(b, p + 3, p + len, afi as 1 | 2, addPath, [], { afi, safi });
  st.attrs.mpUnreach = { afi, safi, withdrawn };
  return undefined;
}

/** AS_CONFED_SEQUENCE / AS_CONFED_SET (RFC 5065 §3); a module-level function, not a closure per UPDATE. */
function isConfedSegment(s: AsPathSegment): boolean {
  return s.type > 2;
}

/** RFC 5701 IPv6 Address Specific Extended Community (type 25): length-checked only (RFC 7606 §7.15). */
export const IPV6_EXTENDED_COMMUNITIES = 25;

/** The attribute table; types not listed are unrecognised. */
export const ATTRIBUTE_SPECS: ReadonlyMap<number, AttrSpec> = new Map<number, AttrSpec>([
  [AttrType.Origin, { flags: WK, action: 'withdraw', rule: 'RFC 7606 §7.1', decode(b, p, len, st) {
    if (len !== 1) return `ORIGIN length ${len}, expected 1`;
    const v = b[p]!;
    if (v > 2) return `ORIGIN value ${v} is not 0-2`;
    st.attrs.origin = v as 0 | 1 | 2;
    return undefined;
  } }],
  [AttrType.AsPath, { flags: WK, action: 'withdraw', rule: 'RFC 7606 §7.2', decode(b, p, len, st) {
    const r = decodeAsPath(b, p, p + len, st.ctx.fourOctetAs ? 4 : 2);
    if (typeof r === 'string') return `AS_PATH ${r}`;
    if (st.opts.ibgp === false) {
      // RFC 5065 §5.1: confederation segments from outside the confederation are malformed.
      if (r.some(isConfedSegment)) return 'AS_PATH from an external peer carries confederation segments';
      const first = r[0];
      const peerAs = st.opts.peerAs;
      if (peerAs !== undefined && (first === undefined || first.type !== 2 || first.asns[0] !== peerAs)) {
        return `AS_PATH does not start with the peer's AS ${peerAs}`; // RFC 4271 §6.3
      }
    }
    st.attrs.asPath = r;
    return undefined;
  } }],
  [AttrType.NextHop, { flags: WK, action: 'withdraw', rule: 'RFC 7606 §7.3', decode(b, p, len, st) {
    if (len !== 4) return `NEXT_HOP length ${len}, expected 4`;
    if (martianNextHop(b, p)) return `NEXT_HOP ${formatIpv4(b, p)} is not a usable unicast address`; // RFC 4271 §6.3
    st.attrs.nextHop = formatIpv4(b, p);
    return undefined;
  } }],
  [AttrType.MultiExitDisc, { flags: OPT, action: 'withdraw', rule: 'RFC 7606 §7.4', decode(b, p, len, st) {
    const e = fixed(len, 4, 'MULTI_EXIT_DISC');
    if (e === undefined) st.attrs.med = rd32(b, p);
    return e;
  } }],
  [AttrType.LocalPref, { flags: WK, action: 'withdraw', rule: 'RFC 7606 §7.5', decode(b, p, len, st) {
    const e = fixed(len, 4, 'LOCAL_PREF');
    if (e === undefined) st.attrs.localPref = rd32(b, p);
    return e;
  } }],
  [AttrType.AtomicAggregate, { flags: WK, action: 'discard', rule: 'RFC 7606 §7.6', decode(_b, _p, len, st) {
    const e = fixed(len, 0, 'ATOMIC_AGGREGATE');
    if (e === undefined) st.attrs.atomicAggregate = true;
    return e;
  } }],
  [AttrType.Aggregator, { flags: OPT_T, action: 'discard', rule: 'RFC 7606 §7.7', decode(b, p, len, st) {
    const r = aggregator(b, p, len, st.ctx.fourOctetAs ? 4 : 2);
    if (typeof r === 'string') return `AGGREGATOR ${r}`;
    st.attrs.aggregator = r;
    return undefined;
  } }],
  [AttrType.Communities, { flags: OPT_T, action: 'withdraw', rule: 'RFC 7606 §7.8', decode(b, p, len, st) {
    const e = multiple(len, 4, 'COMMUNITIES');
    if (e !== undefined) return e;
    const out = new Array<number>(len >> 2);
    for (let i = 0; i < out.length; i++) out[i] = rd32(b, p + 4 * i);
    st.attrs.communities = out;
    return undefined;
  } }],
  [AttrType.OriginatorId, { flags: OPT, action: 'withdraw', rule: 'RFC 7606 §7.9', decode(b, p, len, st) {
    const e = fixed(len, 4, 'ORIGINATOR_ID');
    if (e === undefined) st.attrs.originatorId = formatIpv4(b, p);
    return e;
  } }],
  [AttrType.ClusterList, { flags: OPT, action: 'withdraw', rule: 'RFC 7606 §7.10', decode(b, p, len, st) {
    const e = multiple(len, 4, 'CLUSTER_LIST');
    if (e === undefined) st.attrs.clusterList = ipv4List(b, p, len);
    return e;
  } }],
  [AttrType.MpReachNlri, { flags: OPT, action: 'reset', rule: 'RFC 7606 §7.11', decode: decodeMpReach }],
  [AttrType.MpUnreachNlri, { flags: OPT, action: 'reset', rule: 'RFC 7606 §7.12', decode: decodeMpUnreach }],
  [AttrType.ExtendedCommunities, { flags: OPT_T, action: 'withdraw', rule: 'RFC 7606 §7.14', decode(b, p, len, st) {
    const e = multiple(len, 8, 'EXTENDED_COMMUNITIES');
    if (e !== undefined) return e;
    const out = new Array<Uint8Array>(len >> 3);
    for (let i = 0; i < out.length; i++) out[i] = copyBytes(b, p + 8 * i, p + 8 * i + 8);
    st.attrs.extendedCommunities = out;
    return undefined;
  } }],
  [IPV6_EXTENDED_COMMUNITIES, { flags: OPT_T, action: 'withdraw', rule: 'RFC 7606 §7.15', decode(b, p, len, st) {
    // RFC 5701: 20 octets each; validated here, carried on as an unrecognised transitive attribute.
    const e = multiple(len, 20, 'IPV6_EXTENDED_COMMUNITIES');
    if (e === undefined) (st.attrs.unknown ??= []).push({ flags: AttrFlag.Optional | AttrFlag.Transitive, type: IPV6_EXTENDED_COMMUNITIES, value: copyBytes(b, p, p + len) });
    return e;
  } }],
  [AttrType.As4Path, { flags: OPT_T, action: 'discard', rule: 'RFC 6793 §6', decode(b, p, len, st) {
    const r = decodeAsPath(b, p, p + len, 4);
    if (typeof r === 'string') return `AS4_PATH ${r}`;
    if (r.length === 0) return 'AS4_PATH is empty'; // RFC 7606 §3: only AS_PATH and ATOMIC_AGGREGATE may be empty
    // RFC 6793 §6: confederation segments in AS4_PATH make it malformed.
    if (r.some(isConfedSegment)) return 'AS4_PATH carries confederation segments';
    st.attrs.as4Path = r;
    return undefined;
  } }],
  [AttrType.As4Aggregator, { flags: OPT_T, action: 'discard', rule: 'RFC 6793 §6', decode(b, p, len, st) {
    const r = aggregator(b, p, len, 4);
    if (typeof r === 'string') return `AS4_AGGREGATOR ${r}`;
    st.attrs.as4Aggregator = r;
    return undefined;
  } }],
  [AttrType.LargeCommunities, { flags: OPT_T, action: 'withdraw', rule: 'RFC 8092 §6', decode(b, p, len, st) {
    const e = multiple(len, 12, 'LARGE_COMMUNITIES');
    if (e !== undefined) return e;
    const out = new Array<[number, number, number]>(len / 12);
    for (let i = 0; i < out.length; i++) out[i] = [rd32(b, p + 12 * i), rd32(b, p + 12 * i + 4), rd32(b, p + 12 * i + 8)];
    st.attrs.largeCommunities = out;
    return undefined;
  } }],
]);

/** The same table indexed by type code (an array lookup on the hot path). */
export const SPEC_BY_TYPE: ReadonlyArray<AttrSpec | undefined> = Array.from({ length: 256 }, (_, t) => ATTRIBUTE_SPECS.get(t));

const NAMES: Record<number, string> = Object.fromEntries(Object.entries(AttrType).map(([k, v]) => [v, k]));

/** A readable name of an attribute type, for messages. */
export function attrName(type: number): string {
  return NAMES[type] ?? `attribute ${type}`;
}

