/** Unit tests of the shell's pure-ish parts: the timer table (fake clock), the codec adapter, address canonicalisation, End-of-RIB bytes. */
import { describe, expect, it } from 'vitest';
import { TimerTable } from '../../src/session/timer-table.js';
import { defaultSessionCodec } from '../../src/session/codec-adapter.js';
import { canonicalAddress } from '../../src/session/listener.js';
import { encodeEndOfRib } from '../../src/codec/update-encode.js';
import { encodeMessage } from '../../src/codec/message.js';
import { DEFAULT_CONTEXT } from '../../src/codec/types.js';
import { PeerSession } from '../../src/session/shell.js';
import { END_OF_RIB } from '../../src/session/end-of-rib.js';
import { sessionConfig } from '../../src/session/defaults.js';
import type { Clock } from '../../src/session/ports.js';
import { SessionConfigError } from '../../src/session/validate.js';
import { poll } from '@tabby/testkit';
import { createServer } from 'node:net';

/** A fake clock: timers run only when `advance` passes their time. */
class FakeClock implements Clock {
  t = 0;
  private seq = 0;
  private timers = new Map<number, { at: number; fn: () => void }>();
  now(): number {
    return this.t;
  }
  setTimeout(fn: () => void, ms: number): number {
    this.seq += 1;
    this.timers.set(this.seq, { at: this.t + ms, fn });
    return this.seq;
  }
  clearTimeout(h: unknown): void {
    this.timers.delete(h as number);
  }
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      const next = [...this.timers.entries()].sort((a, b) => a[1].at - b[1].at)[0];
      if (!next || next[1].at > end) break;
      this.timers.delete(next[0]);
      this.t = next[1].at;
      next[1].fn();
    }
    this.t = end;
  }
  get pending(): number {
    return this.timers.size;
  }
}

describe('TimerTable', () => {
  it('fires once at the deadline; re-arming later only moves the deadline', () => {
    const clock = new FakeClock();
    const fired: string[] = [];
    const t = new TimerTable(clock, (name, conn) => fired.push(`${name}/${conn ?? ''}@${clock.now()}`));
    t.arm('hold', 1000, 'o1');
    clock.advance(500);
    t.arm('hold', 1000, 'o1'); // deadline → 1500, no new underlying timeout
    expect(clock.pending).toBe(1);
    clock.advance(900);
    expect(fired).toEqual([]);
    clock.advance(200);
    expect(fired).toEqual(['hold/o1@1500']);
    expect(t.armed()).toEqual([]);
  });

  it('re-arming earlier replaces the timeout; cancel and cancelConn stop timers', () => {
    const clock = new FakeClock();
    const fired: string[] = [];
    const t = new TimerTable(clock, (name, conn) => fired.push(`${name}/${conn ?? ''}@${clock.now()}`));
    t.arm('connect-retry', 5000, undefined);
    t.arm('connect-retry', 100, undefined);
    t.arm('hold', 100, 'o1');
    t.arm('keepalive', 100, 'o1');
    t.arm('keepalive', 100, 'o2');
    t.cancelConn('o1');
    clock.advance(200);
    expect(fired.sort()).toEqual(['connect-retry/@100', 'keepalive/o2@100']);
    t.arm('idle-hold', 10, undefined);
    t.cancel('idle-hold', undefined);
    clock.advance(1000);
    expect(fired.length).toBe(2);
    expect(clock.pending).toBe(0);
  });
});

describe('codec adapter', () => {
  const codec = defaultSessionCodec();
  it('maps messages to FSM events', () => {
    expect(codec.toEvent(encodeMessage({ type: 'keepalive' }, DEFAULT_CONTEXT), 'i1', DEFAULT_CONTEXT, false)).toEqual({ type: 'keepalive', conn: 'i1' });
    const eor = encodeEndOfRib('ipv4-unicast', DEFAULT_CONTEXT);
    expect(codec.toEvent(eor, 'i1', DEFAULT_CONTEXT, false)).toMatchObject({ type: 'update', payload: { kind: 'decoded', outcome: { action: 'accept' } } });
    expect(codec.toEvent(eor, 'i1', DEFAULT_CONTEXT, true)).toMatchObject({ type: 'update', payload: { kind: 'raw', bytes: eor } });
  });

  it('maps codec errors to error events with the NOTIFICATION to send', () => {
    const open = encodeMessage({ type: 'open', version: 4, myAs: 1, holdTime: 90, bgpId: '1.1.1.1', capabilities: [] }, DEFAULT_CONTEXT);
    const v5 = open.slice();
    v5[19] = 5;
    expect(codec.toEvent(v5, 'o1', DEFAULT_CONTEXT, false)).toMatchObject({ type: 'open-error', conn: 'o1', notification: { code: 2, subcode: 1 } });
    const badLen = encodeEndOfRib('ipv4-unicast', DEFAULT_CONTEXT).slice();
    badLen[21] = 0xff; // path attribute length overruns the message
    expect(codec.toEvent(badLen, 'o1', DEFAULT_CONTEXT, false)).toMatchObject({ type: 'update-error', notification: { code: 3 } });
    const reader = codec.newReader();
    const bad = new Uint8Array(19);
    let ev;
    try {
      reader.push(bad);
    } catch (e: unknown) {
      ev = codec.errorEvent(e, 'o1');
    }
    expect(ev).toMatchObject({ type: 'header-error', notification: { code: 1, subcode: 1 } });
    expect(codec.errorEvent(new Error('bug'), 'o1')).toMatchObject({ type: 'header-error', notification: { code: 6, subcode: 8 } });
  });
});

