/**
 * The BGP speaker: sessions (one `SessionHandle` per peer, a shared listener) tied to one `Rib`.
 *
 * Flow: a session's upward events are applied to the RIB at once (UPDATEs → `ingest`, with the
 * RFC 7606 outcome the codec chose: treat-as-withdraw arrives as withdrawals); a flush is
 * scheduled for the end of the event-loop turn, so a burst of UPDATEs costs one flush; the
 * flush's per-peer diffs go to each peer's `TransmitQueue` (packed UPDATEs, End-of-RIB after a
 * dump, socket backpressure) and its best-path changes to the listeners.
 *
 * Invariants:
 * - The RIB sees `peerUp` only after Established and `peerDown` exactly once per Established.
 * - Reconfiguring a peer whose session-level settings are unchanged never resets its session
 *   (policy changes go through `rib.reconfigurePeer`); changed session settings recreate it.
 * - Max-prefix (RFC 4486 Cease subcode 1): the session is reset and restarted after a delay.
 * - Admin stops (removal, shutdown) are "admin" ends for graceful restart (routes flushed).
 */
import { CeaseSubcode, type Family, type PathAttributes } from '../codec/types.js';
import { compileFilters, familyOf, importRulesKey, type PeerSession, type RibPeerConfig, type SessionEnd } from '../rib/index.js';
import { SessionConfigError, type LocalGracefulRestart, type Negotiated, type SessionConfig, type SessionState, type Upward } from '../session/index.js';
import { ceaseFor, localGracefulRestart } from './graceful-restart.js';
import { peerId, sessionConfigFor, transportFor, validatePeers, type PeerProblem } from './session-config.js';
import { downInfo, sessionKey } from './peer-keys.js';
import { kernelLocalAddresses } from './local-address.js';
import { ingestOutcome } from './ingest.js';
import { toPrefix } from './prefix.js';
import { TransmitQueue } from './transmit.js';
import type { ListenerHandle, PeerRuntimeStatus, SpeakerComponents, SpeakerEvent, SpeakerOptions, SpeakerPeerConfig } from './types.js';

const NO_ATTRS: PathAttributes = Object.freeze({});

interface PeerRuntime {
  /** The peer's key: its address, plus `:port` when not 179 (see `peerId`). */
  id: string;
  cfg: SpeakerPeerConfig;
  session: import('./types.js').SessionHandle;
  off: Array<() => void>;
  tx: TransmitQueue | undefined;
  negotiated: Negotiated | undefined;
  state: SessionState;
  since: number;
  info: string;
  /** Set when BFD went Down: the next `down` is reported as such. */
  bfdDown?: boolean;
  /** Set when we stop the session ourselves: the next `down` is an admin end. */
  adminStop: boolean;
  updatesIn: number;
  withdrawalsIn: number;
  /** UPDATEs that arrived while Established was being set up (local address lookup). */
  pending: Array<Extract<Upward, { type: 'update' }>> | undefined;
}

/** The speaker. Construct, `start()`, and `stop()` at the end. */
export class Speaker {
  private readonly peers = new Map<string, PeerRuntime>();
  private readonly listeners = new Set<(e: SpeakerEvent) => void>();
  private listener: ListenerHandle | undefined;
  private flushScheduled = false;
  private ribTimer: unknown;
  /** Originated prefixes (CIDR text), for the difference on the next `setOriginated`. */
  private originated = new Set<string>();
  private stopped = false;
  /** Sessions may still advertise the R bit (we restarted and have not told them it is over). */
  private restartAdvertised: boolean;

  constructor(
    private readonly c: SpeakerComponents,
    private readonly opts: SpeakerOptions,
  ) {
    this.restartAdvertised = opts.restarting === true;
    c.metrics?.setPrefixSource(() => this.status().map((s) => ({ peer: s.address, received: s.received, accepted: s.accepted, advertised: s.advertised })));
  }

  /** Subscribes to speaker events; returns the unsubscribe function. */
  on(l: (e: SpeakerEvent) => void): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  private emit(e: SpeakerEvent): void {
    for (const l of this.listeners) l(e);
  }

