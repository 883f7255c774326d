/**
 * `Rib`: the pure routing-information base of the speaker — Adj-RIBs-In, Loc-RIB, Adj-RIBs-Out,
 * route reflection, origination, graceful restart — behind one API the speaker shell drives.
 *
 * Usage (the speaker): `addPeer` once per configured peer; `peerUp` when a session reaches
 * Established; `ingest` every UPDATE (act on `exceeded`: Cease subcode 1, restart later);
 * `peerDown` when it ends; `originate` / `withdrawOrigin` local prefixes; then `flush()` once
 * per batch (e.g. per event-loop turn) and send each `PeerUpdate` (grouped by attribute set,
 * End-of-RIB last) and hand `best` to the embedder. Arm one timer for `nextDeadline()` and
 * call `advance(now)` when it fires.
 *
 * Invariants:
 * - No I/O and no clock: time is an argument (milliseconds), everything else is state.
 * - Between flushes, changes accumulate as "dirty" prefixes, so a prefix that flaps within a
 *   batch costs one diff, and a flush is O(changed prefixes × export groups + peers): peers
 *   exported to alike share one Adj-RIB-Out and one diff (export-group.ts).
 * - A peer's Adj-RIB-Out is filled by a full dump at the first flush after `peerUp`, then
 *   kept by diffs; End-of-RIB is sent per negotiated family after the dump.
 * - While deferring as a restarting speaker (RFC 4724 §4.1) flushes return nothing.
 */
import { TabbyError } from '@tabby/api';
import type { Capability, Family, PathAttributes, Prefix, UpdateMessage, UpdateOutcome } from '../codec/types.js';
import { Exporter, type PeerUpdate } from './adj-rib-out.js';
import { flushChanges, type RibFlush } from './flush.js';
export type { BestChange, RibFlush } from './flush.js';
import type { AttrSet } from './attr-set.js';
import { DEFAULT_DECISION, type DecisionOptions } from './decision.js';
import * as gr from './graceful-restart.js';
import { Ingester, UpdateSink, type IngestResult } from './ingest.js';
import { RibCore } from './loc-rib.js';
import { LOCAL_PEER, PeerState, type PeerSession, type RibPeerConfig } from './peer.js';
import type { LocalIdentity } from './policy.js';
import { FAMILIES, keyToPrefix, prefixFamily, userPrefixKey, type PrefixKey } from './prefix-key.js';
import type { RawAttrs } from './raw-attrs.js';

/** Error codes of the RIB. */
export type RibErrorCode = 'rib-unknown-peer' | 'rib-duplicate-peer' | 'rib-too-many-peers' | 'rib-invalid-reconfigure';

/** Configuration of the local speaker as the RIB needs it. */
export interface RibConfig {
  asn: number;
  routerId: string;
  /** Act as a route reflector (RFC 4456). */
  routeReflector?: boolean;
  /** CLUSTER_ID when reflecting; defaults to the router id (RFC 4456 §7). */
  clusterId?: string;
  decision?: Partial<DecisionOptions>;
  gracefulRestart?: Partial<gr.LocalGrConfig>;
  /** Produce `best` events in flushes (default true; a pure route reflector may turn it off). */
  bestChanges?: boolean;
}

/** Init options. */
export interface RibInit {
  /** Current time (ms), for the selection deferral timer of a restarting speaker. */
  now?: number;
}

/** The best path of a prefix. */
export interface BestPath {
  family: Family;
  prefix: Prefix;
  attrs: AttrSet;
  peer: string;
  pathId: number;
  stale: boolean;
}

/** Prefix counts of one peer (status output). */
export interface PeerCounts {
  received: number;
  accepted: number;
  advertised: number;
}

/** The RIB. */
export class Rib {
  private readonly core: RibCore;
  private readonly me: LocalIdentity;
  private readonly ingester: Ingester;
  private readonly sink: UpdateSink;
  private readonly exporter: Exporter;
  private readonly byId = new Map<string, PeerState>();
  private readonly local: PeerState;
  private readonly grState = new Map<number, gr.GrHelperState>();
  private readonly pendingDump = new Set<number>();
  private readonly pendingReexport = new Set<number>();
  private readonly grCfg: gr.LocalGrConfig;
  private readonly deferral: gr.DeferralState & { expected: Set<string> };
  private readonly emitBest: boolean;

