/**
 * Turning the changes accumulated since the last flush into best-path events and per-peer
 * Adj-RIB-Out diffs.
 *
 * Invariants:
 * - A prefix is reported only when its best path (reference or attribute set) differs from the
 *   one at the last flush, so a flap inside a batch reports nothing.
 * - Every dirty entry's reference on its pre-change attribute set is released here, exactly once.
 * - One `Prefix` object per changed prefix is shared by the event and every peer's diff.
 * - Each export group computes a prefix's export once; members that the change reaches
 *   differently (the route's source, its ORIGINATOR_ID) get their own variant of the diff,
 *   every other member the group's shared one.
 */
import type { Family, Prefix } from '../codec/types.js';
import { DiffBuilder, type Exporter, type PeerUpdate } from './adj-rib-out.js';
import type { AttrSet } from './attr-set.js';
import type { ExportGroup } from './export-group.js';
import type { RibCore } from './loc-rib.js';
import type { PeerState } from './peer.js';
import type { PrefixKey } from './prefix-key.js';

/** A best-path change for the embedder (e.g. tabby-node's kernel routes). */
export type BestChange =
  | { type: 'add' | 'replace'; family: Family; prefix: Prefix; attrs: AttrSet; peer: string; pathId: number }
  | { type: 'withdraw'; family: Family; prefix: Prefix };

/** What a flush produced. */
export interface RibFlush {
  best: BestChange[];
  updates: PeerUpdate[];
}

/** Reports the family's dirty prefixes to `out` (events if `emitBest`) and to every export group's members. */
export function flushChanges(core: RibCore, exporter: Exporter, f: Family, out: RibFlush, emitBest: boolean): void {
  const dirty = core.dirty[f];
  const groups = exporter.groupsOf(f).map((g) => new GroupFlush(g));
  const loc = core.loc[f];
  const { keys, refs, attrIds } = dirty;
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!;
    const cur = loc.get(key);
    const a = cur >= 0 ? core.attrs.get(loc.lastAux) : undefined;
    if (cur !== refs[i]! || (a ? a.id : -1) !== attrIds[i]!) {
      if (emitBest) out.best.push(bestChange(core, f, key, cur, a, refs[i]! >= 0));
      const src = cur >= 0 ? core.peers[cur % 65536] : undefined;
      for (const gf of groups) applyToGroup(core, exporter, gf, key, src, a);
    }
    if (attrIds[i]! >= 0) core.attrs.releaseId(attrIds[i]!);
  }
  dirty.clear();
  for (const gf of groups) {
    gf.distribute(f, out);
    if (gf.g.table.size === 0) exporter.clearGroupCache(gf.g); // nothing to share: let the exported sets go
  }
}

type Action = 'announce' | 'withdraw' | 'none';

/** What one member gets differently from the rest of its group in one flush. */
interface Exception {
  /** Prefixes of the group's diff the member does not get, and the announce groups they are in. */
  dropped: Set<Prefix>;
  droppedAttrs: Set<AttrSet>;
  droppedWithdraw: boolean;
  /** What the member gets instead. */
  own: DiffBuilder;
}

/** One group's diff in one flush: shared by every member, with per-member exceptions. */
class GroupFlush {
  readonly diff: DiffBuilder;
  readonly exceptions = new Map<PeerState, Exception>();

  constructor(readonly g: ExportGroup) {
    this.diff = new DiffBuilder('', g.family);
  }

  exception(m: PeerState): Exception {
    let e = this.exceptions.get(m);
    if (!e) this.exceptions.set(m, (e = { dropped: new Set(), droppedAttrs: new Set(), droppedWithdraw: false, own: new DiffBuilder(m.config.id, this.g.family) }));
    return e;
  }

