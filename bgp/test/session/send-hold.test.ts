/**
 * RFC 9687 SendHoldTimer over loopback TCP: a raw peer completes the OPEN exchange, keeps
 * sending KEEPALIVEs (so our hold timer never expires) but stops reading. Our output backs up;
 * once no progress was made for the send hold time the session must end with NOTIFICATION 8
 * (Send Hold Timer Expired) and close the connection, instead of staying Established forever.
 * A peer that reads slowly but keeps reading is not dropped.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { connect, type Socket } from 'node:net';
import { poll } from '@tabby/testkit';
import { MessageReader } from '../../src/codec/header.js';
import { decodeMessage, encodeMessage, type DecodedMessage } from '../../src/codec/message.js';
import { encodeUpdate } from '../../src/codec/update-encode.js';
import { DEFAULT_CONTEXT } from '../../src/codec/types.js';
import { BgpListener } from '../../src/session/listener.js';
import { PeerSession } from '../../src/session/shell.js';
import { defaultSessionCodec } from '../../src/session/codec-adapter.js';
import { sessionConfig } from '../../src/session/defaults.js';
import type { Upward } from '../../src/session/types.js';

const codec = defaultSessionCodec();
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(sendHoldTime: number): Promise<{ s: PeerSession; events: Upward[]; sock: Socket; got: DecodedMessage[] }> {
  const l = new BgpListener({ codec }, { host: '127.0.0.1', port: 0 });
  const { port } = await l.listen();
  cleanups.push(() => l.close());
  const config = sessionConfig({ localAs: 65000, localId: '10.0.0.1', peerAs: 65000, peerAddress: '127.0.0.1' }, { passive: true, holdTime: 9, sendHoldTime });
  const s = new PeerSession({ codec }, { config, transport: { peerAddress: '127.0.0.1' }, closeGraceMs: 200 });
  const events: Upward[] = [];
  s.on((e) => events.push(e));
  cleanups.push(() => s.destroy());
  l.register(s);
  s.start();
  const sock = connect({ host: '127.0.0.1', port });
  cleanups.push(() => void sock.destroy());
  const reader = new MessageReader();
  const got: DecodedMessage[] = [];
  let decoding = true; // only the OPEN exchange is decoded; the flood is just counted
  const onData = (b: Buffer): void => void (decoding && reader.push(b).forEach((m) => got.push(decodeMessage(m, DEFAULT_CONTEXT))));
  sock.on('data', onData);
  sock.on('error', () => undefined);
  await new Promise<void>((r) => sock.once('connect', () => r()));
  sock.write(encodeMessage({ type: 'open', version: 4, myAs: 65000, holdTime: 9, bgpId: '10.9.9.9', capabilities: [{ type: 'four-octet-as', asn: 65000 }] }, DEFAULT_CONTEXT));
  await poll(() => got.some((m) => m.type === 'keepalive'), { what: 'KEEPALIVE after OPEN' });
  sock.write(encodeMessage({ type: 'keepalive' }, DEFAULT_CONTEXT));
  await poll(() => s.state === 'Established', { what: 'Established' });
  decoding = false;
  // the peer keeps its side of the session alive
  const ka = setInterval(() => sock.writable && sock.write(encodeMessage({ type: 'keepalive' }, DEFAULT_CONTEXT)), 1000);
  cleanups.push(() => clearInterval(ka));
  return { s, events, sock, got };
}

/**
 * About 16 MB of UPDATEs (one ~4 KB message repeated), far more than loopback's socket buffers hold, written as the speaker
 * does: bursts of 50 messages, waiting for `drained()` whenever the socket is full. Returns the
 * octets it will write; `done` resolves when all are handed over (or the session went down).
 */
function flood(s: PeerSession): { total: number; done: Promise<void> } {
  const ctx = s.negotiated!.sendContext;
  const one = encodeUpdate({ type: 'update', withdrawn: [], nlri: Array.from({ length: 780 }, (_, j) => ({ afi: 1 as const, addr: `10.0.${(j >> 2) & 255}.${(j & 3) * 64}`, len: 26 })), attributes: { origin: 0, asPath: [], nextHop: '10.0.0.1', localPref: 100 } }, ctx);
  const batch = Array.from({ length: 500 }, () => one);
  const done = (async () => {
    for (let k = 0; k < 8; k++)
      for (let i = 0; i < batch.length; i += 50) {
        if (s.state !== 'Established') return;
        if (!s.sendUpdates(batch.slice(i, i + 50))) await s.drained();
      }
  })();
  return { total: 8 * batch.reduce((n, m) => n + m.length, 0), done };
}

describe('RFC 9687 SendHoldTimer', () => {
  it('a peer that never reads but keeps sending KEEPALIVEs is dropped with NOTIFICATION 8', async () => {
    const { s, events, sock } = await setup(3);
    sock.pause(); // stop reading: the TCP window closes, our output backs up
    flood(s);
    const down = await poll(() => events.find((e) => e.type === 'down'), { what: 'session down by the send hold timer', timeout: 30_000 });
    expect(down).toMatchObject({ reason: { cause: 'notification-sent', notification: { code: 8, subcode: 0 } } });
    expect(s.state).not.toBe('Established');
    await poll(() => sock.destroyed || sock.readableEnded || sock.closed, { what: 'connection closed', timeout: 10_000 }).catch(() => undefined);
  });

  it('a slow reader that keeps reading stays Established', async () => {
    const { s, events, sock } = await setup(3);
    sock.pause();
    const start = sock.bytesRead;
    const { total } = flood(s);
    // read in short bursts, never stalling for as long as the send hold time
    const t = setInterval(() => {
      sock.resume();
      setTimeout(() => sock.pause(), 100);
    }, 500);
    cleanups.push(() => clearInterval(t));
    await poll(() => sock.bytesRead - start >= total || events.some((e) => e.type === 'down'), { what: 'the whole flood delivered', timeout: 120_000 });
    expect(events.some((e) => e.type === 'down')).toBe(false);
    expect(s.state).toBe('Established');
  });
});
