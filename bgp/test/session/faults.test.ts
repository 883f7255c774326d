/**
 * The session shell over the fault-injecting fake stream (no sockets, manual clock): a reset in
 * the middle of an UPDATE, a half-open connection, and a peer that stops reading.
 */
import { describe, expect, it } from 'vitest';
import { encodeMessage } from '../../src/codec/message.js';
import { encodeUpdate } from '../../src/codec/update-encode.js';
import { DEFAULT_CONTEXT } from '../../src/codec/types.js';
import { PeerSession } from '../../src/session/shell.js';
import { defaultSessionCodec } from '../../src/session/codec-adapter.js';
import { sessionConfig } from '../../src/session/defaults.js';
import type { SessionConfig, Upward } from '../../src/session/types.js';
import { FakeStream, ManualClock } from './fake-stream.js';

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));
const OPEN = encodeMessage({ type: 'open', version: 4, myAs: 65000, holdTime: 9, bgpId: '10.0.0.2', capabilities: [{ type: 'four-octet-as', asn: 65000 }] }, DEFAULT_CONTEXT);
const KEEPALIVE = encodeMessage({ type: 'keepalive' }, DEFAULT_CONTEXT);
const UPDATE = encodeUpdate({ type: 'update', withdrawn: [], nlri: [{ afi: 1, addr: '10.1.0.0', len: 24 }], attributes: { origin: 0, asPath: [], nextHop: '10.0.0.2', localPref: 100 } }, { fourOctetAs: true, addPath: new Set(), extendedMessage: false });

async function established(over: Partial<SessionConfig> = {}): Promise<{ s: PeerSession; f: FakeStream; clock: ManualClock; events: Upward[] }> {
  const clock = new ManualClock();
  const config = sessionConfig({ localAs: 65000, localId: '10.0.0.1', peerAs: 65000, peerAddress: '10.0.0.2' }, { passive: true, holdTime: 9, ...over });
  const s = new PeerSession({ codec: defaultSessionCodec(), clock }, { config, transport: { peerAddress: '10.0.0.2' }, closeGraceMs: 100 });
  const events: Upward[] = [];
  s.on((e) => events.push(e));
  s.start();
  const f = new FakeStream();
  s.acceptIncoming(f.asStream());
  f.peerSend(OPEN);
  f.peerSend(KEEPALIVE);
  await tick();
  expect(s.state).toBe('Established');
  return { s, f, clock, events };
}

describe('session faults (fake stream)', () => {
  it('a reset in the middle of an UPDATE: no UPDATE delivered, the session goes down, and a new connection re-establishes', async () => {
    const { s, f, events } = await established();
    f.peerSend(UPDATE.subarray(0, 30)); // half the message
    f.reset();
    await tick();
    expect(events.filter((e) => e.type === 'update')).toEqual([]);
    expect(events.find((e) => e.type === 'down')).toMatchObject({ reason: { cause: 'connection-lost' } });
    expect(s.state).not.toBe('Established');
    // the peer comes back: a fresh connection works (the half message did not leak into it)
    const g = new FakeStream();
    s.acceptIncoming(g.asStream());
    g.peerSend(OPEN);
    g.peerSend(KEEPALIVE);
    g.peerSend(UPDATE);
    await tick();
    expect(s.state).toBe('Established');
    expect(events.filter((e) => e.type === 'update')).toHaveLength(1);
    s.destroy();
  });

  it('a half-open connection (the peer vanished without FIN or RST) ends with Hold Timer Expired', async () => {
    const { s, f, clock, events } = await established();
    clock.advance(10_000); // past the 9 s hold time, nothing received
    await tick();
    expect(f.received.some((m) => m.type === 'notification' && m.code === 4)).toBe(true);
    expect(events.find((e) => e.type === 'down')).toMatchObject({ reason: { cause: 'notification-sent', notification: { code: 4 } } });
    s.destroy();
  });

  it('a peer that stops reading but keeps sending KEEPALIVEs is dropped by the SendHoldTimer (RFC 9687)', async () => {
    const { s, f, clock, events } = await established({ sendHoldTime: 20 });
    f.stopReading();
    const big = Array.from({ length: 400 }, () => UPDATE);
    expect(s.sendUpdates(big)).toBe(false); // backed up
    for (let i = 0; i < 30 && !events.some((e) => e.type === 'down'); i++) {
      f.peerSend(KEEPALIVE); // its side stays alive
      clock.advance(1000);
      await tick();
    }
    expect(events.find((e) => e.type === 'down')).toMatchObject({ reason: { cause: 'notification-sent', notification: { code: 8, subcode: 0 } } });
    expect(f.destroyed || !f.writable).toBe(true);
    s.destroy();
  });

  it('the same peer reading again before the send hold time stays Established', async () => {
    const { s, f, clock, events } = await established({ sendHoldTime: 20 });
    f.stopReading();
    s.sendUpdates(Array.from({ length: 400 }, () => UPDATE));
    for (let i = 0; i < 15; i++) {
      f.peerSend(KEEPALIVE);
      clock.advance(1000);
      await tick();
    }
    f.resumeReading();
    await tick();
    for (let i = 0; i < 15; i++) {
      f.peerSend(KEEPALIVE);
      clock.advance(1000);
      await tick();
    }
    expect(events.some((e) => e.type === 'down')).toBe(false);
    expect(f.received.filter((m) => m.type === 'update')).toHaveLength(400);
    s.destroy();
  });
});