  /** Starts listening (when configured), originates prefixes and starts every peer. */
  async start(signal?: AbortSignal): Promise<void> {
    if (this.opts.listen && this.c.listenerFactory) {
      this.listener = this.c.listenerFactory({ host: this.opts.listen.address, port: this.opts.listen.port });
      await this.listener.listen(signal);
    }
    this.setOriginated(this.opts.originate ?? []);
    for (const p of this.opts.peers) this.addPeer(p);
    this.scheduleFlush();
  }

  /** The listener's bound address (port 0 resolves to the chosen port), if listening. */
  get listening(): ListenerHandle | undefined {
    return this.listener;
  }

  /** Replaces the set of originated prefixes (only the difference is announced/withdrawn). */
  setOriginated(routes: ReadonlyArray<{ prefix: string; attrs?: PathAttributes }>): void {
    const next = new Set<string>();
    for (const r of routes) {
      next.add(r.prefix);
      this.c.rib.originate(toPrefix(r.prefix), r.attrs ?? NO_ATTRS);
    }
    for (const k of this.originated) if (!next.has(k)) this.c.rib.withdrawOrigin(toPrefix(k));
    this.originated = next;
    this.scheduleFlush();
  }

  private ribPeerConfig(p: SpeakerPeerConfig): RibPeerConfig {
    return {
      id: peerId(p),
      address: p.address,
      asn: p.asn,
      routeReflectorClient: p.routeReflectorClient ?? false,
      nextHop: p.nextHop ?? 'auto',
      maxPrefixes: p.maxPrefixes?.limit,
      gracefulRestart: p.gracefulRestart !== undefined,
      importFilter: compileFilters(p.filters ?? [], 'import'),
      exportFilter: compileFilters(p.filters ?? [], 'export'),
    };
  }

  /** True while we are a restarting speaker whose selection deferral is not over (RFC 4724 §4.1). */
  private restartPending(): boolean {
    return this.opts.restarting === true && this.c.rib.deferring;
  }

  private localGracefulRestart(p: SpeakerPeerConfig): LocalGracefulRestart | undefined {
    return localGracefulRestart(this.c.rib, p, this.restartPending());
  }

  /** The Cease toward `rt` for `subcode` (RFC 8538 §5 Hard Reset when N was exchanged). */
  private cease(rt: PeerRuntime, subcode: number): { subcode: number; data?: Uint8Array } {
    return ceaseFor(rt.negotiated, rt.cfg.gracefulRestart !== undefined, subcode);
  }

  private sessionConfig(p: SpeakerPeerConfig): SessionConfig {
    return sessionConfigFor(this.opts, p, this.localGracefulRestart(p));
  }

  /**
   * RFC 4724 §4.1: once our restart is over (selection deferral ended), every later OPEN carries
   * R=0. Sessions keep their objects across reconnects, so they are told here.
   */
  private checkRestartOver(): void {
    if (!this.restartAdvertised || this.restartPending()) return;
    this.restartAdvertised = false;
    this.c.logger.info({}, 'graceful restart complete; later OPENs carry R=0');
    for (const rt of this.peers.values()) if (rt.cfg.gracefulRestart) rt.session.setGracefulRestart(this.localGracefulRestart(rt.cfg));
  }

  /** Adds a peer and starts its session; throws (and changes nothing) when its settings are invalid. */
  addPeer(p: SpeakerPeerConfig): void {
    const id = peerId(p);
    if (this.peers.has(id)) throw new Error(`peer ${id} already exists`);
    // the session first: it validates its settings, and a throw must leave no RIB peer behind
    const session = this.c.sessionFactory({ config: this.sessionConfig(p), transport: transportFor(p) });
    this.c.rib.addPeer(this.ribPeerConfig(p));
    const rt: PeerRuntime = { id, cfg: p, session, off: [], tx: undefined, negotiated: undefined, state: 'Idle', since: this.c.clock.now(), info: '', adminStop: false, updatesIn: 0, withdrawalsIn: 0, pending: undefined };
    this.peers.set(id, rt);
    rt.off.push(session.on((e) => this.onUpward(rt, e)));
    if (this.listener) rt.off.push(this.listener.register(session));
    if (p.bfd && this.c.bfd) rt.off.push(this.c.bfd.add(p.address, p.localAddress, p.bfd, () => undefined, (diag) => this.onBfdDown(rt, diag)));
    else if (p.bfd) this.c.logger.error({ peer: id }, 'BFD configured but no BFD service was given to the speaker');
    session.start();
  }

