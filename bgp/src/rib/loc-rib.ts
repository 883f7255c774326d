/**
 * The RIB core: Adj-RIB-In tables of every peer, the Loc-RIB, and the set of prefixes whose
 * best path may have changed since the last flush ("dirty").
 *
 * Invariants:
 * - Loc-RIB value = the winning path's reference (`slot * 65536 + peerIndex`); a prefix whose
 *   candidates are all excluded (unreachable next hop) has no Loc-RIB entry.
 * - Every path change runs `onPathChange`, which is O(1) when the change provably cannot affect
 *   the result (strictly worse than the best before the MED step) and otherwise recomputes the
 *   prefix from all candidates (O(peers)). So ingest is O(changed prefixes), and the result
 *   is independent of arrival order (see decision.ts).
 * - `dirty` remembers, per prefix, the best (ref, attr id) as of the last flush and holds a
 *   reference on that attribute set, so an id reused meanwhile cannot fake "unchanged". It keeps
 *   arrival order: a flush then walks the Loc-RIB in address order, which the cache-friendly
 *   table hash (prefix-table.ts) turns into mostly cache hits.
 */
import type { Family, Prefix } from '../codec/types.js';
import { AttrStore, type AttrSet } from './attr-set.js';
import { DEFAULT_DECISION, comparePostMed, comparePreMed, selectBest, type Candidate, type DecisionOptions, type PathSource } from './decision.js';
import { LocMirror } from './loc-mirror.js';
import type { PeerFamilyTables, PeerState } from './peer.js';
import { makeTable, type PrefixTable } from './prefix-table.js';
import { keyToPrefix, type PrefixKey } from './prefix-key.js';

/**
 * Prefixes changed since the last flush, in arrival order, with their pre-change best. "Already
 * recorded" is the batch's own small table (`recorded`), not a column of the Loc-RIB: a batch
 * holds thousands of prefixes and stays in cache, while a tag column cost 4 bytes per Loc-RIB
 * slot (8 MB at a million prefixes, more while the table grows).
 */
export class DirtySet {
  /** The prefixes recorded in this batch. */
  readonly recorded: PrefixTable;
  /** Changed keys in arrival order. */
  readonly keys: PrefixKey[] = [];
  /** Best path ref before the change (-1 = none). */
  readonly refs: number[] = [];
  /** Best path attribute set id before the change (-1 = none; referenced until cleared). */
  readonly attrIds: number[] = [];

  constructor(family: Family) {
    this.recorded = makeTable(family);
  }

  /** Number of changed prefixes. */
  get size(): number {
    return this.keys.length;
  }

  /** Appends `key` (the caller checked it is not recorded yet). */
  push(key: PrefixKey, ref: number, attrId: number): void {
    this.keys.push(key);
    this.refs.push(ref);
    this.attrIds.push(attrId);
  }

  /** Forgets everything and starts a new batch (the caller releases the attribute references first). */
  clear(): void {
    this.recorded.clear();
    this.keys.length = 0;
    this.refs.length = 0;
    this.attrIds.length = 0;
  }
}

const DUMMY_SOURCE: PathSource = { kind: 'local', routerId: 0, addressKey: '' };

/** A path reference from its parts. */
export function pathRef(slot: number, peerIndex: number): number {
  return slot * 65536 + peerIndex;
}

/** Adj-RIB-In + Loc-RIB + dirty tracking. */
export class RibCore {
  /** Peers by index (0 = local pseudo-peer). */
  readonly peers: (PeerState | undefined)[] = [];
  readonly attrs = new AttrStore();
  /** Loc-RIB: prefix → best path ref, aux = its attribute set id. */
  readonly loc: Record<Family, PrefixTable> = { 'ipv4-unicast': makeTable('ipv4-unicast', true), 'ipv6-unicast': makeTable('ipv6-unicast', true) };
  readonly dirty: Record<Family, DirtySet> = { 'ipv4-unicast': new DirtySet('ipv4-unicast'), 'ipv6-unicast': new DirtySet('ipv6-unicast') };
  /**
   * Whether a family's changes are tracked in `dirty`: only while someone consumes them (best-path
   * events, or a peer whose Adj-RIB-Out was dumped). The Rib sets it after each flush, the only
   * place a consumer can appear (a dump), so an untracked change never misses a diff; a peer
   * that comes up later gets the whole Loc-RIB in its dump.
   */
  readonly tracking: Record<Family, boolean> = { 'ipv4-unicast': true, 'ipv6-unicast': true };

