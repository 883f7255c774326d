/**
 * The shared listener under a connection flood from unconfigured sources (loopback: 127.0.0.3
 * floods, 127.0.0.2 is the configured peer; all of 127/8 is loopback). Unconfigured connections
 * are answered with Cease / Connection Rejected (RFC 4486 §4) and closed at once — not held
 * open waiting for an OPEN — beyond per-source and total caps they are closed without even
 * that, every rejection is counted, logs are rate-limited, and the configured peer still gets
 * through during the flood.
 */
import { EventEmitter } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { connect, type Socket } from 'node:net';
import { poll } from '@tabby/testkit';
import { MessageReader } from '../../src/codec/header.js';
import { decodeMessage, type DecodedMessage } from '../../src/codec/message.js';
import { DEFAULT_CONTEXT } from '../../src/codec/types.js';
import { BgpListener, type ListenerMetrics } from '../../src/session/listener.js';
import { defaultSessionCodec } from '../../src/session/codec-adapter.js';
import type { Clock, SessionLogger } from '../../src/session/ports.js';
import { Rejector, type RejectReason } from '../../src/session/reject.js';

const codec = defaultSessionCodec();
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

interface Client {
  sock: Socket;
  got: DecodedMessage[];
  closed: boolean;
}

function client(port: number, from: string): Client {
  const sock = connect({ host: '127.0.0.1', port, localAddress: from });
  const c: Client = { sock, got: [], closed: false };
  const reader = new MessageReader();
  sock.on('data', (b) => {
    try {
      reader.push(b).forEach((m) => c.got.push(decodeMessage(m, DEFAULT_CONTEXT)));
    } catch {
      /* a torn stream is fine here */
    }
  });
  sock.on('error', () => undefined);
  sock.on('close', () => (c.closed = true));
  cleanups.push(() => void sock.destroy());
  return c;
}

describe('listener connection flood', () => {
  it('unconfigured sources get Cease 6/5 and are closed at once; caps, counts, rate-limited logs; a configured peer gets through', async () => {
    const rejected = new Map<string, number>();
    const metrics: ListenerMetrics = { connectionRejected: (reason) => void rejected.set(reason, (rejected.get(reason) ?? 0) + 1) };
    const warnings: string[] = [];
    const logger: SessionLogger = { debug: () => undefined, info: () => undefined, warn: (_o, m) => void warnings.push(m ?? ''), error: () => undefined };
    const l = new BgpListener({ codec, metrics, logger }, { host: '127.0.0.1', port: 0, maxRejectingPerSource: 16, maxRejecting: 64 });
    const { port } = await l.listen();
    cleanups.push(() => l.close());
    const accepted: Socket[] = [];
    l.register({ transport: { peerAddress: '127.0.0.2' }, acceptIncoming: (s) => void accepted.push(s) });
    cleanups.push(() => accepted.forEach((s) => s.destroy()));

    // 1500 silent connections from one stranger in three waves (each below the accept backlog,
    // so the kernel queues them all), the configured peer in the middle of the second
    const total = (): number => [...rejected.values()].reduce((x, y) => x + y, 0);
    const flood: Client[] = [];
    let good: Client | undefined;
    for (let wave = 0; wave < 3; wave++) {
      for (let i = 0; i < 500; i++) {
        flood.push(client(port, '127.0.0.3'));
        if (wave === 1 && i === 250) good = client(port, '127.0.0.2');
      }
      await poll(() => total() === flood.length, { what: `wave ${wave} seen by the listener` });
    }
    await poll(() => accepted.length === 1, { what: 'the configured peer accepted during the flood' });
    // every stranger is closed by us although none of them sent anything
    await poll(() => flood.every((c) => c.closed), { what: 'all unconfigured connections closed', timeout: 30_000 });
    expect(good?.closed).toBe(false);
    const ceased = flood.filter((c) => c.got.some((m) => m.type === 'notification' && m.code === 6 && m.subcode === 5)).length;
    expect(ceased).toBeGreaterThan(0);
    expect(total()).toBe(1500);
    expect(rejected.get('unconfigured')).toBeGreaterThanOrEqual(ceased);
    // logs: a handful of lines, not one per connection
    expect(warnings.length).toBeLessThan(20);
  });
});

/** A socket whose Cease never finishes flushing (a stranger that does not read), closable by hand. */
class StuckSocket extends EventEmitter {
  destroyed = false;
  ended = 0;
  end(): void {
    this.ended++;
  }
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.emit('close');
  }
}

describe('Rejector caps', () => {
  it('beyond the per-source and total caps sockets are closed without a Cease; released slots are reused', () => {
    const timers: Array<() => void> = [];
    const clock: Clock = { now: () => 0, setTimeout: (fn) => timers.push(fn), clearTimeout: () => undefined };
    const reasons: RejectReason[] = [];
    const r = new Rejector(codec, { maxPerSource: 2, maxTotal: 3, graceMs: 1000, logIntervalMs: 10_000 }, clock, { debug() {}, info() {}, warn() {}, error() {} }, { connectionRejected: (x) => void reasons.push(x) });
    const socks = Array.from({ length: 6 }, () => new StuckSocket());
    const as = (s: StuckSocket): Socket => s as unknown as Socket;
    r.reject(as(socks[0]!), '10.0.0.1');
    r.reject(as(socks[1]!), '10.0.0.1');
    r.reject(as(socks[2]!), '10.0.0.1'); // third from one source: over the per-source cap
    r.reject(as(socks[3]!), '10.0.0.2');
    r.reject(as(socks[4]!), '10.0.0.3'); // fourth open in all: over the total cap
    expect(reasons).toEqual(['unconfigured', 'unconfigured', 'source-cap', 'unconfigured', 'total-cap']);
    expect(socks.map((s) => [s.ended, s.destroyed])).toEqual([[1, false], [1, false], [0, true], [1, false], [0, true], [0, false]]);
    socks[0]!.destroy(); // the stranger went away: its slot is free again
    r.reject(as(socks[5]!), '10.0.0.1');
    expect(reasons.at(-1)).toBe('unconfigured');
    // the grace timers close whatever is left
    for (const t of timers) t();
    expect(socks.every((s) => s.destroyed)).toBe(true);
    r.close();
  });
});