describe('canonicalAddress', () => {
  it.each([
    ['10.0.0.1', '10.0.0.1'],
    ['::ffff:10.0.0.1', '10.0.0.1'],
    ['FD00:0:0::0001', 'fd00::1'],
    ['fe80::1%eth0', 'fe80::1'],
  ])('%s → %s', (a, b) => expect(canonicalAddress(a)).toBe(b));
});

describe('End-of-RIB markers', () => {
  it.each(['ipv4-unicast', 'ipv6-unicast'] as const)('%s: the fixed bytes equal the codec’s encodeEndOfRib (RFC 4724 §2)', (f) => {
    expect([...END_OF_RIB[f]]).toEqual([...encodeEndOfRib(f, DEFAULT_CONTEXT)]);
  });

  it('nothing is sent before Established', () => {
    const s = new PeerSession({ codec: defaultSessionCodec() }, {
      config: sessionConfig({ localAs: 1, localId: '1.1.1.1', peerAs: 1, peerAddress: '10.0.0.2' }),
      transport: { peerAddress: '10.0.0.2' },
    });
    expect(s.sendEndOfRib('ipv4-unicast')).toBe(false);
    expect(s.sendUpdates([new Uint8Array(23)])).toBe(false);
    expect(s.sendRouteRefresh('ipv4-unicast')).toBe(false);
    expect(s.state).toBe('Idle');
  });
});

describe('PeerSession configuration checks', () => {
  const base = { localAs: 65000, localId: '10.0.0.1', peerAs: 65000, peerAddress: '10.0.0.2' };
  it.each([
    ['localId', { localId: '0.0.0.0' }, {}],
    ['holdTime', { holdTime: 2 }, {}],
    ['peerAs', { peerAs: 0 }, {}],
    ['fourOctetAs', { localAs: 4_200_000_000, fourOctetAs: false }, {}],
    ['peerAddress', {}, { peerAddress: 'peer.example' }],
    ['localAddress', {}, { localAddress: 'fd00::1' }],
    ['ttlSecurityHops', {}, { ttlSecurityHops: 0 }],
    ['md5Password', {}, { md5Password: 'x'.repeat(81) }],
  ] as const)('rejects a bad %s with SESSION_CONFIG_INVALID', (field, over, transport) => {
    const make = (): PeerSession =>
      new PeerSession({ codec: defaultSessionCodec() }, { config: sessionConfig(base, over), transport: { peerAddress: '10.0.0.2', ...transport } });
    expect(make).toThrow(SessionConfigError);
    try {
      make();
    } catch (e: unknown) {
      expect(e).toMatchObject({ code: 'SESSION_CONFIG_INVALID', details: { field, peer: 'peerAddress' in transport ? transport.peerAddress : '10.0.0.2' } });
    }
  });
});

describe('PeerSession with an injected clock', () => {
  it('retries a refused connection when the injected clock runs the ConnectRetry timer', async () => {
    // a port on 127.0.0.1 with nothing listening: connections are refused
    const srv = createServer();
    const port = await new Promise<number>((r) => srv.listen(0, '127.0.0.1', () => r((srv.address() as { port: number }).port)));
    await new Promise<void>((r) => srv.close(() => r()));
    const clock = new FakeClock();
    const s = new PeerSession({ codec: defaultSessionCodec(), clock, random: () => 0 }, {
      config: sessionConfig({ localAs: 65000, localId: '10.0.0.1', peerAs: 65000, peerAddress: '127.0.0.1' }, { connectRetry: { baseMs: 5000, maxMs: 60_000, jitter: 0 } }),
      transport: { peerAddress: '127.0.0.1', peerPort: port },
    });
    const states: string[] = [];
    s.on((e) => e.type === 'state' && states.push(e.to));
    s.start();
    await poll(() => s.state === 'Active', { what: 'refused → Active' });
    expect(s.armedTimers).toEqual(['connect-retry']);
    clock.advance(9_999); // ConnectRetry after one failure: 5 s · 2¹ = 10 s
    expect(s.state).toBe('Active');
    clock.advance(1);
    expect(s.state).toBe('Connect');
    await poll(() => states.filter((x) => x === 'Active').length === 2, { what: 'second refusal' });
    s.destroy();
    expect(s.armedTimers).toEqual([]);
  });
});