  /**
   * Per family, the index of a peer whose routes for prefixes without a best path need no
   * change record (-1: none). The Rib sets it after each flush when nothing consumes them: no
   * best-path events, and its only export group has that peer as its only member, which is not
   * sent its own routes. Such a prefix is written to the Loc-RIB without a record, so a later change
   * in the same batch records it as usual (the flush then compares with the group's table).
   */
  readonly quiet: Record<Family, number> = { 'ipv4-unicast': -1, 'ipv6-unicast': -1 };

  /**
   * Per family, the peer whose Adj-RIB-In the Loc-RIB mirrors (loc-mirror.ts), if any. Set by
   * `updateMirror` after a flush; `materialize` swaps a real table back in before any change
   * that the view cannot express.
   */
  readonly mirror: Record<Family, PeerState | undefined> = { 'ipv4-unicast': undefined, 'ipv6-unicast': undefined };

  /**
   * Starts mirroring the quiet peer's routes when the family holds no path yet (so the view is
   * exact from the start) and every next hop counts as reachable; stops when the quiet peer
   * changed. Called after each flush, once `quiet` is set.
   */
  updateMirror(family: Family): void {
    const q = this.quiet[family];
    const m = this.mirror[family];
    if (m) {
      if (m.index !== q || this.peers[q] !== m) this.materialize(family);
      return;
    }
    if (q < 0 || this.decision.nextHopReachable !== DEFAULT_DECISION.nextHopReachable || this.loc[family].size > 0) return;
    for (const p of this.peers) for (const t of p?.maybeTables(family)?.adjIn ?? []) if (t && t.size > 0) return;
    const p = this.peers[q]!;
    this.loc[family] = new LocMirror(p.tables(family).inTable(0), pathRef(0, q));
    this.mirror[family] = p;
  }

  /** Replaces a mirrored Loc-RIB by a table of its own, with the same content. */
  materialize(family: Family): void {
    const view = this.loc[family];
    if (!this.mirror[family] || !(view instanceof LocMirror)) return;
    const t = makeTable(family, true);
    view.src.forEach((v, k) => t.set(k, view.ref, v >> 1));
    this.loc[family] = t;
    this.mirror[family] = undefined;
  }

  /** Turns change tracking on or off (a new batch starts when it turns on). */
  setTracking(family: Family, on: boolean): void {
    if (on && !this.tracking[family]) this.dirty[family].clear();
    this.tracking[family] = on;
  }
  private readonly slotIds: number[] = [0];
  private readonly slotOfId = new Map<number, number>([[0, 0]]);
  private readonly pool: Candidate[] = [];
  private readonly work: Candidate[] = [];
  private readonly ca: Candidate;
  private readonly cb: Candidate;

  constructor(readonly decision: DecisionOptions) {
    this.ca = this.newCandidate();
    this.cb = this.newCandidate();
  }

  private newCandidate(): Candidate {
    return { attrs: undefined as unknown as AttrSet, source: DUMMY_SOURCE, pathId: 0, ref: 0 };
  }

  /** The slot of an ADD-PATH path id (RFC 7911), interned; slot 0 is path id 0. */
  slotOf(pathId: number): number {
    let s = this.slotOfId.get(pathId);
    if (s === undefined) {
      s = this.slotIds.length;
      if (s >= 32768) throw new RangeError('more than 32767 distinct ADD-PATH path ids');
      this.slotIds.push(pathId);
      this.slotOfId.set(pathId, s);
    }
    return s;
  }

  /** The path id of a slot. */
  pathIdOf(slot: number): number {
    return this.slotIds[slot]!;
  }

  private memoKey: PrefixKey = -1;
  private memoPrefix: Prefix | undefined;

  /**
   * The Prefix object of `key`, shared by consecutive callers (a flush hands the same object to
   * the best-path event and every peer's diff: consumers must treat prefixes as read-only).
   */
  prefixOf(key: PrefixKey): Prefix {
    if (key !== this.memoKey || !this.memoPrefix) {
      this.memoKey = key;
      this.memoPrefix = keyToPrefix(key);
    }
    return this.memoPrefix;
  }

  /** The attribute set of the best path of `key`, if any. */
  bestAttr(family: Family, key: PrefixKey): AttrSet | undefined {
    const loc = this.loc[family];
    return loc.get(key) >= 0 ? this.attrs.get(loc.lastAux) : undefined;
  }

  /** The attribute set of the path `ref` for `key`, if present. */
  attrOfRef(family: Family, key: PrefixKey, ref: number): AttrSet | undefined {
    const p = this.peers[ref % 65536];
    const v = p?.maybeTables(family)?.adjIn[Math.floor(ref / 65536)]?.get(key) ?? -1;
    return v >= 0 ? this.attrs.get(v >> 1) : undefined;
  }

