/**
 * Applying a received UPDATE to a peer's Adj-RIB-In (and through it the Loc-RIB).
 *
 * Invariants:
 * - The built-in loop checks and LOCAL_PREF normalisation run once per UPDATE (per attribute
 *   set), the user's import filter once per prefix, and only when configured; without a filter
 *   the per-prefix work is a key parse and a few table probes, with no allocation.
 * - A route refused by a check or the filter withdraws the peer's earlier path for that prefix
 *   (the Adj-RIB-In is the post-policy view) and is remembered only in the `rejected` table.
 * - End-of-RIB (RFC 4724 §2): an UPDATE with nothing in it (IPv4), or only an empty
 *   MP_UNREACH_NLRI (other families).
 */
import type { Family, PathAttributes, Prefix, UpdateMessage, UpdateOutcome } from '../codec/types.js';
import type { AttrSet } from './attr-set.js';
import { nextHopsOf } from './attr-set.js';
import type { RibCore } from './loc-rib.js';
import type { FilterResult, PeerFamilyTables, PeerState } from './peer.js';
import { importCheck, normaliseImport, type ImportRejection, type LocalIdentity } from './policy.js';
import { familyOf, ipv6Key, keyToPrefix, parseIpv4, v6Key, type PrefixKey } from './prefix-key.js';
import { RawDecoders, type RawAttrs } from './raw-attrs.js';

/** What one UPDATE did. */
export interface IngestResult {
  /** Paths added or changed. */
  announced: number;
  /** Paths withdrawn (including treat-as-withdraw and refused routes that replaced a path). */
  withdrawn: number;
  /** Prefixes refused by the loop checks or the import filter. */
  rejected: number;
  /** Why the attribute set was refused by the built-in checks, if it was. */
  rejection?: ImportRejection;
  /** Set when the UPDATE was an End-of-RIB marker. */
  endOfRib?: Family;
  /** RFC 4486 Cease subcode 1 territory: accepted paths now exceed the peer's maxPrefixes. */
  exceeded: boolean;
  /** Import filter calls that threw (each treated as reject), and the first error. */
  filterErrors?: number;
  filterError?: unknown;
}

/** The family an End-of-RIB UPDATE stands for, if it is one (RFC 4724 §2). */
export function endOfRibFamily(u: UpdateMessage): Family | undefined {
  if (u.withdrawn.length > 0 || u.nlri.length > 0) return undefined;
  const keys = Object.keys(u.attributes).filter((k) => u.attributes[k as keyof PathAttributes] !== undefined);
  if (keys.length === 0) return 'ipv4-unicast';
  const un = u.attributes.mpUnreach;
  if (keys.length === 1 && un && un.withdrawn.length === 0) return familyOf(un.afi, un.safi);
  return undefined;
}

function keyOf(p: Prefix): PrefixKey | undefined {
  if (p.afi === 1) {
    const a = parseIpv4(p.addr);
    return a < 0 || p.len > 32 ? undefined : a * 64 + p.len;
  }
  return p.len > 128 ? undefined : ipv6Key(p.addr, p.len);
}

/** How many IPv4 announcements an UpdateSink queues and touches together. */
const BATCH = 32;

/** Per-UPDATE announcement state (see `Ingester.prepare`). */
export interface AnnounceContext {
  p: PeerState;
  family: Family;
  ft: PeerFamilyTables;
  /** The interned import attributes; undefined when the loop checks refused them. */
  set: AttrSet | undefined;
  res: IngestResult;
}

/**
 * The allocation-free ingestion path for NLRI decoded as numbers (the codec's `forEachIpv4Nlri`
 * / `forEachIpv6Nlri` over the raw UPDATE): `announce4` / `withdraw4` / `announce6` /
 * `withdraw6` are bound functions that can be passed as their callbacks (an IPv6 prefix costs
 * one short key string, see prefix-key.ts). One UPDATE, and one family of announcements, at a
 * time: `Rib.beginUpdate`, callbacks, `end()`.
 */
export class UpdateSink {
  private p: PeerState | undefined;
  private ctx: AnnounceContext | undefined;
  private res: IngestResult = { announced: 0, withdrawn: 0, rejected: 0, exceeded: false };
  // IPv4 announcements are queued in batches of BATCH; a batch touches all its table slots in
  // one tight loop before applying them (PrefixTable.touchAll), so its cache misses overlap: the
  // tables of a large feed are far bigger than the caches, and one miss after another per
  // prefix was most of an ingest.
  private readonly keys = new Float64Array(BATCH);
  private readonly pathIds = new Float64Array(BATCH);
  private queued = 0;
  /** Keeps the touched words (so the loads stay). */
  private touched = 0;

  constructor(private readonly ing: Ingester) {}