  constructor(config: RibConfig, init: RibInit = {}) {
    const decision: DecisionOptions = { ...DEFAULT_DECISION, ...config.decision };
    this.core = new RibCore(decision);
    this.me = {
      asn: config.asn,
      routerId: config.routerId,
      clusterId: config.routeReflector || config.clusterId !== undefined ? (config.clusterId ?? config.routerId) : undefined,
      defaultLocalPref: decision.defaultLocalPref,
    };
    this.ingester = new Ingester(this.core, this.me);
    this.sink = new UpdateSink(this.ingester);
    this.exporter = new Exporter(this.core, this.me);
    this.local = new PeerState(0, { id: LOCAL_PEER, address: '', asn: config.asn }, config.asn);
    this.core.peers[0] = this.local;
    this.grCfg = { ...gr.DEFAULT_LOCAL_GR, ...config.gracefulRestart };
    const now = init.now ?? 0;
    this.deferral = { deferring: this.grCfg.restarting, deadline: now + this.grCfg.selectionDeferralMs, waiting: new Map(), expected: new Set() };
    this.emitBest = config.bestChanges !== false;
  }

  private peer(id: string): PeerState {
    const p = this.byId.get(id);
    if (!p) throw new TabbyError<RibErrorCode>('rib-unknown-peer', `BGP peer "${id}" is not configured in the RIB; call addPeer first`, { peer: id });
    return p;
  }

  /** Registers a peer (its session starts down). */
  addPeer(cfg: RibPeerConfig): void {
    if (this.byId.has(cfg.id) || cfg.id === LOCAL_PEER)
      throw new TabbyError<RibErrorCode>('rib-duplicate-peer', `BGP peer "${cfg.id}" is already configured`, { peer: cfg.id });
    let idx = 1;
    while (idx < 65536 && this.core.peers[idx]) idx++;
    if (idx === 65536) throw new TabbyError<RibErrorCode>('rib-too-many-peers', 'more than 65535 BGP peers', { peer: cfg.id });
    const p = new PeerState(idx, cfg, this.me.asn);
    this.core.peers[idx] = p;
    this.byId.set(cfg.id, p);
    if (this.deferral.deferring && cfg.gracefulRestart !== false) this.deferral.expected.add(cfg.id);
  }

  /**
   * Replaces a peer's policy knobs (filters, next hop, reflection client, limits; not its AS or
   * address). Its Adj-RIB-Out is re-evaluated at the next flush; a changed import filter needs
   * a ROUTE-REFRESH from the peer (the Adj-RIB-In holds only post-policy routes).
   */
  reconfigurePeer(cfg: RibPeerConfig): void {
    const p = this.peer(cfg.id);
    if (cfg.asn !== p.config.asn || cfg.address !== p.config.address)
      throw new TabbyError<RibErrorCode>('rib-invalid-reconfigure', `BGP peer "${cfg.id}": AS and address cannot change in place; remove and re-add the peer`, {
        peer: cfg.id,
      });
    // The client flag also decides what others get from this peer (RFC 4456 §6): re-export all.
    const everyone = (cfg.routeReflectorClient === true) !== (p.config.routeReflectorClient === true);
    p.config = { ...cfg };
    this.exporter.clearCaches();
    for (const q of everyone ? this.byId.values() : [p]) this.pendingReexport.add(q.index);
  }

  /** Export filter calls that threw (treated as reject), and the last error. */
  get exportFilterErrors(): { count: number; last?: { peer: string; err: unknown } } {
    return this.exporter.filterErrors;
  }

  /** Removes a peer and all its routes. */
  removePeer(id: string): void {
    const p = this.peer(id);
    this.exporter.clear(p, FAMILIES);
    for (const f of FAMILIES) this.core.removeAll(p, f);
    this.exporter.clearCaches(); // its index may be reused
    this.core.peers[p.index] = undefined;
    this.byId.delete(id);
    this.grState.delete(p.index);
    this.pendingDump.delete(p.index);
    this.pendingReexport.delete(p.index);
    this.deferral.expected.delete(id);
    this.deferral.waiting.delete(id);
    this.checkDeferral();
  }

  /** The session reached Established: the next flush dumps our routes to it. */
  peerUp(id: string, session: PeerSession, now: number): void {
    const p = this.peer(id);
    p.setSession(session); // it joins the export groups its session's facts pick at the dump
    const st = this.grState.get(p.index);
    if (st) {
      const r = gr.onSessionUp(st, session.gracefulRestart, now, this.grCfg.stalePathMs);
      this.applyGr(p, r);
    }
    this.pendingDump.add(p.index);
    if (this.deferral.deferring) {
      this.deferral.waiting.set(id, new Set(session.gracefulRestart ? session.families : []));
      this.checkDeferral();
    }
  }

