/**
 * Refusing connections from unconfigured sources (the listener's other half), built to survive
 * a flood: each refused socket gets NOTIFICATION Cease / Connection Rejected (RFC 4486 §4) at
 * once — no waiting for an OPEN — and is closed as soon as that is written (or after a short
 * grace). Beyond `maxPerSource` sockets still closing from one address, or `maxTotal` from all,
 * a socket is closed at once without the NOTIFICATION. Every refusal is counted by reason;
 * logging is rate-limited: the first refusal from an address is logged, the rest are summed
 * into one line per interval.
 *
 * Invariants: a refused socket lives at most `graceMs`; the number of refused sockets open at
 * any time is at most `maxTotal` (so a flood cannot eat the descriptors configured peers need).
 */
import type { Socket } from 'node:net';
import { CeaseSubcode, DEFAULT_CONTEXT, Notification } from '../codec/types.js';
import type { Clock, SessionCodec, SessionLogger } from './ports.js';

/** Why a connection was refused: not a configured peer, or over a cap (closed without Cease). */
export type RejectReason = 'unconfigured' | 'source-cap' | 'total-cap';

/** Metrics of the listener (see speaker/metrics.ts for the prom-client factory). */
export interface ListenerMetrics {
  connectionRejected(reason: RejectReason): void;
}

/** Limits of the rejector. */
export interface RejectLimits {
  /** Sockets from one address still closing, beyond which new ones are dropped without Cease (default 8). */
  maxPerSource: number;
  /** Sockets still closing in all, beyond which new ones are dropped without Cease (default 256). */
  maxTotal: number;
  /** How long a refused socket may take to flush its Cease (ms, default 1000). */
  graceMs: number;
  /** Summary log interval (ms, default 10 000). */
  logIntervalMs: number;
}

/** Defaults of `RejectLimits`. */
export const DEFAULT_REJECT_LIMITS: RejectLimits = { maxPerSource: 8, maxTotal: 256, graceMs: 1000, logIntervalMs: 10_000 };

/** Refuses sockets; see the module header. */
export class Rejector {
  private readonly perSource = new Map<string, number>();
  private total = 0;
  private readonly notification: Uint8Array;
  /** Addresses already logged in this interval, and refusals not logged one by one. */
  private readonly logged = new Set<string>();
  private unlogged = 0;
  private summaryTimer: unknown;

  constructor(
    codec: SessionCodec,
    private readonly limits: RejectLimits,
    private readonly clock: Clock,
    private readonly log: SessionLogger,
    private readonly metrics: ListenerMetrics | undefined,
  ) {
    this.notification = codec.encode({ type: 'notification', code: Notification.Cease, subcode: CeaseSubcode.ConnectionRejected, data: new Uint8Array(0) }, DEFAULT_CONTEXT);
  }

  /** Refuses `s` from `remote`. */
  reject(s: Socket, remote: string): void {
    s.on('error', () => undefined);
    const n = this.perSource.get(remote) ?? 0;
    const reason: RejectReason = n >= this.limits.maxPerSource ? 'source-cap' : this.total >= this.limits.maxTotal ? 'total-cap' : 'unconfigured';
    this.metrics?.connectionRejected(reason);
    this.note(remote, reason);
    if (reason !== 'unconfigured') {
      s.destroy();
      return;
    }
    this.perSource.set(remote, n + 1);
    this.total++;
    let done = false;
    const release = (): void => {
      if (done) return;
      done = true;
      this.clock.clearTimeout(timer);
      this.total--;
      const left = (this.perSource.get(remote) ?? 1) - 1;
      if (left > 0) this.perSource.set(remote, left);
      else this.perSource.delete(remote);
      s.destroy();
    };
    const timer = this.clock.setTimeout(release, this.limits.graceMs);
    s.once('close', release);
    s.on('data', () => undefined); // read and drop (an unread receive queue would turn our close into a reset)
    s.end(this.notification, release);
  }

  private note(remote: string, reason: RejectReason): void {
    if (!this.logged.has(remote)) {
      this.logged.add(remote);
      this.log.warn({ peer: remote, reason }, 'connection from an unconfigured address rejected (Cease / Connection Rejected); further ones from it are summarised');
    } else this.unlogged++;
    if (this.summaryTimer !== undefined) return;
    this.summaryTimer = this.clock.setTimeout(() => this.summary(), this.limits.logIntervalMs);
  }

  private summary(): void {
    this.summaryTimer = undefined;
    if (this.unlogged > 0) this.log.warn({ rejected: this.unlogged, sources: this.logged.size }, 'more connections from unconfigured addresses rejected');
    this.unlogged = 0;
    this.logged.clear();
  }

  /** Stops the summary timer. */
  close(): void {
    if (this.summaryTimer !== undefined) this.clock.clearTimeout(this.summaryTimer);
    this.summaryTimer = undefined;
  }
}
