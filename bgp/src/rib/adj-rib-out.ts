/**
 * Adj-RIB-Out: what each Established peer has been sent, and the diffs to send next. Peers
 * that are exported to identically share one Adj-RIB-Out (an export group, export-group.ts).
 *
 * Invariants:
 * - A group's Adj-RIB-Out holds, per prefix, the id of the exported attribute set (one
 *   reference each) and its source peer. A diff announces only when the exported set differs
 *   from what the member has, and withdraws only what the member has, so peers never see
 *   redundant UPDATEs.
 * - The built-in export transformation is cached per (source attr set, source peer) in the
 *   group's cache; each cached result holds a reference. The user's export filter runs per
 *   prefix (it may look at the prefix), after the cache; a filtered peer is alone in its group.
 */
import type { Family, Prefix } from '../codec/types.js';
import type { AttrSet } from './attr-set.js';
import { ExportGroup, groupKey, type DumpEntry } from './export-group.js';
import type { RibCore } from './loc-rib.js';
import { LOCAL_PEER, type FilterResult, type PeerState } from './peer.js';
import { exportAttrs, mayExport, type ExportTarget, type LocalIdentity } from './policy.js';
import { keyToPrefix, type PrefixKey } from './prefix-key.js';

/** What one peer is to be sent for one family, grouped by attribute set for the UPDATE packer. */
export interface PeerUpdate {
  peer: string;
  family: Family;
  withdraw: Prefix[];
  announce: Array<{ attrs: AttrSet; prefixes: Prefix[] }>;
  /** Send End-of-RIB for `family` after these (initial dump complete, RFC 4724 §2). */
  endOfRib: boolean;
}

/** Accumulates one peer's diff for one family. */
export class DiffBuilder {
  readonly withdraw: Prefix[] = [];
  private readonly groups = new Map<AttrSet, Prefix[]>();
  endOfRib = false;

  constructor(
    readonly peer: string,
    readonly family: Family,
  ) {}

  /** Queues an announcement. */
  announce(a: AttrSet, p: Prefix): void {
    const g = this.groups.get(a);
    if (g) g.push(p);
    else this.groups.set(a, [p]);
  }

  /** True when there is nothing to send. */
  get empty(): boolean {
    return this.withdraw.length === 0 && this.groups.size === 0 && !this.endOfRib;
  }

  /** The finished diff. */
  build(): PeerUpdate {
    const announce = [...this.groups].map(([attrs, prefixes]) => ({ attrs, prefixes }));
    return { peer: this.peer, family: this.family, withdraw: this.withdraw, announce, endOfRib: this.endOfRib };
  }
}

const CACHE_SLACK = 4096;

/** Computes exports and maintains the Adj-RIBs-Out (one per export group, see export-group.ts). */
export class Exporter {
  /** Export filter calls that threw (treated as reject). */
  readonly filterErrors: { count: number; last?: { peer: string; err: unknown } } = { count: 0 };
  private readonly groups = new Map<string, ExportGroup>();

  constructor(
    private readonly core: RibCore,
    private readonly me: LocalIdentity,
  ) {}

  /** The groups of `family` (live ones have at least one member). */
  groupsOf(family: Family): ExportGroup[] {
    return [...this.groups.values()].filter((g) => g.family === family);
  }

  /** The target the group's transformations are computed for (no router id: exclusions are per member). */
  private target(g: ExportGroup): ExportTarget {
    const d = g.representative;
    const s = d.session!;
    return {
      kind: d.source.kind === 'ebgp' ? 'ebgp' : 'ibgp',
      routeReflectorClient: d.config.routeReflectorClient === true,
      nextHop: d.config.nextHop ?? 'auto',
      localAddress: s.localAddress,
      localAddress6: s.localAddress6,
    };
  }

  /** The built-in transformation of `a` from `src` toward the group, cached; null = not exported. */
  private transform(g: ExportGroup, src: PeerState, a: AttrSet): AttrSet | null {
    const m = g.memo;
    if (m.src === a && m.peer === src.index) return m.out; // runs share a set
    const ck = a.id * 65536 + src.index;
    const hit = g.exportCache.get(ck);
    let out: AttrSet | null;
    if (hit && hit.src === a && (hit.out === null || hit.out.id >= 0)) out = hit.out;
    else {
      if (hit?.out) this.core.attrs.release(hit.out);
      out = null;
      const source = { kind: src.source.kind, routeReflectorClient: src.config.routeReflectorClient === true, routerId: src.session?.routerId ?? lastRouterId(src) };
      const tgt = this.target(g);
      if (mayExport(a, source, tgt, this.me)) {
        const x = exportAttrs(a, g.family, source, tgt, this.me);
        out = this.core.attrs.intern(x.attrs, x.nextHops);
        this.core.attrs.retain(out);
      }
      g.exportCache.set(ck, { src: a, out });
    }
    m.src = a;
    m.peer = src.index;
    m.out = out;
    return out;
  }

