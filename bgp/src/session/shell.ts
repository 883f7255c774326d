/**
 * The thin I/O shell of one peer's session: it feeds socket and timer events into the pure peer
 * reducer (peer.ts) and executes the actions it returns — connect, send, close, timers, codec
 * contexts — and hands the upward events (established, update, route-refresh, down, state) to
 * the speaker's listeners.
 *
 * Invariants:
 * - Events are processed one at a time in arrival order; an event raised while actions are
 *   executing (a listener calling `stop()`, say) is queued, never nested.
 * - Only this file and connection.ts / listener.ts touch sockets; the reducer never sees one.
 * - UPDATEs the speaker sends bypass the reducer (they change no FSM state) and go straight to
 *   the Established connection's socket.
 */
import { CeaseSubcode, type BgpMessage, type Family } from '../codec/types.js';
import { Connection, openOutbound, type PeerTransport } from './connection.js';
import { END_OF_RIB } from './end-of-rib.js';
import { afiSafiOf } from './open.js';
import { establishedFsm, initialPeer, peerState, peerStep, type PeerState } from './peer.js';
import { noSocketOptions, silentLogger, systemClock, type ByteStream, type Clock, type Dialer, type SessionCodec, type SessionLogger, type SocketOptions } from './ports.js';
import { TimerTable } from './timer-table.js';
import { validateSession } from './validate.js';
import { canonicalAddress } from './listener.js';
import type { ConnId, Endpoints, LocalGracefulRestart, Negotiated, SessionAction, SessionConfig, SessionEvent, SessionState, Upward } from './types.js';

/** Injected dependencies of a peer session. */
export interface PeerSessionComponents {
  codec: SessionCodec;
  clock?: Clock;
  /** Seeds the backoff jitter; default Math.random. */
  random?: () => number;
  socketOptions?: SocketOptions;
  logger?: SessionLogger;
  /** Opens outbound connections (default: TCP with `openOutbound`; tests inject a fake). */
  dialer?: Dialer;
}

/** Options of one peer session. */
export interface PeerSessionInit {
  config: SessionConfig;
  transport: PeerTransport;
  /** Deliver UPDATEs as raw bytes (`payload.kind === 'raw'`) for a speaker that decodes them itself. */
  rawUpdates?: boolean;
  /** Grace period for a NOTIFICATION to leave before the socket is destroyed (ms, default 2000). */
  closeGraceMs?: number;
}

/** A listener for upward events. */
export type UpwardListener = (e: Upward) => void;

/** One peer: owns its connections and timers; see index.ts for how a speaker uses it. */
export class PeerSession {
  private peer: PeerState;
  private readonly conns = new Map<ConnId, Connection>();
  private readonly timers: TimerTable;
  private readonly listeners = new Set<UpwardListener>();
  private readonly queue: SessionEvent[] = [];
  private busy = false;
  private inSeq = 0;
  private readonly clock: Clock;
  private readonly log: SessionLogger;
  private readonly sockOpts: SocketOptions;

  constructor(
    private readonly components: PeerSessionComponents,
    private readonly init: PeerSessionInit,
  ) {
    this.clock = components.clock ?? systemClock;
    this.log = components.logger ?? silentLogger;
    this.sockOpts = components.socketOptions ?? noSocketOptions;
    validateSession(init.config, init.transport);
    const seed = Math.floor((components.random ?? Math.random)() * 0x100000000);
    this.peer = initialPeer(init.config, seed);
    this.timers = new TimerTable(this.clock, (timer, conn) => this.dispatch({ type: 'timer', timer, ...(conn ? { conn } : {}) }));
  }

  /** The peer's address. */
  get peerAddress(): string {
    return this.init.transport.peerAddress;
  }

  /** The transport settings (the listener reads the MD5 key and GTSM hops). */
  get transport(): PeerTransport {
    return this.init.transport;
  }

  /** The most advanced state of the peer's connections. */
  get state(): SessionState {
    return peerState(this.peer);
  }

  /** What the Established session negotiated, if one is Established. */
  get negotiated(): Negotiated | undefined {
    return establishedFsm(this.peer)?.negotiated ?? undefined;
  }

  /** Armed timers (diagnostics). */
  get armedTimers(): string[] {
    return this.timers.armed();
  }