  /**
   * Inserts or replaces the path (peer, key, slot) with attribute set `a` (also clears its
   * stale mark). Returns false when the path already had exactly these attributes.
   */
  setPath(p: PeerState, family: Family, key: PrefixKey, slot: number, a: AttrSet): boolean {
    const t = p.tables(family).inTable(slot);
    const nv = a.id * 2;
    const old = t.put(key, nv);
    if (old === nv) return false;
    if (old >= 0 && old >> 1 === a.id) return true; // only the stale mark changed
    this.attrs.retain(a);
    if (old < 0) p.accepted++;
    const oldAttr = old >= 0 ? this.attrs.get(old >> 1) : undefined;
    this.onPathChange(family, key, pathRef(slot, p.index), p, slot, oldAttr, a);
    if (oldAttr) this.attrs.release(oldAttr);
    return true;
  }

  /** Touches (PrefixTable.touchAll) what `setPath(p, family, keys[i], 0, ..)` will probe, for i < n. */
  touchAll(p: PeerState, ft: PeerFamilyTables, family: Family, keys: ArrayLike<PrefixKey>, n: number): number {
    const t = ft.adjIn[0];
    const v = t ? t.touchAll(keys, n) : 0;
    return this.mirror[family] === p ? v : v ^ this.loc[family].touchAll(keys, n);
  }

  /** Removes the path (peer, key, slot); returns false if it was absent. */
  removePath(p: PeerState, family: Family, key: PrefixKey, slot: number): boolean {
    const t = p.maybeTables(family)?.adjIn[slot];
    if (!t) return false;
    const old = t.delete(key);
    if (old < 0) return false;
    p.accepted--;
    const oldAttr = this.attrs.get(old >> 1);
    this.onPathChange(family, key, pathRef(slot, p.index), p, slot, oldAttr, undefined);
    this.attrs.release(oldAttr);
    return true;
  }

  private fill(c: Candidate, a: AttrSet, p: PeerState, slot: number): Candidate {
    c.attrs = a;
    c.source = p.source;
    c.pathId = this.slotIds[slot]!;
    c.ref = pathRef(slot, p.index);
    return c;
  }

  /** Keeps the Loc-RIB right after path (p, slot) of `key` went from `oldAttr` to `newAttr`. */
  private onPathChange(family: Family, key: PrefixKey, ref: number, p: PeerState, slot: number, oldAttr: AttrSet | undefined, newAttr: AttrSet | undefined): void {
    const m = this.mirror[family];
    if (m) {
      if (m === p && slot === 0) return; // the mirrored table already holds the change
      this.materialize(family);
    }
    const loc = this.loc[family];
    const cur = loc.get(key);
    if (cur < 0) {
      // No best: the other candidates (if any) are all excluded, so a reachable new path wins.
      if (newAttr && (p.source.kind === 'local' || this.decision.nextHopReachable(newAttr.nextHop))) {
        const d = this.dirty[family];
        if (p.index === this.quiet[family] && (d.recorded.size === 0 || !d.recorded.has(key))) loc.set(key, ref, newAttr.id);
        else {
          this.markDirty(family, key, -1, undefined);
          this.setBest(family, key, ref, newAttr.id);
        }
      }
      return;
    }
    const bestAttr = cur === ref ? oldAttr : this.attrs.get(loc.lastAux);
    if (cur === ref || !bestAttr) {
      this.markDirty(family, key, cur, bestAttr);
      this.recompute(family, key);
      return;
    }
    const o = this.decision;
    const best = this.fill(this.cb, bestAttr, this.peers[cur % 65536]!, Math.floor(cur / 65536));
    const oldCmp = oldAttr ? comparePreMed(this.fill(this.ca, oldAttr, p, slot), best, o) : -1;
    const cand = newAttr ? this.fill(this.ca, newAttr, p, slot) : undefined;
    const newCmp = cand ? comparePreMed(cand, best, o) : -1;
    if (newCmp < 0 && oldCmp < 0) return; // eliminated before MED, before and after: no effect
    this.markDirty(family, key, cur, bestAttr);
    if (newCmp > 0) this.setBest(family, key, ref, newAttr!.id); // strictly above every other candidate before MED: wins
    else if (cand && oldCmp < 0 && this.pairwise(cand, best)) this.setBest(family, key, ref, newAttr!.id);
    else if (!cand || oldCmp >= 0 || !this.pairwiseDecided(cand, best)) this.recompute(family, key);
  }

