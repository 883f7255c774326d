/**
 * Hash-consed path attribute sets.
 *
 * Invariants:
 * - One `AttrSet` object per distinct attribute set (`sameAttrs` equality, attr-hash.ts); its
 *   `attrs` are deep-frozen and never carry MP_REACH/MP_UNREACH (the next hops are in
 *   `nextHops`), so a million prefixes sharing a few thousand attribute sets cost one small int
 *   each. Sets are found by a 32-bit content hash in an open-addressing table of ids (typed
 *   arrays): no key string per set or per UPDATE.
 * - A set interned from received octets (`RawAttrs`, the IPv4 fast path) keeps only those
 *   octets and decodes its `attrs` on first use (raw-attrs.ts); equal octets under one decoder
 *   are found without decoding or comparing objects.
 * - Every RIB table entry that names an attribute set holds one reference (`retain`); when the
 *   count drops to zero the set is forgotten and its id reused. Ids are small non-negative ints.
 * - The decision-process inputs (AS_PATH length, neighbour AS, MED, ...) are computed once per
 *   set, at interning time.
 */
import type { AsPathSegment, PathAttributes, RawAttribute } from '../codec/types.js';
import { hashAttrs, sameAttrs } from './attr-hash.js';
import { parseIpv4 } from './prefix-key.js';
import { octetString, sameOctets, type RawAttrDecoder, type RawAttrs } from './raw-attrs.js';

/** An interned, immutable attribute set with its decision-process inputs precomputed. */
export class AttrSet {
  /** References from RIB tables; the set is live while > 0 (or pinned). */
  refs = 0;
  /** Id in the store, reused after the set dies (-1 once dead). */
  id: number;
  /** RFC 4271 §9.1.2.2 (a): AS_SET counts 1, confederation segments 0 (RFC 5065 §5.3). */
  readonly asPathLen: number;
  /** The neighbouring AS for MED comparison: first AS of the first AS_SEQUENCE, 0 if none. */
  readonly neighborAs: number;
  /** RFC 4271 §9.1.2.2 (c): a missing MED counts as 0. */
  readonly med: number;
  /** ORIGIN, Incomplete (2) if absent. */
  readonly origin: number;
  /** LOCAL_PREF, or -1 when absent (the RIB applies its default). */
  readonly localPref: number;
  /** ORIGINATOR_ID as an unsigned 32-bit number, or -1. */
  readonly originatorId: number;
  /** RFC 4456 §9: CLUSTER_LIST length. */
  readonly clusterListLen: number;
  /** The first next hop ("" if none). */
  readonly nextHop: string;
  /** The frozen attributes (undefined until first read, for a set kept as octets). */
  private frozen: Readonly<PathAttributes> | undefined;

  /**
   * `attrs`: the set's attributes without MP_REACH/MP_UNREACH — deep-frozen and kept, or, with
   * `raw` (the received octets, one char each) and its `decoder`, only read here.
   */
  constructor(
    id: number,
    /** The content hash (`hashAttrs`). */
    readonly hash: number,
    attrs: Readonly<PathAttributes>,
    /** NEXT_HOP (IPv4) or the MP_REACH next hops (global [, link-local]). */
    readonly nextHops: readonly string[],
    readonly raw?: string,
    readonly decoder?: RawAttrDecoder,
  ) {
    if (raw === undefined) this.frozen = attrs;
    this.id = id;
    this.asPathLen = asPathLength(attrs.asPath);
    this.neighborAs = neighborAs(attrs.asPath);
    this.med = attrs.med ?? 0;
    this.origin = attrs.origin ?? 2;
    this.localPref = attrs.localPref ?? -1;
    this.originatorId = attrs.originatorId !== undefined ? parseIpv4(attrs.originatorId) : -1;
    this.clusterListLen = attrs.clusterList?.length ?? 0;
    this.nextHop = nextHops[0] ?? '';
  }

  /** The attributes, deep-frozen, without MP_REACH/MP_UNREACH. */
  get attrs(): Readonly<PathAttributes> {
    return (this.frozen ??= frozenCopy(this.decoder!.decode(this.raw!), this.nextHop));
  }
}

/** RFC 4271 §9.1.2.2 (a) path length; RFC 5065 §5.3: confederation segments do not count. */
export function asPathLength(path: readonly AsPathSegment[] | undefined): number {
  let n = 0;
  if (path) for (const s of path) n += s.type === 2 ? s.asns.length : s.type === 1 ? 1 : 0;
  return n;
}