  /** The attribute set the group exports for prefix `key` whose best path is `a` from `src`; null if none. */
  exportFor(g: ExportGroup, key: PrefixKey, src: PeerState, a: AttrSet): AttrSet | null {
    const out = this.transform(g, src, a);
    const d = g.representative;
    const filter = d.config.exportFilter;
    if (!out || !filter) return out;
    let r: FilterResult;
    try {
      r = filter({ family: g.family, prefix: this.core.prefixOf(key), attrs: out.attrs, nextHops: out.nextHops, peer: d.config.id, from: src.index === 0 ? LOCAL_PEER : src.config.id });
    } catch (err: unknown) {
      this.filterErrors.count++;
      this.filterErrors.last = { peer: d.config.id, err };
      return null; // a failing filter exports nothing rather than everything
    }
    switch (r.action) {
      case 'accept':
        return out;
      case 'reject':
        return null;
      case 'modify':
        return this.core.attrs.intern(r.attrs, r.nextHops ?? out.nextHops);
    }
  }

  /** The group's export for the current best of `key` (none: null). */
  private best(g: ExportGroup, key: PrefixKey): { want: AttrSet | null; src: number } {
    const loc = this.core.loc[g.family];
    const ref = loc.get(key);
    if (ref < 0) return { want: null, src: -1 };
    const src = this.core.peers[ref % 65536]!;
    return { want: this.exportFor(g, key, src, this.core.attrs.get(loc.lastAux)), src: src.index };
  }

  /** Sets or clears the group's entry for `key`; returns the previous (attribute set id, source) or ids -1. */
  setEntry(g: ExportGroup, key: PrefixKey, want: AttrSet | null, src: number): { prev: number; prevSrc: number } {
    const t = g.table;
    const prev = t.get(key);
    const prevSrc = prev >= 0 ? t.lastAux : -1;
    if (want === null) {
      if (prev < 0) return { prev, prevSrc };
      g.touch(key);
      t.delete(key);
    } else {
      if (prev === want.id && prevSrc === src) return { prev, prevSrc };
      g.touch(key);
      this.core.attrs.retain(want);
      t.set(key, want.id, src);
      g.count(want, src, 1);
    }
    if (prev >= 0) {
      g.count(this.core.attrs.get(prev), prevSrc, -1);
      this.core.attrs.releaseId(prev);
    }
    if (t.size === 0) this.clearGroupCache(g); // nothing left to share: let the exported sets go
    return { prev, prevSrc };
  }

  /**
   * Fills a group's table from the whole Loc-RIB: a new group, or a partial one (entries left
   * out while it had one member) that a second member joins. A sole member's excluded routes
   * are left out.
   */
  private populate(g: ExportGroup): void {
    const sole = g.members.size === 1 ? g.representative : undefined;
    g.partial = false;
    for (const key of this.core.loc[g.family].keys()) {
      const b = this.best(g, key);
      if (!b.want) continue;
      if (sole && g.excludes(sole, b.want, b.src)) g.partial = true;
      else this.setEntry(g, key, b.want, b.src);
    }
  }

  /** The group `d` belongs to for `family`, joining (and creating) it if needed. */
  private join(d: PeerState, family: Family): ExportGroup {
    const have = d.outGroups.get(family);
    if (have) return have;
    const key = groupKey(d, family);
    let g = this.groups.get(key);
    const fresh = !g;
    if (!g) this.groups.set(key, (g = new ExportGroup(key, family)));
    g.add(d);
    d.outGroups.set(family, g);
    if (fresh || g.partial) this.populate(g);
    return g;
  }

  /** Leaves `d`'s group for `family`; an empty group is dropped with its references. */
  private leave(d: PeerState, family: Family): void {
    const g = d.outGroups.get(family);
    if (!g) return;
    d.outGroups.delete(family);
    g.remove(d);
    if (g.members.size > 0) return;
    g.table.forEach((id) => this.core.attrs.releaseId(id));
    g.table.clear();
    this.clearGroupCache(g);
    this.groups.delete(g.key);
  }

  /** The table grouped by (attribute set, source), with each entry's keys. */
  private group(g: ExportGroup, keep: (key: PrefixKey) => boolean = () => true): Array<DumpEntry & { keys: PrefixKey[]; dirty: boolean }> {
    const byPair = new Map<number, DumpEntry & { keys: PrefixKey[]; dirty: boolean }>();
    g.table.forEach((id, key, src) => {
      if (!keep(key)) return;
      const k = id * 65536 + src;
      let e = byPair.get(k);
      if (!e) byPair.set(k, (e = { attrs: this.core.attrs.get(id), src, prefixes: [], keys: [], dirty: false }));
      e.prefixes.push(keyToPrefix(key));
      e.keys.push(key);
    });
    return [...byPair.values()];
  }