  /** One `PeerUpdate` per member with something to send; the group's entries are shared objects (encoded once by the speaker). */
  distribute(f: Family, out: RibFlush): void {
    const shared = this.diff.build();
    for (const m of this.g.members) {
      if (!m.dumped.has(f)) continue;
      const exc = this.exceptions.get(m);
      if (!exc) {
        if (shared.withdraw.length > 0 || shared.announce.length > 0) out.updates.push({ ...shared, peer: m.config.id });
        continue;
      }
      const withdraw = exc.droppedWithdraw ? shared.withdraw.filter((p) => !exc.dropped.has(p)) : shared.withdraw;
      const announce = shared.announce
        .map((e) => (exc.droppedAttrs.has(e.attrs) ? { attrs: e.attrs, prefixes: e.prefixes.filter((p) => !exc.dropped.has(p)) } : e))
        .filter((e) => e.prefixes.length > 0);
      const own = exc.own.build();
      const u: PeerUpdate = { peer: m.config.id, family: f, withdraw: [...withdraw, ...own.withdraw], announce: [...announce, ...own.announce], endOfRib: false };
      if (u.withdraw.length > 0 || u.announce.length > 0) out.updates.push(u);
    }
  }
}

function actionOf(had: boolean, want: boolean, changed: boolean): Action {
  if (had && !want) return 'withdraw';
  return want && (!had || changed) ? 'announce' : 'none';
}

/**
 * Brings group `gf.g`'s entry for `key` in line with the best path (`a` from `src`; none =
 * withdrawn) and records the change: in the group's diff, and as an exception for the (at most
 * four) members excluded from the old or the new entry (its source, its ORIGINATOR_ID).
 */
function applyToGroup(core: RibCore, exporter: Exporter, gf: GroupFlush, key: PrefixKey, src: PeerState | undefined, a: AttrSet | undefined): void {
  const g = gf.g;
  const sole = g.members.size === 1 ? g.representative : undefined;
  // The only member's own route (split horizon): not even transformed.
  const own = sole !== undefined && src === sole && sole.config.advertiseBack !== true;
  let want = src && a && !own ? exporter.exportFor(g, key, src, a) : null;
  if (own || (want !== null && sole && g.excludes(sole, want, src!.index))) {
    // The only member is not sent this route: the group keeps no entry for it.
    g.partial = true;
    want = null;
  }
  if (want === null && g.table.size === 0) return;
  const srcIdx = want ? src!.index : -1;
  const prevId = g.table.get(key);
  const prevSrc = prevId >= 0 ? g.table.lastAux : -1;
  if (prevId === (want ? want.id : -1) && prevSrc === srcIdx) return;
  const prev = prevId >= 0 ? core.attrs.get(prevId) : undefined;
  const prefix = core.prefixOf(key);
  const changed = !want || prevId !== want.id;
  const gAction = actionOf(prev !== undefined, want !== null, changed);
  // The members the change may reach differently (at most four, deduplicated without allocating).
  const c0 = g.byIndex.get(prevSrc);
  const c1 = g.byIndex.get(srcIdx);
  const c2 = prev?.attrs.originatorId !== undefined ? g.byRouterId.get(prev.attrs.originatorId) : undefined;
  const c3 = want?.attrs.originatorId !== undefined ? g.byRouterId.get(want.attrs.originatorId) : undefined;
  const cands = [c0, c1 === c0 ? undefined : c1, c2 === c0 || c2 === c1 ? undefined : c2, c3 === c0 || c3 === c1 || c3 === c2 ? undefined : c3];
  for (const m of cands) {
    if (!m) continue;
    const had = prev !== undefined && !g.excludes(m, prev, prevSrc);
    const wants = want !== null && !g.excludes(m, want, srcIdx);
    const mAction = actionOf(had, wants, changed);
    if (mAction === gAction) continue;
    const exc = gf.exception(m);
    if (gAction !== 'none') {
      exc.dropped.add(prefix);
      if (gAction === 'announce') exc.droppedAttrs.add(want!);
      else exc.droppedWithdraw = true;
    }
    if (mAction === 'announce') exc.own.announce(want!, prefix);
    else if (mAction === 'withdraw') exc.own.withdraw.push(prefix);
  }
  if (gAction === 'announce') gf.diff.announce(want!, prefix);
  else if (gAction === 'withdraw') gf.diff.withdraw.push(prefix);
  exporter.setEntry(g, key, want, srcIdx);
}

function bestChange(core: RibCore, family: Family, key: PrefixKey, ref: number, a: AttrSet | undefined, had: boolean): BestChange {
  const prefix = core.prefixOf(key);
  if (!a) return { type: 'withdraw', family, prefix };
  const p = core.peers[ref % 65536]!;
  const pathId = core.pathIdOf(Math.floor(ref / 65536));
  return { type: had ? 'replace' : 'add', family, prefix, attrs: a, peer: p.config.id, pathId };
}