  /**
   * Starts an UPDATE from `p` whose NLRI of `family` carry `attrs` (the next hop: NEXT_HOP for
   * IPv4, MP_REACH_NLRI's for IPv6). Without `attrs` only withdrawals may follow. `raw`: the
   * octets `attrs` were decoded from, for an UPDATE without MP attributes (raw-attrs.ts).
   */
  begin(p: PeerState, attrs?: Readonly<PathAttributes>, family: Family = 'ipv4-unicast', raw?: RawAttrs): this {
    if (this.p) this.finish(); // the previous UPDATE threw before end()
    this.p = p;
    this.res = { announced: 0, withdrawn: 0, rejected: 0, exceeded: false };
    if (attrs) {
      const nh = family === 'ipv4-unicast' ? (attrs.nextHop !== undefined ? [attrs.nextHop] : []) : (attrs.mpReach?.nextHops ?? []);
      this.ctx = this.ing.prepare(p, family, attrs, nh, this.res, raw);
    }
    return this;
  }

  /** Announces addr/len (addr: unsigned 32-bit, host bits zero) with the UPDATE's attributes (begun for IPv4). */
  readonly announce4 = (addr: number, len: number, pathId: number): void => {
    if (this.queued === BATCH) this.drain();
    const at = this.queued++;
    this.keys[at] = addr * 64 + len;
    this.pathIds[at] = pathId;
  };

  /** Applies the queued IPv4 announcements (before anything else uses the tables). */
  private drain(): void {
    const n = this.queued;
    if (n === 0) return;
    this.queued = 0;
    const ctx = this.ctx!;
    const { keys, pathIds, ing } = this;
    this.touched ^= ing.touchAll(ctx, keys, n);
    for (let i = 0; i < n; i++) ing.announceKey(ctx, keys[i]!, pathIds[i]!);
  }

  /** Withdraws addr/len (path id 0 without ADD-PATH). */
  readonly withdraw4 = (addr: number, len: number, pathId: number): void => {
    this.withdraw('ipv4-unicast', addr * 64 + len, pathId);
  };

  /** Announces an IPv6 prefix (four address words, host bits zero) with the UPDATE's attributes (begun for IPv6). */
  readonly announce6 = (w0: number, w1: number, w2: number, w3: number, len: number, pathId: number): void => {
    this.drain();
    this.ing.announceKey(this.ctx!, v6Key(w0, w1, w2, w3, len), pathId);
  };

  /** Withdraws an IPv6 prefix. */
  readonly withdraw6 = (w0: number, w1: number, w2: number, w3: number, len: number, pathId: number): void => {
    this.withdraw('ipv6-unicast', v6Key(w0, w1, w2, w3, len), pathId);
  };

  private withdraw(family: Family, key: PrefixKey, pathId: number): void {
    this.drain();
    const p = this.p!;
    const ft = p.maybeTables(family);
    if (ft) this.ing.withdrawKey(p, ft, family, key, pathId, this.res);
  }

  /** Ends the UPDATE. */
  end(): IngestResult {
    const p = this.p!;
    this.drain();
    this.finish();
    return this.ing.checkLimit(p, this.res);
  }

  private finish(): void {
    this.queued = 0; // left queued only when an announcement threw
    if (this.ctx) this.ing.finish(this.ctx);
    this.p = undefined;
    this.ctx = undefined;
  }
}

/** Applies UPDATEs for one peer. */
export class Ingester {
  private readonly decoders = new RawDecoders();

  constructor(
    private readonly core: RibCore,
    private readonly me: LocalIdentity,
  ) {}

  /** Applies one decoded UPDATE (or RFC 7606 outcome) from peer `p`. */
  apply(p: PeerState, msg: UpdateOutcome | UpdateMessage): IngestResult {
    const res: IngestResult = { announced: 0, withdrawn: 0, rejected: 0, exceeded: false };
    const u = 'action' in msg ? msg.update : msg;
    const withdrawOnly = 'action' in msg && msg.action === 'treat-as-withdraw';
    // A treat-as-withdraw outcome with nothing left in it is not an End-of-RIB.
    const eor = withdrawOnly ? undefined : endOfRibFamily(u);
    if (eor) {
      res.endOfRib = eor;
      return res;
    }
    this.withdraw(p, u.withdrawn, 'ipv4-unicast', res);
    const un = u.attributes.mpUnreach;
    const unFam = un && familyOf(un.afi, un.safi);
    if (un && unFam) this.withdraw(p, un.withdrawn, unFam, res);
    const reach = u.attributes.mpReach;
    const reachFam = reach && familyOf(reach.afi, reach.safi);
    if (withdrawOnly) {
      // RFC 7606 §2 treat-as-withdraw: anything still listed as reachable is withdrawn too.
      this.withdraw(p, u.nlri, 'ipv4-unicast', res);
      if (reach && reachFam) this.withdraw(p, reach.nlri, reachFam, res);
    } else {
      const nh = u.attributes.nextHop;
      if (u.nlri.length > 0) this.announce(p, u.nlri, 'ipv4-unicast', u.attributes, nh !== undefined ? [nh] : [], res);
      if (reach && reachFam && reach.nlri.length > 0) this.announce(p, reach.nlri, reachFam, u.attributes, reach.nextHops, res);
    }
    return this.checkLimit(p, res);
  }