  /** Removes a peer (by `peerId`: its address, or `address:port`): Cease (Peer De-configured, RFC 4486) and its routes withdrawn. */
  removePeer(id: string): void {
    const rt = this.peers.get(id);
    if (!rt) return;
    rt.adminStop = true;
    const c = this.cease(rt, CeaseSubcode.PeerDeconfigured);
    rt.session.destroy(c.subcode, c.data);
    if (rt.negotiated) this.peerDown(rt, { kind: 'admin' }, 'removed');
    for (const f of rt.off) f();
    this.peers.delete(id);
    this.c.rib.removePeer(id);
    this.scheduleFlush();
  }

  /** Problems that would stop `setPeers(next)` (empty: it would apply). Changes nothing. */
  validatePeers(next: readonly SpeakerPeerConfig[]): PeerProblem[] {
    return validatePeers(this.opts, next);
  }

  /**
   * Applies a new peer list, all or nothing: the whole list is validated first (throwing
   * `SessionConfigError` for the first problem, with nothing changed); then removed peers go,
   * new ones start, peers whose session settings changed are recreated, and peers with only
   * policy changes keep their session.
   */
  setPeers(next: SpeakerPeerConfig[]): { added: string[]; removed: string[]; reset: string[]; updated: string[] } {
    const problem = this.validatePeers(next)[0];
    if (problem) throw new SessionConfigError(problem.peer, problem.field, problem.message);
    const res = { added: [] as string[], removed: [] as string[], reset: [] as string[], updated: [] as string[] };
    const want = new Map(next.map((p) => [peerId(p), p]));
    for (const addr of [...this.peers.keys()]) {
      if (want.has(addr)) continue;
      this.removePeer(addr);
      res.removed.push(addr);
    }
    for (const p of next) {
      const id = peerId(p);
      const rt = this.peers.get(id);
      if (!rt) {
        this.addPeer(p);
        res.added.push(id);
      } else if (sessionKey(rt.cfg) !== sessionKey(p)) {
        this.removePeer(id);
        this.addPeer(p);
        res.reset.push(id);
      } else if (JSON.stringify(rt.cfg) !== JSON.stringify(p)) {
        const importChanged = importRulesKey(rt.cfg.filters ?? []) !== importRulesKey(p.filters ?? []);
        rt.cfg = p;
        this.c.rib.reconfigurePeer(this.ribPeerConfig(p)); // export side: the RIB re-evaluates the Adj-RIB-Out
        if (importChanged) this.refreshIn(rt);
        res.updated.push(id);
      }
    }
    this.scheduleFlush();
    return res;
  }

  /** A BFD Down (RFC 5882 §4.3): the BGP connection is dropped at once, as a transport failure. */
  private onBfdDown(rt: PeerRuntime, diag: number): void {
    if (this.peers.get(rt.id) !== rt) return;
    rt.bfdDown = true;
    rt.info = `BFD down (diag ${diag})`;
    if (rt.session.dropConnection) rt.session.dropConnection();
    else rt.session.reset(CeaseSubcode.OutOfResources);
  }

  /**
   * The import policy changed: the RIB keeps no unfiltered Adj-RIB-In, so ask the peer to send
   * its routes again (ROUTE-REFRESH, RFC 2918 §3) and they pass the new filter without a reset.
   */
  private refreshIn(rt: PeerRuntime): void {
    const n = rt.negotiated;
    if (!n) return; // the next session starts with the new policy anyway
    if (!n.routeRefresh && !n.enhancedRouteRefresh) {
      this.c.logger.warn({ peer: rt.id }, 'import policy changed but the peer does not support ROUTE-REFRESH; it applies to routes received from now on');
      return;
    }
    for (const f of n.families) rt.session.sendRouteRefresh(f);
  }