  /**
   * The whole table as dump entries. With several members the entries are kept (a snapshot)
   * and reused by later joiners: unchanged entries as they are, changed keys regrouped, until
   * the changes reach an eighth of the table and the snapshot is rebuilt.
   */
  private dumpEntries(g: ExportGroup): DumpEntry[] {
    if (g.members.size <= 1) return this.group(g);
    let s = g.snapshot;
    if (!s || s.changed.size > Math.max(1024, g.table.size >> 3)) {
      const entries = this.group(g);
      const byKey = new Map<PrefixKey, (typeof entries)[number]>();
      for (const e of entries) for (const k of e.keys) byKey.set(k, e);
      g.snapshot = s = { entries, byKey, changed: new Set() };
    }
    if (s.view?.version === g.version) return s.view.entries;
    const snap = s;
    const out: DumpEntry[] = [];
    for (const e of snap.entries) {
      if (!e.dirty) out.push(e);
      else {
        const prefixes = e.prefixes.filter((_, i) => !snap.changed.has(e.keys[i]!));
        if (prefixes.length > 0) out.push({ attrs: e.attrs, src: e.src, prefixes });
      }
    }
    const fresh = new Map<number, DumpEntry>();
    for (const key of snap.changed) {
      const id = g.table.get(key);
      if (id < 0) continue;
      const src = g.table.lastAux;
      const k = id * 65536 + src;
      let e = fresh.get(k);
      if (!e) fresh.set(k, (e = { attrs: this.core.attrs.get(id), src, prefixes: [] }));
      e.prefixes.push(keyToPrefix(key));
    }
    out.push(...fresh.values());
    snap.view = { version: g.version, entries: out };
    return out;
  }

  /** Everything `d` is sent from its group, grouped by attribute set. */
  private view(d: PeerState, g: ExportGroup): DumpEntry[] {
    return this.dumpEntries(g).filter((e) => !g.excludes(d, e.attrs, e.src));
  }

  /** Joins `d` to its group and returns its initial dump (End-of-RIB included). */
  dump(d: PeerState, family: Family): PeerUpdate {
    const g = this.join(d, family);
    d.dumped.add(family);
    return { peer: d.config.id, family, withdraw: [], announce: this.view(d, g), endOfRib: true };
  }

  /** Re-announces everything `d` was sent for `family` (ROUTE-REFRESH, RFC 2918). */
  resend(d: PeerState, family: Family): PeerUpdate {
    const g = d.outGroups.get(family);
    return { peer: d.config.id, family, withdraw: [], announce: g ? this.view(d, g) : [], endOfRib: true };
  }

  /**
   * Re-evaluates exports after a policy change: every peer in `ds` leaves its groups first (so
   * groups whose members all changed are rebuilt from the Loc-RIB), then joins the groups its
   * new settings pick; the difference between what it had and what it gets is its diff.
   */
  reexport(ds: readonly PeerState[]): PeerUpdate[] {
    const had: Array<{ d: PeerState; family: Family; before: Map<PrefixKey, number> }> = [];
    for (const d of ds) {
      for (const family of d.session?.families ?? []) {
        const g = d.outGroups.get(family);
        if (!g || !d.dumped.has(family)) continue;
        const before = new Map<PrefixKey, number>();
        g.table.forEach((id, key, src) => {
          if (g.excludes(d, this.core.attrs.get(id), src)) return;
          this.core.attrs.retainId(id); // kept alive until compared
          before.set(key, id);
        });
        had.push({ d, family, before });
      }
    }
    for (const { d, family } of had) this.leave(d, family);
    const out: PeerUpdate[] = [];
    for (const { d, family, before } of had) {
      const diff = new DiffBuilder(d.config.id, family);
      const g = this.join(d, family);
      g.table.forEach((id, key, src) => {
        if (!g.excludes(d, this.core.attrs.get(id), src) && before.get(key) !== id) diff.announce(this.core.attrs.get(id), keyToPrefix(key));
      });
      for (const [key, id] of before) {
        const now = g.table.get(key);
        if (now < 0 || g.excludes(d, this.core.attrs.get(now), g.table.lastAux)) diff.withdraw.push(keyToPrefix(key));
        this.core.attrs.releaseId(id);
      }
      if (!diff.empty) out.push(diff.build());
    }
    return out;
  }

  /** Forgets `d`'s Adj-RIB-Out (session down): it leaves its groups. */
  clear(d: PeerState, families: readonly Family[]): void {
    for (const f of families) this.leave(d, f);
    d.dumped.clear();
  }

  /** Prefixes `d` has been sent (all families). */
  advertised(d: PeerState): number {
    let n = 0;
    for (const g of d.outGroups.values()) n += g.advertisedTo(d);
    return n;
  }

  /** Drops a group's cached transformations (with their references). */
  clearGroupCache(g: ExportGroup): void {
    g.memo.src = undefined;
    if (g.exportCache.size === 0) return;
    for (const e of g.exportCache.values()) if (e.out && e.out.id >= 0) this.core.attrs.release(e.out);
    g.exportCache.clear();
  }

  /** Drops every cached transformation (a peer index is about to be reused). */
  clearCaches(): void {
    for (const g of this.groups.values()) this.clearGroupCache(g);
  }

  /** Bounds each group's cache: entries for dead source sets accumulate otherwise. */
  trimCaches(): void {
    for (const g of this.groups.values()) if (g.exportCache.size > CACHE_SLACK + 2 * this.core.attrs.size) this.clearGroupCache(g);
  }
}

function lastRouterId(p: PeerState): string {
  const n = p.source.routerId;
  return `${(n >>> 24) & 255}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}
