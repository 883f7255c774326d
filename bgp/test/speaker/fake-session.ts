/** A fake session for speaker tests: records what is written, raises upward events. */
import { decodeMessage, type Capability, type OpenMessage, type UpdateMessage, type UpdateOutcome } from '../../src/codec/index.js';
import type { LocalGracefulRestart, Negotiated, PeerTransport, SessionConfig, SessionState, Upward } from '../../src/session/index.js';
import { buildOpen } from '../../src/session/index.js';
import type { SessionHandle } from '../../src/speaker/index.js';

export const CTX = { fourOctetAs: true, addPath: new Set<never>(), extendedMessage: false };

export class FakeSession implements SessionHandle {
  state: SessionState = 'Idle';
  readonly written: Uint8Array[] = [];
  readonly calls: string[] = [];
  private readonly ls = new Set<(e: Upward) => void>();
  constructor(
    public config: SessionConfig,
    readonly transport: PeerTransport,
  ) {}
  get peerAddress(): string {
    return this.transport.peerAddress;
  }
  on(l: (e: Upward) => void): () => void {
    this.ls.add(l);
    return () => this.ls.delete(l);
  }
  raise(e: Upward): void {
    for (const l of this.ls) l(e);
  }
  start(): void {
    this.calls.push('start');
  }
  stop(subcode?: number, data?: Uint8Array): void {
    this.calls.push(`stop ${subcode}${data ? ` [${data.join(',')}]` : ''}`);
  }
  reset(subcode: number, after?: number, data?: Uint8Array): void {
    this.calls.push(`reset ${subcode} ${after}${data ? ` [${data.join(',')}]` : ''}`);
  }
  destroy(subcode?: number, data?: Uint8Array): void {
    this.calls.push(`destroy ${subcode}${data ? ` [${data.join(',')}]` : ''}`);
  }
  acceptIncoming(): void {}
  /** Like PeerSession: the capability every later OPEN carries (here: `config`, see `nextOpen`). */
  setGracefulRestart(gracefulRestart: LocalGracefulRestart | undefined): void {
    this.calls.push(`gr ${gracefulRestart?.restarting}`);
    this.config = { ...this.config, gracefulRestart };
  }
  /** The OPEN the session would send on its next connection. */
  nextOpen(): OpenMessage {
    return buildOpen(this.config);
  }
  sendUpdates(ms: readonly Uint8Array[]): boolean {
    this.written.push(...ms);
    return true;
  }
  sendEndOfRib(family: string): boolean {
    this.calls.push(`eor ${family}`);
    return true;
  }
  sendRouteRefresh(family: string, subtype = 0): boolean {
    this.calls.push(`rr ${family} ${subtype}`);
    return true;
  }
  drained(): Promise<void> {
    return Promise.resolve();
  }
  /** Decoded UPDATEs written so far. */
  updates(): UpdateMessage[] {
    return this.written.map((m) => decodeMessage(m, CTX)).flatMap((d) => (d.type === 'update' ? [d.update] : []));
  }
  /** Goes Established with a peer that is GR capable when `gr`. */
  establish(peerAs: number, peerId: string, opts: { gr?: boolean; enhanced?: boolean; notificationBit?: boolean; localAddress?: string } = {}): void {
    const caps: Capability[] = opts.gr ? [{ type: 'graceful-restart', restarting: false, notification: opts.notificationBit ?? false, restartTime: 120, families: [{ afi: 1, safi: 1, forwardingState: true }] }] : [];
    const n = {
      localAs: this.config.localAs,
      peerAs,
      localId: this.config.localId,
      peerId,
      ibgp: peerAs === this.config.localAs,
      holdTime: 90,
      keepaliveTime: 30,
      families: ['ipv4-unicast'],
      fourOctetAs: true,
      routeRefresh: true,
      enhancedRouteRefresh: opts.enhanced ?? false,
      extendedMessage: false,
      addPath: { receive: [], send: [] },
      peerGracefulRestart: undefined,
      gracefulRestart: opts.gr ?? false,
      receiveContext: CTX,
      sendContext: CTX,
      peerOpen: { type: 'open', version: 4, myAs: peerAs, holdTime: 90, bgpId: peerId, capabilities: caps },
    } as Negotiated;
    this.raise({ type: 'state', from: this.state, to: 'Established' });
    this.state = 'Established';
    const endpoints = opts.localAddress ? { localAddress: opts.localAddress, localPort: 40000, remoteAddress: this.transport.peerAddress, remotePort: 179 } : undefined;
    this.raise({ type: 'established', conn: 'o1', negotiated: n, ...(endpoints ? { endpoints } : {}) });
  }
  update(u: Partial<UpdateMessage>, action: UpdateOutcome['action'] = 'accept'): void {
    const update: UpdateMessage = { type: 'update', withdrawn: [], attributes: {}, nlri: [], ...u };
    const outcome: UpdateOutcome = action === 'accept' ? { action, update, discarded: [] } : { action, update, issues: [] };
    this.raise({ type: 'update', conn: 'o1', payload: { kind: 'decoded', outcome } });
  }
  /** The peer sent a NOTIFICATION code/subcode and the session went down. */
  notified(code: number, subcode: number): void {
    this.state = 'Idle';
    this.raise({ type: 'down', conn: 'o1', reason: { cause: 'notification-received', notification: { code, subcode, data: new Uint8Array() } }, negotiated: {} as Negotiated });
  }
  down(cause: 'connection-lost' | 'admin'): void {
    this.state = 'Idle';
    const reason = cause === 'connection-lost' ? ({ cause } as const) : ({ cause: 'notification-sent', notification: { code: 6, subcode: 2, data: new Uint8Array() } } as const);
    this.raise({ type: 'down', conn: 'o1', reason, negotiated: {} as Negotiated });
  }
}

