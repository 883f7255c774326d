/**
 * Export groups (what FRR calls update groups): Established peers to which every route is
 * exported identically share one Adj-RIB-Out, one export-transformation cache and, through the
 * shared `PeerUpdate` entries, one encoding of each UPDATE. A route reflector with 1,000
 * clients keeps one Adj-RIB-Out instead of 1,000.
 *
 * Invariants:
 * - Members of a group have the same `groupKey` (family, iBGP/eBGP, client flag, next-hop mode,
 *   our addresses toward them); a peer with an export filter is alone in its group (the filter
 *   may look at anything).
 * - `table` holds, per prefix, the exported attribute set id (one reference each) and, as aux,
 *   the index of the source peer. What a member has been sent is the table minus its
 *   exclusions: routes whose source is the member itself (never back to the sender), and
 *   iBGP routes whose ORIGINATOR_ID is the member's router id (RFC 4456 §8).
 * - A group with one member keeps no entry for a route that member is not sent (its own routes,
 *   split horizon): a peer's whole table is not copied into an Adj-RIB-Out nobody reads. It is
 *   then `partial`, and the next member to join fills in the missing entries first.
 * - The exclusion counts (`bySource`, `byOriginator`, `byBoth`) always match the table, so a
 *   member's advertised count is O(1).
 */
import type { Family, Prefix } from '../codec/types.js';
import type { AttrSet } from './attr-set.js';
import type { PeerState } from './peer.js';
import type { PrefixKey } from './prefix-key.js';
import { makeTable, type PrefixTable } from './prefix-table.js';

/** Prefixes of the table that share (attribute set, source): one announce group of a dump. */
export interface DumpEntry {
  attrs: AttrSet;
  src: number;
  prefixes: Prefix[];
}

/**
 * The table grouped into dump entries at some moment, plus the keys changed since: a member
 * joining later is sent the unchanged entries as they are (the same objects, so their UPDATEs
 * are already encoded) and the changed keys afresh, instead of a regrouping of the whole table.
 */
export interface Snapshot {
  entries: Array<DumpEntry & { keys: PrefixKey[]; dirty: boolean }>;
  byKey: Map<PrefixKey, DumpEntry & { dirty: boolean }>;
  changed: Set<PrefixKey>;
  /** The dump entries derived for one table version (members joining in one flush share them). */
  view?: { version: number; entries: DumpEntry[] };
}

/** One cached transformation: source set → exported set (null: not exported). */
export interface CachedExport {
  src: AttrSet;
  out: AttrSet | null;
}

/** The key of the group a peer belongs to for `family` (its session must be up). */
export function groupKey(d: PeerState, family: Family): string {
  const s = d.session!;
  const c = d.config;
  if (c.exportFilter || c.advertiseBack === true) return `${family}|peer|${c.id}`;
  const kind = d.source.kind === 'ebgp' ? 'ebgp' : 'ibgp';
  const local = family === 'ipv4-unicast' ? (s.localAddress ?? '') : (s.localAddress6 ?? []).join(',');
  return `${family}|${kind}|${c.routeReflectorClient === true}|${c.nextHop ?? 'auto'}|${local}`;
}

/** The shared Adj-RIB-Out of a set of peers for one family. */
export class ExportGroup {
  /** prefix → exported attribute set id; aux = source peer index. */
  readonly table: PrefixTable;
  readonly members = new Set<PeerState>();
  /** Members by router id (dotted quad), for the ORIGINATOR_ID exclusion. */
  readonly byRouterId = new Map<string, PeerState>();
  /** Members by peer index, for the source exclusion. */
  readonly byIndex = new Map<number, PeerState>();
  readonly exportCache = new Map<number, CachedExport>();
  readonly memo: { src: AttrSet | undefined; peer: number; out: AttrSet | null } = { src: undefined, peer: -1, out: null };
  /** Entries per source index, per ORIGINATOR_ID, and per (source, originator). */
  private readonly bySource = new Map<number, number>();
  private readonly byOriginator = new Map<string, number>();
  private readonly byBoth = new Map<string, number>();
  /** Bumped on every table change. */
  version = 0;
  /** Entries excluded for the only member were left out (see the module invariants). */
  partial = false;
  /** The table as dump entries, kept while members keep joining (see `Exporter.view`). */
  snapshot: Snapshot | undefined;

  constructor(
    readonly key: string,
    readonly family: Family,
  ) {
    this.table = makeTable(family, true);
  }

  /** Any member: the export target the group's transformations are computed for. */
  get representative(): PeerState {
    return this.members.values().next().value!;
  }

  add(d: PeerState): void {
    this.members.add(d);
    this.byIndex.set(d.index, d);
    if (d.session) this.byRouterId.set(d.session.routerId, d);
  }

  remove(d: PeerState): void {
    this.members.delete(d);
    this.byIndex.delete(d.index);
    if (d.session && this.byRouterId.get(d.session.routerId) === d) this.byRouterId.delete(d.session.routerId);
  }

  /** True when member `m` is not sent the entry (`a` from source `src`). */
  excludes(m: PeerState, a: AttrSet, src: number): boolean {
    if (src === m.index && m.config.advertiseBack !== true) return true;
    const orig = a.attrs.originatorId;
    return orig !== undefined && m.source.kind !== 'ebgp' && orig === m.session?.routerId;
  }

  /** Records that `key`'s entry changed (for the snapshot). */
  touch(key: PrefixKey): void {
    const s = this.snapshot;
    if (!s) return;
    s.changed.add(key);
    const e = s.byKey.get(key);
    if (e) e.dirty = true;
  }

  /** Records an entry entering (+1) or leaving (-1) the table, for the exclusion counts. */
  count(a: AttrSet, src: number, delta: 1 | -1): void {
    this.version++;
    bump(this.bySource, src, delta);
    const orig = a.attrs.originatorId;
    if (orig === undefined) return;
    bump(this.byOriginator, orig, delta);
    bump(this.byBoth, `${src}|${orig}`, delta);
  }

  /** How many entries member `m` is sent. */
  advertisedTo(m: PeerState): number {
    const rid = m.source.kind !== 'ebgp' ? m.session?.routerId : undefined;
    let n = this.table.size;
    if (m.config.advertiseBack !== true) n -= this.bySource.get(m.index) ?? 0;
    if (rid !== undefined) {
      n -= this.byOriginator.get(rid) ?? 0;
      if (m.config.advertiseBack !== true) n += this.byBoth.get(`${m.index}|${rid}`) ?? 0;
    }
    return n;
  }
}

function bump<K>(m: Map<K, number>, k: K, delta: number): void {
  const v = (m.get(k) ?? 0) + delta;
  if (v === 0) m.delete(k);
  else m.set(k, v);
}
