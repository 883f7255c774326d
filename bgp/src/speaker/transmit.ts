/**
 * Per-peer transmit queue: the RIB's `PeerUpdate`s are encoded lazily, one attribute group at
 * a time, with the codec's packer, and written to the session while its socket accepts them.
 * Groups the RIB shares between peers (an export group's diff) are encoded once for all.
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
/** Octets of UPDATEs gathered from consecutive jobs into one write. */
const BATCH_BYTES = 256 << 10;

/** One attribute group of a `PeerUpdate` (the RIB shares these objects between the members of an export group). */
type AnnounceGroup = PeerUpdate['announce'][number];

type Job =
  | { kind: 'messages'; group: AnnounceGroup | undefined; nlri: Prefix[]; withdraw: Prefix[]; family: Family; shared: object; chunk: number }
  | { kind: 'eor'; family: Family }
  | { kind: 'refresh-marker'; family: Family; subtype: number };

/** The attributes to hand the packer for an exported set (IPv6 next hops in MP_REACH, RFC 4760 §3). */
export function encodeAttrs(attrs: Readonly<PathAttributes>, nextHops: readonly string[], family: Family): PathAttributes {
  if (family === 'ipv4-unicast') return { ...attrs, nextHop: attrs.nextHop ?? nextHops[0] };
  const a: PathAttributes = { ...attrs, mpReach: { afi: 2, safi: 1, nextHops: [...nextHops], nlri: [] } };
  delete a.nextHop;
  return a;
}

/**
 * Encoded UPDATEs per shared RIB object (an announce group or a withdraw list) and per
 * (send context, chunk): peers of one export group are sent the same objects, so each UPDATE
 * is encoded once for all of them. Entries live as long as some queue still holds the object.
 */
const encoded = new WeakMap<object, Map<string, Uint8Array[]>>();

function contextKey(ctx: CodecContext, family: Family, chunk: number): string {
  return `${ctx.fourOctetAs ? 1 : 0}${ctx.extendedMessage ? 1 : 0}${ctx.addPath.has(family) ? 1 : 0}|${chunk}`;
}

/** The UPDATE messages of a job, encoded once per shared object and context. */
function encodeJob(job: Extract<Job, { kind: 'messages' }>, ctx: CodecContext): Uint8Array[] {
  const key = contextKey(ctx, job.family, job.chunk);
  let byCtx = encoded.get(job.shared);
  const hit = byCtx?.get(key);
  if (hit) return hit;
  const attrs = job.group ? encodeAttrs(job.group.attrs.attrs, job.group.attrs.nextHops, job.family) : {};
  const msgs = encodeUpdates(attrs, job.nlri, job.withdraw, job.family, ctx);
  if (!byCtx) encoded.set(job.shared, (byCtx = new Map()));
  byCtx.set(key, msgs);
  return msgs;
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
      this.jobs.push({ kind: 'messages', group: undefined, nlri: [], withdraw: u.withdraw.length <= CHUNK ? u.withdraw : u.withdraw.slice(i, i + CHUNK), family: u.family, shared: u.withdraw, chunk: i });
    for (const g of u.announce) {
      for (let i = 0; i < g.prefixes.length; i += CHUNK)
        this.jobs.push({ kind: 'messages', group: g, nlri: g.prefixes.length <= CHUNK ? g.prefixes : g.prefixes.slice(i, i + CHUNK), withdraw: [], family: u.family, shared: g, chunk: i });
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

  /**
   * The messages of `first` and of the message jobs queued right after it, up to `BATCH_BYTES`:
   * one socket write for a dump's thousand small attribute groups instead of a thousand.
   */
  private batch(first: Extract<Job, { kind: 'messages' }>, ctx: CodecContext): Uint8Array[] {
    const out = [...encodeJob(first, ctx)];
    let bytes = out.reduce((n, m) => n + m.length, 0);
    for (let next = this.jobs[0]; next?.kind === 'messages' && bytes < BATCH_BYTES; next = this.jobs[0]) {
      this.jobs.shift();
      for (const m of encodeJob(next, ctx)) {
        out.push(m);
        bytes += m.length;
      }
    }
    return out;
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
            const msgs = this.batch(job, ctx);
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