  private withdraw(p: PeerState, list: readonly Prefix[], family: Family, res: IngestResult): void {
    const ft = p.maybeTables(family);
    if (!ft) return;
    for (const pr of list) {
      const key = keyOf(pr);
      if (key !== undefined) this.withdrawKey(p, ft, family, key, pr.pathId ?? 0, res);
    }
  }

  /** Withdraws the path (p, key, pathId). */
  withdrawKey(p: PeerState, ft: PeerFamilyTables, family: Family, key: PrefixKey, pathId: number, res: IngestResult): void {
    if (ft.rejected.size > 0) ft.rejected.delete(key);
    if (this.core.removePath(p, family, key, pathId ? this.core.slotOf(pathId) : 0)) res.withdrawn++;
  }

  private announce(
    p: PeerState,
    list: readonly Prefix[],
    family: Family,
    attrs: Readonly<PathAttributes>,
    nextHops: readonly string[],
    res: IngestResult,
  ): void {
    const ctx = this.prepare(p, family, attrs, nextHops, res);
    for (const pr of list) {
      const key = keyOf(pr);
      if (key !== undefined) this.announceKey(ctx, key, pr.pathId ?? 0, pr);
    }
    this.finish(ctx);
  }

  /** Runs the per-UPDATE import work (eBGP normalisation, loop checks, interning) once. */
  prepare(p: PeerState, family: Family, attrs: Readonly<PathAttributes>, nextHops: readonly string[], res: IngestResult, raw?: RawAttrs): AnnounceContext {
    const norm = normaliseImport(attrs, p.source.kind);
    const rejection = importCheck(norm, this.me, p.config.allowAsIn ?? 0);
    if (rejection) res.rejection = rejection;
    const decoder = raw && this.decoders.get(raw.how, p.source.kind);
    const set = rejection ? undefined : this.core.attrs.intern(norm, nextHops, raw, decoder);
    return { p, family, ft: p.tables(family), set, res };
  }

  /** Announces one path with the prepared attributes (`prefix` only for the import filter). */
  announceKey(ctx: AnnounceContext, key: PrefixKey, pathId: number, prefix?: Prefix): void {
    const { p, family, ft, set, res } = ctx;
    const core = this.core;
    const slot = pathId ? core.slotOf(pathId) : 0;
    let a = set;
    if (a && p.config.importFilter) a = this.filtered(p, family, prefix ?? keyToPrefix(key, pathId), a, res);
    if (!a) {
      res.rejected++;
      ft.rejected.set(key, 1);
      if (core.removePath(p, family, key, slot)) res.withdrawn++;
      return;
    }
    if (ft.rejected.size > 0) ft.rejected.delete(key);
    if (core.setPath(p, family, key, slot, a)) res.announced++;
    else if (a !== set) core.attrs.dropIfUnused(a);
  }

  /** Touches the table slots `announceKey(ctx, keys[i], 0)` will probe, for i < n (see UpdateSink). */
  touchAll(ctx: AnnounceContext, keys: ArrayLike<PrefixKey>, n: number): number {
    return this.core.touchAll(ctx.p, ctx.ft, ctx.family, keys, n);
  }

  /** Ends an announcement context (forgets an attribute set nobody took). */
  finish(ctx: AnnounceContext): void {
    if (ctx.set) this.core.attrs.dropIfUnused(ctx.set);
  }

  /** Sets `exceeded` from the peer's limit (RFC 4486 Cease subcode 1). */
  checkLimit(p: PeerState, res: IngestResult): IngestResult {
    const max = p.config.maxPrefixes;
    res.exceeded = max !== undefined && p.accepted > max;
    return res;
  }

  private filtered(p: PeerState, family: Family, prefix: Prefix, a: AttrSet, res: IngestResult): AttrSet | undefined {
    let r: FilterResult;
    try {
      r = p.config.importFilter!({ family, prefix, attrs: a.attrs, nextHops: a.nextHops, peer: p.config.id });
    } catch (err: unknown) {
      res.filterErrors = (res.filterErrors ?? 0) + 1;
      res.filterError ??= err;
      return undefined; // a failing filter imports nothing
    }
    switch (r.action) {
      case 'accept':
        return a;
      case 'reject':
        return undefined;
      case 'modify':
        return this.core.attrs.intern(r.attrs, r.nextHops ?? nextHopsOrKeep(r.attrs, a));
    }
  }
}

function nextHopsOrKeep(a: PathAttributes, orig: AttrSet): readonly string[] {
  const nh = nextHopsOf(a);
  return nh.length > 0 ? nh : orig.nextHops;
}