/** The AS a route was learned from, for MED comparison (RFC 4271 §9.1.2.2 (c)); 0 = our own AS. */
export function neighborAs(path: readonly AsPathSegment[] | undefined): number {
  if (path) for (const s of path) if (s.type === 2 && s.asns.length > 0) return s.asns[0]!;
  return 0;
}

function frozenPath(p: readonly AsPathSegment[]): AsPathSegment[] {
  return Object.freeze(p.map((s) => Object.freeze({ type: s.type, asns: Object.freeze(s.asns.slice()) as number[] }))) as AsPathSegment[];
}

/**
 * A frozen copy of `a` without MP_REACH/MP_UNREACH and without undefined fields: field by field
 * (no spread, `delete` or structuredClone, which made every set a slow dictionary object), so
 * freezing never reaches into the caller's objects. Typed arrays are copied, not frozen. `hop`:
 * an equal NEXT_HOP string already held (the shared next hops), used instead of `a.nextHop`.
 */
function frozenCopy(a: Readonly<PathAttributes>, hop: string | undefined): Readonly<PathAttributes> {
  const c: PathAttributes = {};
  if (a.origin !== undefined) c.origin = a.origin;
  if (a.asPath !== undefined) c.asPath = frozenPath(a.asPath);
  if (a.nextHop !== undefined) c.nextHop = a.nextHop === hop ? hop : a.nextHop; // one string shared by many sets
  if (a.med !== undefined) c.med = a.med;
  if (a.localPref !== undefined) c.localPref = a.localPref;
  if (a.atomicAggregate !== undefined) c.atomicAggregate = a.atomicAggregate;
  if (a.aggregator !== undefined) c.aggregator = Object.freeze({ asn: a.aggregator.asn, address: a.aggregator.address });
  if (a.communities !== undefined) c.communities = Object.freeze(a.communities.slice()) as number[];
  if (a.originatorId !== undefined) c.originatorId = a.originatorId;
  if (a.clusterList !== undefined) c.clusterList = Object.freeze(a.clusterList.slice()) as string[];
  if (a.extendedCommunities !== undefined) c.extendedCommunities = Object.freeze(a.extendedCommunities.map((x) => x.slice())) as Uint8Array[];
  if (a.largeCommunities !== undefined)
    c.largeCommunities = Object.freeze(a.largeCommunities.map((l) => Object.freeze(l.slice()) as [number, number, number])) as Array<[number, number, number]>;
  if (a.as4Path !== undefined) c.as4Path = frozenPath(a.as4Path);
  if (a.as4Aggregator !== undefined) c.as4Aggregator = Object.freeze({ asn: a.as4Aggregator.asn, address: a.as4Aggregator.address });
  if (a.unknown !== undefined) c.unknown = Object.freeze(a.unknown.map((u: RawAttribute) => Object.freeze({ ...u, value: u.value.slice() }))) as RawAttribute[];
  return Object.freeze(c);
}

/** The next hops carried by an UPDATE's attributes: MP_REACH's if present, else NEXT_HOP. */
export function nextHopsOf(a: Readonly<PathAttributes>): string[] {
  if (a.mpReach) return a.mpReach.nextHops;
  return a.nextHop !== undefined ? [a.nextHop] : [];
}

/** The interning table. */
export class AttrStore {
  private readonly byId: (AttrSet | undefined)[] = [];
  private readonly free: number[] = [];
  /**
   * Open addressing, linear probing: slot i is (set id or -1 when empty, that set's hash) at
   * [2i, 2i + 1], side by side so a probe touches one cache line.
   */
  private table = emptyTable(MIN_SLOTS);
  private mask = MIN_SLOTS - 1;
  private count = 0;
  /** The next hops of the last new set: the next new set usually has the same (shared, frozen). */
  private lastHops: readonly string[] = Object.freeze([]);

  /** Number of live attribute sets. */
  get size(): number {
    return this.count;
  }