  /** The session ended: drop its Adj-RIB-Out, and flush or retain (GR) its routes. */
  peerDown(id: string, end: gr.SessionEnd, now: number): void {
    const p = this.peer(id);
    const s = p.session;
    this.exporter.clear(p, FAMILIES);
    this.pendingDump.delete(p.index);
    this.pendingReexport.delete(p.index);
    const prev = this.grState.get(p.index);
    if (prev) for (const f of prev.phase === 'idle' ? [] : prev.families) this.core.purgeStale(p, f); // flapped again
    const d = p.config.gracefulRestart === false || !s ? ({ action: 'flush' } as const) : gr.onSessionDown(s.gracefulRestart, s.weAdvertisedNotificationBit === true, end, now);
    if (d.action === 'flush') {
      for (const f of FAMILIES) this.core.removeAll(p, f);
      this.grState.delete(p.index);
    } else {
      for (const f of FAMILIES) {
        if (d.state.phase !== 'idle' && d.state.families.includes(f)) this.core.markStale(p, f);
        else this.core.removeAll(p, f);
      }
      this.grState.set(p.index, d.state);
    }
    p.setSession(undefined);
  }

  /** Applies one UPDATE (or RFC 7606 outcome) received from peer `id`. */
  ingest(id: string, msg: UpdateOutcome | UpdateMessage): IngestResult {
    const p = this.peer(id);
    const res = this.ingester.apply(p, msg);
    if (res.endOfRib) this.onEndOfRib(p, res.endOfRib);
    return res;
  }

  /**
   * Fast path for one UPDATE whose NLRI arrive as numbers (the codec's `forEachIpv4Nlri` /
   * `forEachIpv6Nlri` over a raw UPDATE): pass the sink's `withdraw4` / `announce4` /
   * `withdraw6` / `announce6` as callbacks, then `sink.end()`. Announcements are of `family`
   * with `attrs` (none without `attrs`: withdrawals only). End-of-RIB and treat-as-withdraw go
   * through `ingest`. `raw`: the path attribute octets `attrs` were decoded from (UPDATEs
   * without MP attributes), so a new attribute set keeps those instead of objects (raw-attrs.ts).
   */
  beginUpdate(id: string, attrs?: Readonly<PathAttributes>, family: Family = 'ipv4-unicast', raw?: RawAttrs): UpdateSink {
    return this.sink.begin(this.peer(id), attrs, family, raw);
  }

  private onEndOfRib(p: PeerState, f: Family): void {
    const st = this.grState.get(p.index);
    if (st) this.applyGr(p, gr.onEndOfRib(st, f));
    const w = this.deferral.waiting.get(p.config.id);
    if (w) {
      w.delete(f);
      this.checkDeferral();
    }
  }

  private applyGr(p: PeerState, r: { state: gr.GrHelperState; purge: Family[] }): void {
    for (const f of r.purge) this.core.purgeStale(p, f);
    if (r.state.phase === 'idle') this.grState.delete(p.index);
    else this.grState.set(p.index, r.state);
  }

  private checkDeferral(): void {
    const d = this.deferral;
    if (!d.deferring) return;
    for (const id of d.expected) {
      const w = d.waiting.get(id);
      if (!w || w.size > 0) return;
    }
    d.deferring = false; // RFC 4724 §4.1: End-of-RIB from every GR peer
  }

  /** Originates a local prefix (e.g. a node's pod block); attributes default to ORIGIN IGP, empty AS_PATH. */
  originate(prefix: Prefix, attrs: PathAttributes = {}): void {
    const family = prefixFamily(prefix);
    const a = this.core.attrs.intern({ origin: 0, asPath: [], ...attrs });
    if (!this.core.setPath(this.local, family, userPrefixKey(prefix), 0, a)) this.core.attrs.dropIfUnused(a);
  }

  /** Stops originating a local prefix. */
  withdrawOrigin(prefix: Prefix): void {
    this.core.removePath(this.local, prefixFamily(prefix), userPrefixKey(prefix), 0);
  }

  /** ROUTE-REFRESH from peer `id` (RFC 2918): everything in its Adj-RIB-Out for `family`, again. */
  routeRefresh(id: string, family: Family): PeerUpdate {
    return this.exporter.resend(this.peer(id), family);
  }

  /** Next-hop reachability or IGP costs changed: re-run the decision for every prefix. */
  nextHopsChanged(): void {
    for (const f of FAMILIES) this.core.recomputeAll(f);
  }