  private onUpward(rt: PeerRuntime, e: Upward): void {
    switch (e.type) {
      case 'state':
        rt.state = e.to;
        rt.since = this.c.clock.now();
        this.c.metrics?.sessionState(rt.id, e.to);
        this.emit({ type: 'peer-state', peer: rt.id, from: e.from, to: e.to });
        return;
      case 'established':
        rt.pending = [];
        this.onEstablished(rt, e.negotiated, e.endpoints?.localAddress).catch((err: unknown) => {
          // never an unhandled rejection: a failure to set the session up resets it
          rt.pending = undefined;
          this.c.logger.error({ peer: rt.id, err }, 'could not set up the Established session; resetting it');
          if (this.peers.get(rt.id) === rt) rt.session.reset(CeaseSubcode.OutOfResources);
        });
        return;
      case 'update':
        if (rt.pending) rt.pending.push(e);
        else this.onUpdate(rt, e);
        return;
      case 'route-refresh':
        this.onRouteRefresh(rt, e.message.afi, e.message.safi, e.message.subtype);
        return;
      case 'down': {
        rt.pending = undefined;
        const d = downInfo(e.reason);
        rt.info = rt.bfdDown ? `BFD down; ${d.info}` : d.info;
        rt.bfdDown = false;
        this.peerDown(rt, rt.adminStop ? { kind: 'admin' } : d.end, d.info);
        return;
      }
    }
  }

  /** `source`: our address on the session's TCP connection, when the shell knew it (else the kernel's guess). */
  private async onEstablished(rt: PeerRuntime, n: Negotiated, source: string | undefined): Promise<void> {
    const peer = source ? { ...rt.cfg, localAddress: source } : rt.cfg;
    const local = await (this.c.localAddresses ?? kernelLocalAddresses)(peer).catch(() => ({ v4: undefined, v6: [] as string[] }));
    const pending = rt.pending;
    rt.pending = undefined;
    if (!pending || rt.session.state !== 'Established' || this.peers.get(rt.id) !== rt) return;
    rt.negotiated = n;
    rt.info = 'Established';
    rt.adminStop = false;
    const gr = n.peerOpen.capabilities.find((c) => c.type === 'graceful-restart');
    const session: PeerSession = {
      routerId: n.peerId,
      localAddress: local.v4,
      localAddress6: local.v6.length ? local.v6 : undefined,
      families: n.families,
      gracefulRestart: gr?.type === 'graceful-restart' ? gr : undefined,
      // RFC 8538 §2: we send the N bit whenever graceful restart is configured for the peer.
      weAdvertisedNotificationBit: rt.cfg.gracefulRestart !== undefined,
    };
    rt.tx = new TransmitQueue(
      rt.session,
      () => (rt.negotiated ? rt.negotiated.sendContext : undefined),
      (err) => {
        this.c.logger.error({ peer: rt.id, err }, 'failed to encode UPDATEs; resetting the session');
        rt.session.reset(CeaseSubcode.OutOfResources);
      },
      (n) => this.c.metrics?.updatesSent(rt.id, n),
    );
    this.c.rib.peerUp(rt.id, session, this.c.clock.now());
    this.c.logger.info({ peer: rt.id, families: n.families, local }, 'BGP session established');
    for (const u of pending) this.onUpdate(rt, u);
    this.scheduleFlush();
  }

  private onUpdate(rt: PeerRuntime, e: Extract<Upward, { type: 'update' }>): void {
    if (!rt.negotiated) return;
    rt.updatesIn++;
    this.c.metrics?.updatesReceived(rt.id, 1);
    if (e.payload.kind !== 'decoded') return; // the speaker asks for decoded UPDATEs
    const outcome = e.payload.outcome;
    if (outcome.action === 'treat-as-withdraw') {
      // RFC 7606 §2: treat-as-withdraw — the codec moved every NLRI into the withdrawn lists.
      this.c.logger.warn({ peer: rt.id, issues: outcome.issues }, 'malformed UPDATE treated as withdraw (RFC 7606)');
    } else if (outcome.discarded.length > 0) {
      this.c.logger.warn({ peer: rt.id, issues: outcome.discarded }, 'attributes discarded (RFC 7606)');
    }
    const r = ingestOutcome(this.c.rib, rt.id, outcome, rt.negotiated.receiveContext.addPath);
    rt.withdrawalsIn += r.withdrawn;
    if (r.exceeded && rt.cfg.maxPrefixes) {
      // RFC 4486 §4: Cease, Maximum Number of Prefixes Reached; restart after a delay.
      this.c.logger.warn({ peer: rt.id, limit: rt.cfg.maxPrefixes.limit }, 'maximum prefixes exceeded; resetting the session');
      rt.info = `max prefixes (${rt.cfg.maxPrefixes.limit}) exceeded`;
      const c = this.cease(rt, CeaseSubcode.MaximumPrefixesReached);
      rt.session.reset(c.subcode, rt.cfg.maxPrefixes.restartAfterMs, c.data);
    }
    this.scheduleFlush();
  }

