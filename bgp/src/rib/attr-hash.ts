/**
 * Content hash and equality of path attribute sets, for interning (attr-set.ts) without
 * building a key string per UPDATE.
 *
 * Invariants:
 * - `sameAttrs(a, nhA, b, nhB)` holds exactly when the two sets are the same set of attributes
 *   with the same next hops: field by field, arrays element by element and in order, octet
 *   strings octet by octet. Absent and `undefined` fields are the same; ATOMIC_AGGREGATE counts
 *   only as present or not (`false` = absent).
 * - Equal sets hash alike (`hashAttrs` reads exactly the fields `sameAttrs` compares).
 * - MP_REACH / MP_UNREACH are not part of a set (interning drops them) and are ignored here.
 * Pure, allocation-free.
 */
import type { AsPathSegment, PathAttributes, RawAttribute } from '../codec/types.js';

/** One mixing step (murmur3-style): h combined with the 32-bit value x. */
function mix(h: number, x: number): number {
  let k = Math.imul(x | 0, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  h ^= Math.imul(k, 0x1b873593);
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

function mixStr(h: number, s: string): number {
  h = mix(h, s.length);
  for (let i = 0; i < s.length; i++) h = mix(h, s.charCodeAt(i));
  return h;
}

function mixBytes(h: number, b: Uint8Array): number {
  h = mix(h, b.length);
  for (let i = 0; i < b.length; i++) h = mix(h, b[i]!);
  return h;
}

function mixNums(h: number, xs: readonly number[]): number {
  h = mix(h, xs.length);
  // `| 0` keeps values above 2^31 (communities) distinct modulo 2^32: they are 32-bit fields.
  for (let i = 0; i < xs.length; i++) h = mix(h, xs[i]!);
  return h;
}

function mixPath(h: number, p: readonly AsPathSegment[]): number {
  h = mix(h, p.length);
  for (const s of p) h = mixNums(mix(h, s.type), s.asns);
  return h;
}

/** Field tags, so that e.g. a MED and a LOCAL_PREF of the same value hash differently. */
const enum Tag {
  Origin = 1,
  AsPath,
  NextHop,
  Med,
  LocalPref,
  Atomic,
  Aggregator,
  Communities,
  OriginatorId,
  ClusterList,
  ExtCommunities,
  LargeCommunities,
  As4Path,
  As4Aggregator,
  Unknown,
  NextHops,
}

/** A 32-bit hash of the attribute set (MP attributes ignored) and its next hops. */
export function hashAttrs(a: Readonly<PathAttributes>, nextHops: readonly string[]): number {
  let h = 0x5bd1e995;
  h = mix(h, nextHops.length);
  for (const nh of nextHops) h = mixStr(h, nh);
  if (a.origin !== undefined) h = mix(mix(h, Tag.Origin), a.origin);
  if (a.asPath !== undefined) h = mixPath(mix(h, Tag.AsPath), a.asPath);
  if (a.nextHop !== undefined) h = mixStr(mix(h, Tag.NextHop), a.nextHop);
  if (a.med !== undefined) h = mix(mix(h, Tag.Med), a.med);
  if (a.localPref !== undefined) h = mix(mix(h, Tag.LocalPref), a.localPref);
  if (a.atomicAggregate) h = mix(h, Tag.Atomic);
  if (a.aggregator !== undefined) h = mixStr(mix(mix(h, Tag.Aggregator), a.aggregator.asn), a.aggregator.address);
  if (a.communities !== undefined) h = mixNums(mix(h, Tag.Communities), a.communities);
  if (a.originatorId !== undefined) h = mixStr(mix(h, Tag.OriginatorId), a.originatorId);
  if (a.clusterList !== undefined) {
    h = mix(mix(h, Tag.ClusterList), a.clusterList.length);
    for (const c of a.clusterList) h = mixStr(h, c);
  }
  if (a.extendedCommunities !== undefined) {
    h = mix(mix(h, Tag.ExtCommunities), a.extendedCommunities.length);
    for (const c of a.extendedCommunities) h = mixBytes(h, c);
  }
  if (a.largeCommunities !== undefined) {
    h = mix(mix(h, Tag.LargeCommunities), a.largeCommunities.length);
    for (const c of a.largeCommunities) h = mixNums(h, c);
  }
  if (a.as4Path !== undefined) h = mixPath(mix(h, Tag.As4Path), a.as4Path);
  if (a.as4Aggregator !== undefined) h = mixStr(mix(mix(h, Tag.As4Aggregator), a.as4Aggregator.asn), a.as4Aggregator.address);
  if (a.unknown !== undefined) {
    h = mix(mix(h, Tag.Unknown), a.unknown.length);
    for (const u of a.unknown) h = mixBytes(mix(mix(h, u.type), u.flags), u.value);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  return h;
}

function sameList<T>(x: readonly T[] | undefined, y: readonly T[] | undefined, eq: (a: T, b: T) => boolean): boolean {
  if (x === y) return true;
  if (x === undefined || y === undefined || x.length !== y.length) return false;
  for (let i = 0; i < x.length; i++) if (!eq(x[i]!, y[i]!)) return false;
  return true;
}

const same = <T>(a: T, b: T): boolean => a === b;

function sameBytes(x: Uint8Array, y: Uint8Array): boolean {
  if (x.length !== y.length) return false;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}

function sameSeg(x: AsPathSegment, y: AsPathSegment): boolean {
  return x.type === y.type && sameList(x.asns, y.asns, same);
}

function sameAgg(x: { asn: number; address: string } | undefined, y: { asn: number; address: string } | undefined): boolean {
  return x === y || (x !== undefined && y !== undefined && x.asn === y.asn && x.address === y.address);
}

function sameRaw(x: RawAttribute, y: RawAttribute): boolean {
  return x.type === y.type && x.flags === y.flags && sameBytes(x.value, y.value);
}

/** True when the two sets (MP attributes ignored) and their next hops are equal (see the module invariants). */
export function sameAttrs(a: Readonly<PathAttributes>, nhA: readonly string[], b: Readonly<PathAttributes>, nhB: readonly string[]): boolean {
  return (
    sameList(nhA, nhB, same) &&
    a.origin === b.origin &&
    a.nextHop === b.nextHop &&
    a.med === b.med &&
    a.localPref === b.localPref &&
    !a.atomicAggregate === !b.atomicAggregate &&
    a.originatorId === b.originatorId &&
    sameList(a.asPath, b.asPath, sameSeg) &&
    sameList(a.communities, b.communities, same) &&
    sameAgg(a.aggregator, b.aggregator) &&
    sameList(a.clusterList, b.clusterList, same) &&
    sameList(a.extendedCommunities, b.extendedCommunities, sameBytes) &&
    sameList(a.largeCommunities, b.largeCommunities, (x, y) => x[0] === y[0] && x[1] === y[1] && x[2] === y[2]) &&
    sameList(a.as4Path, b.as4Path, sameSeg) &&
    sameAgg(a.as4Aggregator, b.as4Aggregator) &&
    sameList(a.unknown, b.unknown, sameRaw)
  );
}