  /**
   * A new path `y` ties the best `x` before MED, and the path it replaced did not take part.
   * When MED is compared between them (same neighbour AS, or always-compare-med), adding `y`
   * cannot resurrect an eliminated path: `x` stays unless `y` eliminates it by MED, and a
   * surviving `y` is ranked against `x` by the total order of the later steps.
   * `pairwiseDecided`: the outcome is known without the other candidates.
   */
  private pairwiseDecided(y: Candidate, x: Candidate): boolean {
    if (!this.decision.alwaysCompareMed && y.attrs.neighborAs !== x.attrs.neighborAs) return false;
    return y.attrs.med >= x.attrs.med; // y.med < x.med eliminates x: the others decide
  }

  /** True when `y` (see `pairwiseDecided`) becomes the best. */
  private pairwise(y: Candidate, x: Candidate): boolean {
    return this.pairwiseDecided(y, x) && y.attrs.med === x.attrs.med && comparePostMed(y, x, this.decision) > 0;
  }

  /**
   * Remembers the pre-flush best of `key` the first time it changes in a batch. `ref` is the
   * Loc-RIB entry's value (-1: no entry); every Loc-RIB write follows a call for its key.
   */
  markDirty(family: Family, key: PrefixKey, ref: number, a: AttrSet | undefined): void {
    if (!this.tracking[family]) return;
    const d = this.dirty[family];
    if (!d.recorded.putIfAbsent(key, 1)) return;
    d.push(key, ref, a ? a.id : -1);
    if (a) this.attrs.retain(a);
  }

  /** Sets the Loc-RIB entry of `key` (recorded in this batch: see `markDirty`). */
  private setBest(family: Family, key: PrefixKey, ref: number, attrId: number): void {
    this.loc[family].set(key, ref, attrId);
  }

  /** Deletes the Loc-RIB entry of `key` (recorded in this batch: see `markDirty`). */
  private clearBest(family: Family, key: PrefixKey): void {
    this.loc[family].delete(key);
  }

  /** Runs the decision process for `key` over every peer's candidates. */
  recompute(family: Family, key: PrefixKey): void {
    const pool = this.pool;
    let n = 0;
    for (const p of this.peers) {
      const ft = p?.maybeTables(family);
      if (!ft) continue;
      const tables = ft.adjIn;
      for (let s = 0; s < tables.length; s++) {
        const v = tables[s]?.get(key) ?? -1;
        if (v < 0) continue;
        if (n === pool.length) pool.push(this.newCandidate());
        this.fill(pool[n++]!, this.attrs.get(v >> 1), p!, s);
      }
    }
    // selectBest compacts its array in place: give it a copy, the pool must keep distinct objects.
    const work = this.work;
    for (let i = 0; i < n; i++) work[i] = pool[i]!;
    const win = n > 0 ? selectBest(work, n, this.decision) : undefined;
    if (win) this.setBest(family, key, win.ref, win.attrs.id);
    else this.clearBest(family, key);
  }

  /** Sets or clears the stale bit on every path of `p` in `family` (RFC 4724 §4.2). */
  markStale(p: PeerState, family: Family): number {
    let n = 0;
    for (const t of p.maybeTables(family)?.adjIn ?? []) {
      if (!t) continue;
      for (const k of t.keys()) {
        t.set(k, t.get(k) | 1);
        n++;
      }
    }
    return n;
  }

  /** Removes the paths of `p` in `family` that are still stale; returns how many. */
  purgeStale(p: PeerState, family: Family): number {
    let n = 0;
    const tables = p.maybeTables(family)?.adjIn ?? [];
    for (let s = 0; s < tables.length; s++) {
      const t = tables[s];
      if (!t) continue;
      for (const k of t.keys()) if ((t.get(k) & 1) === 1 && this.removePath(p, family, k, s)) n++;
    }
    return n;
  }

  /** Removes every path of `p` in `family`; returns how many. */
  removeAll(p: PeerState, family: Family): number {
    let n = 0;
    const tables = p.maybeTables(family)?.adjIn ?? [];
    for (let s = 0; s < tables.length; s++) {
      const t = tables[s];
      if (t) for (const k of t.keys()) if (this.removePath(p, family, k, s)) n++;
    }
    return n;
  }

  /** Re-runs the decision for every prefix any peer holds (after next-hop reachability changed). */
  recomputeAll(family: Family): void {
    this.materialize(family);
    const keys = new Set<PrefixKey>();
    for (const p of this.peers) for (const t of p?.maybeTables(family)?.adjIn ?? []) if (t) for (const k of t.keys()) keys.add(k);
    for (const k of keys) {
      this.markDirty(family, k, this.loc[family].get(k), this.bestAttr(family, k));
      this.recompute(family, k);
    }
  }
}
