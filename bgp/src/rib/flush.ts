/**
 * Turning the changes accumulated since the last flush into best-path events and per-peer
 * Adj-RIB-Out diffs.
 *
 * Invariants:
 * - A prefix is reported only when its best path (reference or attribute set) differs from the
 *   one at the last flush, so a flap inside a batch reports nothing.
 * - Every dirty entry's reference on its pre-change attribute set is released here, exactly once.
 * - One `Prefix` object per changed prefix is shared by the event and every peer's diff.
 */
import type { Family, Prefix } from '../codec/types.js';
import { DiffBuilder, type Exporter, type PeerUpdate } from './adj-rib-out.js';
import type { AttrSet } from './attr-set.js';
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

/** Reports the family's dirty prefixes to `out` (events if `emitBest`) and to `targets`' diffs. */
export function flushChanges(core: RibCore, exporter: Exporter, targets: PeerState[], f: Family, out: RibFlush, emitBest: boolean): void {
  const dirty = core.dirty[f];
  const diffs = targets.map((p) => new DiffBuilder(p.config.id, f));
  const loc = core.loc[f];
  const { keys, refs, attrIds } = dirty;
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!;
    const cur = loc.get(key);
    const a = cur >= 0 ? core.attrs.get(loc.lastAux) : undefined;
    if (cur !== refs[i]! || (a ? a.id : -1) !== attrIds[i]!) {
      if (emitBest) out.best.push(bestChange(core, f, key, cur, a, refs[i]! >= 0));
      const src = cur >= 0 ? core.peers[cur % 65536] : undefined;
      for (let j = 0; j < targets.length; j++) exporter.apply(targets[j]!, f, key, src, a, diffs[j]!);
    }
    if (attrIds[i]! >= 0) core.attrs.releaseId(attrIds[i]!);
  }
  dirty.clear();
  for (const d of diffs) if (!d.empty) out.updates.push(d.build());
}

function bestChange(core: RibCore, family: Family, key: PrefixKey, ref: number, a: AttrSet | undefined, had: boolean): BestChange {
  const prefix = core.prefixOf(key);
  if (!a) return { type: 'withdraw', family, prefix };
  const p = core.peers[ref % 65536]!;
  const pathId = core.pathIdOf(Math.floor(ref / 65536));
  return { type: had ? 'replace' : 'add', family, prefix, attrs: a, peer: p.config.id, pathId };
}

/** Re-evaluates a whole Adj-RIB-Out (after the peer's policy changed). */
export function reexport(core: RibCore, exporter: Exporter, p: PeerState | undefined, out: RibFlush): void {
  if (!p?.session) return;
  for (const f of p.session.families) {
    if (!p.dumped.has(f)) continue;
    const diff = new DiffBuilder(p.config.id, f);
    const keys = new Set<PrefixKey>([...core.loc[f].keys(), ...p.tables(f).adjOut.keys()]);
    for (const k of keys) exporter.update(p, f, k, diff);
    if (!diff.empty) out.updates.push(diff.build());
  }
}
