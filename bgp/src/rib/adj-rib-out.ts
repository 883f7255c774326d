/**
 * Adj-RIB-Out: what each Established peer has been sent, and the diffs to send next.
 *
 * Invariants:
 * - A peer's Adj-RIB-Out holds, per prefix, the id of the exported attribute set (one
 *   reference each). A diff announces only when the exported set differs from what the peer
 *   has, and withdraws only what the peer has, so peers never see redundant UPDATEs.
 * - The built-in export transformation is cached per (source attr set, source peer, family)
 *   in the destination peer's cache; each cached result holds a reference. The user's export
 *   filter runs per prefix (it may look at the prefix), after the cache.
 */
import type { Family, Prefix } from '../codec/types.js';
import type { AttrSet } from './attr-set.js';
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

/** Computes exports and maintains the Adj-RIBs-Out. */
export class Exporter {
  /** Export filter calls that threw (treated as reject). */
  readonly filterErrors: { count: number; last?: { peer: string; err: unknown } } = { count: 0 };

  constructor(
    private readonly core: RibCore,
    private readonly me: LocalIdentity,
  ) {}

  private target(d: PeerState): ExportTarget {
    const s = d.session!;
    return {
      kind: d.source.kind === 'ebgp' ? 'ebgp' : 'ibgp',
      routeReflectorClient: d.config.routeReflectorClient === true,
      nextHop: d.config.nextHop ?? 'auto',
      localAddress: s.localAddress,
      localAddress6: s.localAddress6,
      routerId: s.routerId,
    };
  }

  /** The built-in transformation of `a` from `src` toward `d`, cached; null = not exported. */
  private transform(d: PeerState, family: Family, src: PeerState, a: AttrSet): AttrSet | null {
    const m = d.memo;
    if (m.src === a && m.peer === src.index && m.family === family) return m.out; // runs share a set
    const out = this.transformCached(d, family, src, a);
    m.src = a;
    m.peer = src.index;
    m.family = family;
    m.out = out;
    return out;
  }

  private transformCached(d: PeerState, family: Family, src: PeerState, a: AttrSet): AttrSet | null {
    const ck = (a.id * 65536 + src.index) * 2 + (family === 'ipv4-unicast' ? 0 : 1);
    const hit = d.exportCache.get(ck);
    if (hit && hit.src === a && (hit.out === null || hit.out.id >= 0)) return hit.out;
    if (hit?.out) this.core.attrs.release(hit.out);
    let out: AttrSet | null = null;
    const source = { kind: src.source.kind, routeReflectorClient: src.config.routeReflectorClient === true, routerId: src.session?.routerId ?? lastRouterId(src) };
    const tgt = this.target(d);
    if (mayExport(a, source, tgt, this.me)) {
      const x = exportAttrs(a, family, source, tgt, this.me);
      out = this.core.attrs.intern(x.attrs, x.nextHops);
      this.core.attrs.retain(out);
    }
    d.exportCache.set(ck, { src: a, out });
    return out;
  }

  /** The attribute set to send `d` for prefix `key` whose best path is `a` from `src`; null if none. */
  exportFor(d: PeerState, family: Family, key: PrefixKey, src: PeerState, a: AttrSet): AttrSet | null {
    if (src === d && d.config.advertiseBack !== true) return null; // never back to the sender
    if (!d.session?.families.includes(family)) return null;
    const out = this.transform(d, family, src, a);
    const filter = d.config.exportFilter;
    if (!out || !filter) return out;
    let r: FilterResult;
    try {
      r = filter({ family, prefix: this.core.prefixOf(key), attrs: out.attrs, nextHops: out.nextHops, peer: d.config.id, from: src.index === 0 ? LOCAL_PEER : src.config.id });
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

  /** Brings `d`'s Adj-RIB-Out for `key` in line with the current best, recording the diff. */
  update(d: PeerState, family: Family, key: PrefixKey, diff: DiffBuilder): void {
    const loc = this.core.loc[family];
    const ref = loc.get(key);
    if (ref < 0) this.apply(d, family, key, undefined, undefined, diff);
    else this.apply(d, family, key, this.core.peers[ref % 65536]!, this.core.attrs.get(loc.lastAux), diff);
  }

  /** Like `update`, with the best path (source peer and attributes; none = no best) given. */
  apply(d: PeerState, family: Family, key: PrefixKey, src: PeerState | undefined, a: AttrSet | undefined, diff: DiffBuilder): void {
    const core = this.core;
    const want = src && a ? this.exportFor(d, family, key, src, a) : null;
    const out = d.tables(family).adjOut;
    if (want === null && out.size === 0) return;
    const prev = out.get(key);
    if (want === null) {
      if (prev < 0) return;
      out.delete(key);
      core.attrs.releaseId(prev);
      diff.withdraw.push(core.prefixOf(key));
      return;
    }
    if (prev === want.id) return;
    core.attrs.retain(want);
    out.set(key, want.id);
    if (prev >= 0) core.attrs.releaseId(prev);
    diff.announce(want, core.prefixOf(key));
  }

  /** Fills an empty Adj-RIB-Out from the whole Loc-RIB (initial dump), End-of-RIB included. */
  dump(d: PeerState, family: Family): PeerUpdate {
    const diff = new DiffBuilder(d.config.id, family);
    for (const key of this.core.loc[family].keys()) this.update(d, family, key, diff);
    diff.endOfRib = true;
    d.dumped.add(family);
    return diff.build();
  }

  /** Re-announces everything in `d`'s Adj-RIB-Out for `family` (ROUTE-REFRESH, RFC 2918). */
  resend(d: PeerState, family: Family): PeerUpdate {
    const diff = new DiffBuilder(d.config.id, family);
    d.maybeTables(family)?.adjOut.forEach((id, key) => diff.announce(this.core.attrs.get(id), keyToPrefix(key)));
    diff.endOfRib = true;
    return diff.build();
  }

  /** Forgets `d`'s Adj-RIB-Out and export cache (session down). */
  clear(d: PeerState, families: readonly Family[]): void {
    for (const f of families) {
      const t = d.maybeTables(f)?.adjOut;
      if (!t) continue;
      t.forEach((id) => this.core.attrs.releaseId(id));
      t.clear();
    }
    this.clearCache(d);
    d.dumped.clear();
  }

  /** Drops cached transformations (releasing their references). */
  clearCache(d: PeerState): void {
    for (const e of d.exportCache.values()) if (e.out && e.out.id >= 0) this.core.attrs.release(e.out);
    d.exportCache.clear();
    d.memo.src = undefined;
  }

  /** Bounds a peer's cache: entries for dead source sets accumulate otherwise. */
  trimCache(d: PeerState): void {
    if (d.exportCache.size > CACHE_SLACK + 2 * this.core.attrs.size) this.clearCache(d);
  }
}

function lastRouterId(p: PeerState): string {
  const n = p.source.routerId;
  return `${(n >>> 24) & 255}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}