  /** Collects best-path changes and per-peer diffs accumulated since the last flush. */
  flush(): RibFlush {
    const out: RibFlush = { best: [], updates: [] };
    if (this.deferral.deferring) return out;
    for (const f of FAMILIES) this.flushFamily(f, out);
    for (const idx of this.pendingDump) {
      const p = this.core.peers[idx];
      if (p?.session) for (const f of p.session.families) out.updates.push(this.exporter.dump(p, f));
    }
    this.pendingDump.clear();
    const re = [...this.pendingReexport].map((idx) => this.core.peers[idx]).filter((p): p is PeerState => p !== undefined);
    out.updates.push(...this.exporter.reexport(re));
    this.pendingReexport.clear();
    this.exporter.trimCaches();
    this.updateTracking();
    return out;
  }

  /**
   * Tracks a family's changes only while something consumes them (see `RibCore.tracking`), and
   * finds its quiet source: with no best-path events, and one export group whose only member
   * is peer P, P's routes for new prefixes reach nobody (split horizon) until the next flush.
   */
  private updateTracking(): void {
    for (const f of FAMILIES) {
      let on = this.emitBest;
      for (const p of this.byId.values()) if (!on && p.session && p.dumped.has(f)) on = true;
      this.core.setTracking(f, on);
      const groups = this.emitBest ? [] : this.exporter.groupsOf(f).filter((g) => g.members.size > 0);
      const sole = groups.length === 1 && groups[0]!.members.size === 1 ? groups[0]!.representative : undefined;
      this.core.quiet[f] = sole && sole.config.advertiseBack !== true ? sole.index : -1;
      if (this.core.quiet[f] >= 0) groups[0]!.partial = true; // its table may miss the quiet routes
      this.core.updateMirror(f);
    }
  }

  private flushFamily(f: Family, out: RibFlush): void {
    if (this.core.dirty[f].size === 0) return;
    flushChanges(this.core, this.exporter, f, out, this.emitBest);
  }

  /** The earliest pending timer (GR restart / stale-path, selection deferral), ms. */
  nextDeadline(): number | undefined {
    let t: number | undefined = this.deferral.deferring ? this.deferral.deadline : undefined;
    for (const st of this.grState.values()) {
      const d = gr.helperDeadline(st);
      if (d !== undefined && (t === undefined || d < t)) t = d;
    }
    return t;
  }

  /** Fires every timer due at `now`. */
  advance(now: number): void {
    for (const [idx, st] of [...this.grState]) this.applyGr(this.core.peers[idx]!, gr.onTimer(st, now));
    if (this.deferral.deferring && now >= this.deferral.deadline) this.deferral.deferring = false; // RFC 4724 §4.1
  }

  /** True while a restarting speaker defers selection results (RFC 4724 §4.1). */
  get deferring(): boolean {
    return this.deferral.deferring;
  }

  /** The GR capability to advertise (forwarding-state bit per our config), RFC 4724 §3. */
  gracefulRestartCapability(families: Family[]): Capability {
    return gr.localGrCapability(this.grCfg, families);
  }

  /** The helper-side GR state of a peer. */
  peerGrState(id: string): gr.GrHelperState {
    return this.grState.get(this.peer(id).index) ?? gr.GR_IDLE;
  }

  /** Prefix counts of a peer. */
  peerCounts(id: string): PeerCounts {
    const p = this.peer(id);
    let rejected = 0;
    for (const f of FAMILIES) rejected += p.maybeTables(f)?.rejected.size ?? 0;
    return { received: p.accepted + rejected, accepted: p.accepted, advertised: this.exporter.advertised(p) };
  }

  /** Number of prefixes with a best path. */
  locRibSize(family: Family): number {
    return this.core.loc[family].size;
  }

  /** Number of live interned attribute sets. */
  get attrSetCount(): number {
    return this.core.attrs.size;
  }

  /** The best path for a prefix. */
  best(prefix: Prefix): BestPath | undefined {
    const f = prefixFamily(prefix);
    return this.bestOf(f, userPrefixKey(prefix));
  }

  private bestOf(family: Family, key: PrefixKey): BestPath | undefined {
    const ref = this.core.loc[family].get(key);
    if (ref < 0) return undefined;
    const p = this.core.peers[ref % 65536]!;
    const slot = Math.floor(ref / 65536);
    const v = p.maybeTables(family)!.adjIn[slot]!.get(key);
    return { family, prefix: keyToPrefix(key), attrs: this.core.attrs.get(v >> 1), peer: p.config.id, pathId: this.core.pathIdOf(slot), stale: (v & 1) === 1 };
  }

  /** Every best path of a family (status / `tabby-bgp routes`). */
  *routes(family: Family): Generator<BestPath> {
    for (const k of this.core.loc[family].keys()) {
      const b = this.bestOf(family, k);
      if (b) yield b;
    }
  }
}