  /**
   * The interned set for `attrs` (MP_REACH/MP_UNREACH dropped; `nextHops` defaults to
   * `nextHopsOf(attrs)`). The caller must `retain` it to keep it alive. `raw`: the octets
   * `attrs` were decoded from, with the decoder that turns them into `attrs` again (raw-attrs.ts);
   * a new set then keeps the octets instead of a frozen copy.
   */
  intern(attrs: Readonly<PathAttributes>, nextHops: readonly string[] = nextHopsOf(attrs), raw?: RawAttrs, decoder?: RawAttrDecoder): AttrSet {
    const h = hashAttrs(attrs, nextHops);
    const t = this.table;
    let i = h & this.mask;
    for (let id = t[2 * i]!; id >= 0; id = t[2 * (i = (i + 1) & this.mask)]!) {
      if (t[2 * i + 1] !== h) continue;
      const s = this.byId[id]!;
      if (raw && decoder && s.decoder === decoder && sameOctets(s.raw!, raw.bytes, raw.start, raw.end)) return s;
      if (sameAttrs(attrs, nextHops, s.attrs, s.nextHops)) return s;
    }
    const hops = sameHops(this.lastHops, nextHops) ? this.lastHops : (this.lastHops = Object.freeze(nextHops.slice()));
    const id = this.free.length > 0 ? this.free.pop()! : this.byId.length;
    const set =
      raw && decoder
        ? new AttrSet(id, h, attrs, hops, octetString(raw.bytes, raw.start, raw.end), decoder)
        : new AttrSet(id, h, frozenCopy(attrs, hops[0]), hops);
    this.byId[id] = set;
    t[2 * i] = id;
    t[2 * i + 1] = h;
    if (++this.count * 2 > this.mask + 1) this.resize((this.mask + 1) * 2);
    return set;
  }

  /** The live set with this id (throws if none: a RIB invariant broke). */
  get(id: number): AttrSet {
    const s = this.byId[id];
    if (!s) throw new Error(`attribute set ${id} is not live`);
    return s;
  }

  /** Adds a reference. */
  retain(s: AttrSet): void {
    s.refs++;
  }

  /** Adds a reference by id. */
  retainId(id: number): void {
    this.byId[id]!.refs++;
  }

  /** Drops a reference by id; forgets the set when none remain. */
  releaseId(id: number): void {
    const s = this.byId[id]!;
    if (--s.refs > 0) return;
    this.unlink(s);
    this.byId[id] = undefined;
    this.free.push(id);
    s.id = -1;
  }

  /** Drops a reference; forgets the set when none remain. */
  release(s: AttrSet): void {
    this.releaseId(s.id);
  }

  /** Forgets a set that was interned but never retained (e.g. a rejected export). */
  dropIfUnused(s: AttrSet): void {
    if (s.refs === 0 && s.id >= 0) {
      s.refs = 1;
      this.releaseId(s.id);
    }
  }

  /** Removes `s` from the hash table (backward-shift deletion keeps every probe run unbroken). */
  private unlink(s: AttrSet): void {
    const { table: t, mask } = this;
    let i = s.hash & mask;
    while (t[2 * i] !== s.id) i = (i + 1) & mask;
    for (let j = (i + 1) & mask; t[2 * j]! >= 0; j = (j + 1) & mask) {
      // Move j back into the hole at i unless its home lies cyclically in (i, j].
      const home = t[2 * j + 1]! & mask;
      if (((j - home) & mask) >= ((j - i) & mask)) {
        t[2 * i] = t[2 * j]!;
        t[2 * i + 1] = t[2 * j + 1]!;
        i = j;
      }
    }
    t[2 * i] = -1;
    if (--this.count * 8 < mask + 1 && mask + 1 > MIN_SLOTS) this.resize((mask + 1) / 2);
  }

  private resize(cap: number): void {
    const old = this.table;
    const t = (this.table = emptyTable(cap));
    this.mask = cap - 1;
    for (let k = 0; k < old.length; k += 2) {
      const id = old[k]!;
      if (id < 0) continue;
      let i = old[k + 1]! & this.mask;
      while (t[2 * i]! >= 0) i = (i + 1) & this.mask;
      t[2 * i] = id;
      t[2 * i + 1] = old[k + 1]!;
    }
  }
}

const MIN_SLOTS = 64;

function emptyTable(slots: number): Int32Array {
  const t = new Int32Array(2 * slots);
  for (let i = 0; i < t.length; i += 2) t[i] = -1;
  return t;
}

function sameHops(x: readonly string[], y: readonly string[]): boolean {
  if (x.length !== y.length) return false;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}
