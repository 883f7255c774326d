/**
 * Per-peer transmit queue: the RIB's `PeerUpdate`s are encoded lazily, one attribute group at
 * a time, with the codec's packer, and written to the session while its socket accepts them.
 *
 * Invariants:
 * - Order is preserved: withdrawals and announcements of one `PeerUpdate` go out before the
 *   next one's, and End-of-RIB (RFC 4724 §2) after the last message of its dump.
 * - Backpressure: when the session reports a full buffer, nothing more is encoded until
 *   `drained()` resolves, so a million-route dump never sits in memory as encoded bytes.
 * - `clear()` (session down) drops everything queued; the RIB re-dumps on the next Established.
 */
import { encodeUpdates } from '../codec/index.js';
import type { CodecContext, Family, PathAttributes, Prefix } from '../codec/types.js';
import type { PeerUpdate } from '../rib/index.js';
import type { SessionHandle } from './types.js';

/** Prefixes per encode call: keeps each burst bounded (a few hundred KB of messages). */
const CHUNK = 8192;

type Job =
  | { kind: 'messages'; attrs: PathAttributes | undefined; nlri: Prefix[]; withdraw: Prefix[]; family: Family }
  | { kind: 'eor'; family: Family }
  | { kind: 'refresh-marker'; family: Family; subtype: number };

/** The attributes to hand the packer for an exported set (IPv6 next hops in MP_REACH, RFC 4760 §3). */
export function encodeAttrs(attrs: Readonly<PathAttributes>, nextHops: readonly string[], family: Family): PathAttributes {
  if (family === 'ipv4-unicast') return { ...attrs, nextHop: attrs.nextHop ?? nextHops[0] };
  const a: PathAttributes = { ...attrs, mpReach: { afi: 2, safi: 1, nextHops: [...nextHops], nlri: [] } };
  delete a.nextHop;
  return a;
}

/** The transmit queue of one Established session. */
export class TransmitQueue {
  private readonly jobs: Job[] = [];
  private pumping = false;
  /** UPDATE messages written so far. */
  sent = 0;

  constructor(
    private readonly session: SessionHandle,
    private readonly ctx: () => CodecContext | undefined,
    private readonly onError: (e: unknown) => void,
    private readonly onSent: (messages: number) => void = () => undefined,
  ) {}

  /** Queues a RIB diff (grouped by attribute set) and starts writing. */
  push(u: PeerUpdate): void {
    for (let i = 0; i < u.withdraw.length; i += CHUNK)
      this.jobs.push({ kind: 'messages', attrs: undefined, nlri: [], withdraw: u.withdraw.slice(i, i + CHUNK), family: u.family });
    for (const g of u.announce) {
      const attrs = encodeAttrs(g.attrs.attrs, g.attrs.nextHops, u.family);
      for (let i = 0; i < g.prefixes.length; i += CHUNK)
        this.jobs.push({ kind: 'messages', attrs, nlri: g.prefixes.length <= CHUNK ? g.prefixes : g.prefixes.slice(i, i + CHUNK), withdraw: [], family: u.family });
    }
    if (u.endOfRib) this.jobs.push({ kind: 'eor', family: u.family });
    this.pump();
  }

  /** Queues an enhanced route refresh marker (RFC 7313 §4: BoRR 1 / EoRR 2). */
  marker(family: Family, subtype: number): void {
    this.jobs.push({ kind: 'refresh-marker', family, subtype });
    this.pump();
  }

  /** Drops everything queued (session down). */
  clear(): void {
    this.jobs.length = 0;
  }

  /** True when nothing is queued. */
  get idle(): boolean {
    return this.jobs.length === 0 && !this.pumping;
  }

  private pump(): void {
    if (this.pumping) return;
    this.pumping = true;
    void this.run();
  }

  /** Writes jobs until the queue is empty; `pumping` is reset in `finally`, synchronously when no await happened. */
  private async run(): Promise<void> {
    try {
      while (this.jobs.length > 0) {
        const ctx = this.ctx();
        if (!ctx) return this.clear();
        const job = this.jobs.shift()!;
        let ok = true;
        switch (job.kind) {
          case 'messages': {
            const msgs = encodeUpdates(job.attrs ?? {}, job.nlri, job.withdraw, job.family, ctx);
            this.sent += msgs.length;
            this.onSent(msgs.length);
            ok = this.session.sendUpdates(msgs);
            break;
          }
          case 'eor':
            ok = this.session.sendEndOfRib(job.family);
            break;
          case 'refresh-marker':
            ok = this.session.sendRouteRefresh(job.family, job.subtype);
            break;
        }
        if (!ok) {
          if (this.session.state !== 'Established') return this.clear();
          await this.session.drained();
        }
      }
    } catch (e: unknown) {
      this.clear();
      this.onError(e);
    } finally {
      this.pumping = false;
    }
  }
}