  /** Subscribes to upward events; returns the unsubscribe function. */
  on(listener: UpwardListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** ManualStart (RFC 4271 Event 1, or 4 when the peer is passive). */
  start(): void {
    this.dispatch({ type: 'manual-start' });
  }

  /** ManualStop (Event 2): Cease with `subcode` (RFC 4486; default Administrative Shutdown), no restart. */
  stop(subcode: number = CeaseSubcode.AdministrativeShutdown, data?: Uint8Array): void {
    this.dispatch({ type: 'manual-stop', subcode, ...(data ? { data } : {}) });
  }

  /**
   * AutomaticStop (Event 8): Cease with `subcode` (e.g. Maximum Number of Prefixes Reached), then
   * restart after `restartAfterMs` or the idle-hold backoff.
   */
  reset(subcode: number, restartAfterMs?: number, data?: Uint8Array): void {
    this.dispatch({ type: 'automatic-stop', subcode, ...(restartAfterMs !== undefined ? { restartAfterMs } : {}), ...(data ? { data } : {}) });
  }

  /**
   * Replaces the graceful restart capability advertised in every OPEN sent from now on (e.g. the
   * R bit cleared once our restart is over, RFC 4724 §4.1); an OPEN already sent is unchanged.
   */
  setGracefulRestart(gracefulRestart: LocalGracefulRestart | undefined): void {
    this.dispatch({ type: 'set-graceful-restart', gracefulRestart });
  }

  /** Stops (Cease / Peer De-configured by default) and releases every socket and timer. */
  destroy(subcode: number = CeaseSubcode.PeerDeconfigured, data?: Uint8Array): void {
    this.stop(subcode, data);
    this.timers.clear();
    for (const c of this.conns.values()) c.close();
    this.conns.clear();
    this.listeners.clear();
  }

  /** The configured AS of the peer (the listener tells peers on one address apart by it). */
  get peerAs(): number {
    return this.init.config.peerAs;
  }

  /** Whether a session is Established (the listener prefers a peer that is not). */
  get isEstablished(): boolean {
    return this.state === 'Established';
  }

  /**
   * Hands over a socket the shared listener accepted from this peer's address (Event 17);
   * `initial`: octets the listener already read from it (the OPEN, when peers share an address).
   */
  acceptIncoming(socket: ByteStream, initial?: Uint8Array): void {
    this.inSeq += 1;
    const id = `i${this.inSeq}`;
    const c = this.newConnection(id, socket, false);
    this.conns.set(id, c);
    this.dispatch({ type: 'tcp-incoming', conn: id });
    if (initial && initial.length > 0) c.feed(initial);
    socket.resume();
  }

  private established(): Connection | undefined {
    const fsm = establishedFsm(this.peer);
    return fsm?.conn ? this.conns.get(fsm.conn) : undefined;
  }

  /**
   * Writes encoded UPDATE messages (each a whole message, header included) as one burst.
   * Returns false when not Established or when the socket buffer is full: wait for `drained()`.
   */
  sendUpdates(messages: readonly Uint8Array[]): boolean {
    const c = this.established();
    return c ? c.writeMany(messages) : false;
  }

  /**
   * Encodes (with the negotiated send context) and writes one message on the Established
   * connection. Throws the codec's `BgpCodecError` ('EncodeError') for a message that cannot be encoded.
   */
  send(message: BgpMessage): boolean {
    const c = this.established();
    return c ? c.send(message) : false;
  }

  /**
   * Closes every connection without a NOTIFICATION, as if the transport failed (a BFD Down,
   * RFC 5882 §4.3: the session goes down at once; graceful restart then applies).
   */
  dropConnection(): void {
    for (const c of this.conns.values()) c.socket.destroy();
  }

  /** Sends End-of-RIB for `family` (RFC 4724 §2). */
  sendEndOfRib(family: Family): boolean {
    const c = this.established();
    return c ? c.write(END_OF_RIB[family]) : false;
  }

  /** Sends ROUTE-REFRESH for `family` (RFC 2918; subtype 1/2 = BoRR/EoRR, RFC 7313). */
  sendRouteRefresh(family: Family, subtype = 0): boolean {
    return this.send({ type: 'route-refresh', ...afiSafiOf(family), subtype });
  }

  /** Resolves when the Established connection's write buffer has drained (at once when none). */
  drained(signal?: AbortSignal): Promise<void> {
    return this.established()?.drained(signal) ?? Promise.resolve();
  }

  /** Feeds one event to the reducer and executes its actions; re-entrant calls are queued. */
  private dispatch(e: SessionEvent): void {
    this.queue.push(e);
    if (this.busy) return;
    this.busy = true;
    try {
      for (let ev = this.queue.shift(); ev !== undefined; ev = this.queue.shift()) {
        const r = peerStep(this.peer, ev, this.clock.now());
        this.peer = r.state;
        for (const a of r.actions) this.execute(a);
      }
    } finally {
      this.busy = false;
    }
  }

  private execute(a: SessionAction): void {
    switch (a.type) {
      case 'connect':
        return this.connect(a.conn);
      case 'send':
        return this.sendOn(a.conn, a.message);
      case 'close': {
        const c = this.conns.get(a.conn);
        this.conns.delete(a.conn);
        this.timers.cancelConn(a.conn);
        c?.close(a.notification);
        if (a.notification) this.log.info({ peer: this.peerAddress, conn: a.conn, notification: a.notification }, 'closing connection with NOTIFICATION');
        return;
      }
      case 'arm-timer':
        return this.timers.arm(a.timer, a.ms, a.conn);
      case 'cancel-timer':
        return this.timers.cancel(a.timer, a.conn);
      case 'set-context': {
        const c = this.conns.get(a.conn);
        if (c) {
          c.receiveContext = a.receive;
          c.sendContext = a.send;
          c.decodeOptions = a.decode;
          c.reader.extendedMessage = a.receive.extendedMessage;
        }
        return;
      }
      case 'upward':
        return this.deliver(a.event.type === 'established' ? this.withEndpoints(a.event) : a.event);
    }
  }

  /** Sends a message the FSM produced; a local encoding failure drops the connection (→ tcp-fails). */
  private sendOn(conn: ConnId, message: BgpMessage): void {
    const c = this.conns.get(conn);
    if (!c) return;
    try {
      c.send(message);
    } catch (err: unknown) {
      this.log.error({ peer: this.peerAddress, err, message: message.type }, 'could not encode a message; dropping the connection');
      c.socket.destroy();
    }
  }

  /** Adds the socket's addresses and ports to an `established` event, when the socket knows them. */
  private withEndpoints(e: Extract<Upward, { type: 'established' }>): Upward {
    const s = this.conns.get(e.conn)?.socket;
    if (!s?.localAddress || s.localPort === undefined || !s.remoteAddress || s.remotePort === undefined) return e;
    const endpoints: Endpoints = { localAddress: canonicalAddress(s.localAddress), localPort: s.localPort, remoteAddress: canonicalAddress(s.remoteAddress), remotePort: s.remotePort };
    return { ...e, endpoints };
  }

  private deliver(e: Upward): void {
    if (e.type === 'state') this.log.info({ peer: this.peerAddress, from: e.from, to: e.to }, 'BGP session state');
    if (e.type === 'down') this.log.warn({ peer: this.peerAddress, reason: e.reason }, 'BGP session down');
    for (const l of this.listeners) {
      try {
        l(e);
      } catch (err: unknown) {
        this.log.error({ peer: this.peerAddress, err }, 'session listener threw');
      }
    }
  }

  private newConnection(id: ConnId, socket: ByteStream, outbound: boolean): Connection {
    return new Connection(id, socket, outbound, {
      codec: this.components.codec,
      clock: this.clock,
      rawUpdates: this.init.rawUpdates ?? false,
      closeGraceMs: this.init.closeGraceMs ?? 2000,
      emit: (ev) => {
        if (ev.type === 'tcp-fails') {
          // the socket is gone: forget it before the reducer decides what to do next
          this.conns.delete(ev.conn);
          this.timers.cancelConn(ev.conn);
        }
        this.dispatch(ev);
      },
    });
  }

  private connect(id: ConnId): void {
    const t = this.init.transport;
    if (!this.sockOpts.available && (t.md5Password || t.ttlSecurityHops !== undefined)) {
      this.log.error({ peer: this.peerAddress }, 'TCP-MD5 or GTSM configured but no socket options implementation was injected; not connecting');
      queueMicrotask(() => this.dispatch({ type: 'tcp-fails', conn: id }));
      return;
    }
    const { socket, error } = (this.components.dialer ?? openOutbound)(t, this.sockOpts);
    const c = this.newConnection(id, socket, true);
    this.conns.set(id, c);
    if (error) {
      this.log.error({ peer: this.peerAddress, err: error }, 'outbound connection setup failed');
      socket.destroy(); // 'close' → tcp-fails
    }
  }
}