  private onRouteRefresh(rt: PeerRuntime, afi: number, safi: number, subtype: number): void {
    const family = familyOf(afi, safi);
    if (!family || !rt.tx || !rt.negotiated || subtype !== 0) return; // BoRR/EoRR from the peer need nothing from us
    const enhanced = rt.negotiated.enhancedRouteRefresh;
    if (enhanced) rt.tx.marker(family, 1); // RFC 7313 §4: BoRR, the Adj-RIB-Out, EoRR
    const u = this.c.rib.routeRefresh(rt.id, family);
    rt.tx.push(enhanced ? { ...u, endOfRib: false } : u); // with enhanced refresh EoRR marks the end
    if (enhanced) rt.tx.marker(family, 2);
  }

  private peerDown(rt: PeerRuntime, end: SessionEnd, info: string): void {
    if (!rt.negotiated) return;
    rt.negotiated = undefined;
    rt.tx?.clear();
    rt.tx = undefined;
    this.c.rib.peerDown(rt.id, end, this.c.clock.now());
    this.c.logger.info({ peer: rt.id, reason: info }, 'BGP session down');
    this.emit({ type: 'peer-down', peer: rt.id, reason: info });
    this.scheduleFlush();
  }

  /** Runs a flush at the end of this event-loop turn (one per burst of events). */
  scheduleFlush(): void {
    if (this.flushScheduled || this.stopped) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      this.flush();
    });
  }

  /** Applies pending RIB changes now: diffs to peers, best-path changes to listeners. */
  flush(): void {
    this.checkRestartOver();
    const f = this.c.rib.flush();
    for (const u of f.updates) {
      const rt = this.peers.get(u.peer);
      if (rt?.tx) rt.tx.push(u);
    }
    if (f.best.length > 0) this.emit({ type: 'best', changes: f.best });
    this.armRibTimer();
  }

  private armRibTimer(): void {
    const d = this.c.rib.nextDeadline();
    if (this.ribTimer !== undefined) this.c.clock.clearTimeout(this.ribTimer);
    this.ribTimer = undefined;
    if (d === undefined || this.stopped) return;
    this.ribTimer = this.c.clock.setTimeout(() => {
      this.ribTimer = undefined;
      this.c.rib.advance(this.c.clock.now());
      this.flush();
    }, Math.max(0, d - this.c.clock.now()));
  }

  /** Status of every peer. */
  status(): PeerRuntimeStatus[] {
    return [...this.peers.values()].map((rt) => {
      const counts = this.c.rib.peerCounts(rt.id);
      return {
        address: rt.id,
        asn: rt.cfg.asn,
        state: rt.state,
        since: rt.since,
        info: rt.info,
        type: rt.cfg.type ?? (rt.cfg.routeReflectorClient ? 'route reflector client' : 'global'),
        received: counts.received,
        accepted: counts.accepted,
        advertised: counts.advertised,
        updatesIn: rt.updatesIn,
        updatesOut: rt.tx?.sent ?? 0,
        withdrawalsIn: rt.withdrawalsIn,
      };
    });
  }

  /** Loc-RIB sizes. */
  locRibSize(family: Family): number {
    return this.c.rib.locRibSize(family);
  }

  /** Sends Cease (Administrative Shutdown, RFC 4486) to every peer and closes the listener. */
  async stop(): Promise<void> {
    for (const rt of this.peers.values()) {
      rt.adminStop = true;
      const c = this.cease(rt, CeaseSubcode.AdministrativeShutdown);
      rt.session.stop(c.subcode, c.data);
    }
    await Promise.all([...this.peers.values()].map((rt) => rt.session.drained().catch(() => undefined)));
    this.stopped = true;
    if (this.ribTimer !== undefined) this.c.clock.clearTimeout(this.ribTimer);
    for (const rt of this.peers.values()) for (const f of rt.off) f();
    await this.listener?.close();
  }
}
