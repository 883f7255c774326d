/**
 * The shell over real TCP on 127.0.0.1 (root namespace loopback, allowed for plain TCP servers a
 * test starts): two in-process sessions, and a hand-driven raw peer for error paths. Waits only
 * with `poll`; no durations asserted.
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
import type { SessionConfig, Upward } from '../../src/session/types.js';

const codec = defaultSessionCodec();
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function listener(): Promise<{ l: BgpListener; port: number }> {
  const l = new BgpListener({ codec }, { host: '127.0.0.1', port: 0 });
  const { port } = await l.listen();
  cleanups.push(() => l.close());
  return { l, port };
}

function session(localId: string, peerPort: number, over: Partial<SessionConfig> = {}): { s: PeerSession; events: Upward[] } {
  const config = sessionConfig(
    { localAs: 65000, localId, peerAs: 65000, peerAddress: '127.0.0.1' },
    { connectRetry: { baseMs: 100, maxMs: 500, jitter: 0.25 }, idleHold: { baseMs: 100, maxMs: 500, jitter: 0.25 }, ...over },
  );
  const s = new PeerSession({ codec }, { config, transport: { peerAddress: '127.0.0.1', peerPort }, closeGraceMs: 200 });
  const events: Upward[] = [];
  s.on((e) => events.push(e));
  cleanups.push(() => s.destroy());
  return { s, events };
}

/** A hand-driven peer: raw socket, decoded messages received. */
async function rawPeer(port: number): Promise<{ sock: Socket; got: DecodedMessage[]; closed: () => boolean }> {
  const sock = connect({ host: '127.0.0.1', port });
  const reader = new MessageReader();
  const got: DecodedMessage[] = [];
  let isClosed = false;
  sock.on('data', (b) => reader.push(b).forEach((m) => got.push(decodeMessage(m, DEFAULT_CONTEXT))));
  sock.on('error', () => undefined);
  sock.on('close', () => (isClosed = true));
  cleanups.push(() => void sock.destroy());
  await new Promise<void>((r) => sock.once('connect', () => r()));
  return { sock, got, closed: () => isClosed };
}

const peerOpen = (holdTime = 90): Uint8Array =>
  encodeMessage({ type: 'open', version: 4, myAs: 65000, holdTime, bgpId: '10.9.9.9', capabilities: [{ type: 'four-octet-as', asn: 65000 }, { type: 'route-refresh' }] }, DEFAULT_CONTEXT);

describe('PeerSession over loopback TCP', () => {
  it('two sessions establish, exchange a burst of UPDATEs with backpressure, route refresh and a clean stop', async () => {
    const la = await listener();
    const lb = await listener();
    const a = session('10.0.0.1', lb.port);
    const b = session('10.0.0.2', la.port);
    la.l.register(a.s);
    lb.l.register(b.s);
    a.s.start();
    b.s.start();
    await poll(() => a.s.state === 'Established' && b.s.state === 'Established', { what: 'Established' });
    // both sides connected at once: collision detection leaves exactly one session on each side
    expect(a.events.filter((e) => e.type === 'established')).toHaveLength(1);
    expect(b.events.filter((e) => e.type === 'established')).toHaveLength(1);
    // the shell adds the connection's endpoints: both sides see the same TCP connection
    const ends = (ev: Upward[]) => ev.flatMap((e) => (e.type === 'established' ? [e.endpoints] : []))[0];
    const ea = ends(a.events);
    const eb = ends(b.events);
    expect(ea).toMatchObject({ localAddress: '127.0.0.1', remoteAddress: '127.0.0.1', localPort: eb?.remotePort, remotePort: eb?.localPort });
    expect([la.port, lb.port]).toContain(ea!.localPort === la.port ? la.port : ea!.remotePort);
    expect(a.s.negotiated).toMatchObject({ holdTime: 90, keepaliveTime: 30, routeRefresh: true, fourOctetAs: true, families: ['ipv4-unicast', 'ipv6-unicast'] });

    const ctx = a.s.negotiated!.sendContext;
    const updates = Array.from({ length: 3000 }, (_, i) =>
      encodeUpdate(
        { type: 'update', withdrawn: [], nlri: [{ afi: 1, addr: `10.${(i >> 8) & 255}.${i & 255}.0`, len: 24 }], attributes: { origin: 0, asPath: [], nextHop: '127.0.0.1', localPref: 100 } },
        ctx,
      ),
    );
    for (let i = 0; i < updates.length; i += 500) {
      if (!a.s.sendUpdates(updates.slice(i, i + 500))) await a.s.drained();
    }
    a.s.sendEndOfRib('ipv4-unicast');
    const received = (): number => b.events.filter((e) => e.type === 'update').length;
    await poll(() => received() === 3001, { what: '3000 UPDATEs and End-of-RIB' });
    const last = b.events.filter((e) => e.type === 'update').at(-1);
    expect(last).toMatchObject({ payload: { kind: 'decoded', outcome: { action: 'accept', update: { nlri: [], withdrawn: [] } } } });

    expect(a.s.sendRouteRefresh('ipv6-unicast')).toBe(true);
    await poll(() => b.events.some((e) => e.type === 'route-refresh' && e.message.afi === 2), { what: 'ROUTE-REFRESH' });

    expect(a.events.some((e) => e.type === 'down') || b.events.some((e) => e.type === 'down')).toBe(false);
    a.s.stop();
    await poll(() => b.events.some((e) => e.type === 'down' && e.reason.cause === 'notification-received' && e.reason.notification.subcode === 2), { what: 'Cease 2 at B' });
    expect(a.s.state).toBe('Idle');
    expect(a.s.armedTimers).toEqual([]);
    expect(a.s.sendUpdates(updates.slice(0, 1))).toBe(false);
  });

  it('a passive session answers a raw peer, then sends Hold Timer Expired when it goes silent', async () => {
    const l = await listener();
    const s = session('10.0.0.1', 1, { passive: true, holdTime: 3 });
    l.l.register(s.s);
    s.s.start();
    expect(s.s.state).toBe('Active');
    const p = await rawPeer(l.port);
    await poll(() => p.got.some((m) => m.type === 'open'), { what: 'our OPEN' });
    p.sock.write(peerOpen(3));
    await poll(() => p.got.some((m) => m.type === 'keepalive'), { what: 'KEEPALIVE after OPEN' });
    p.sock.write(encodeMessage({ type: 'keepalive' }, DEFAULT_CONTEXT));
    await poll(() => s.s.state === 'Established', { what: 'Established' });
    // silence: our hold timer (3 s) expires → NOTIFICATION 4 / 0, then the connection closes
    await poll(() => p.got.some((m) => m.type === 'notification' && m.code === 4) && p.closed(), { what: 'Hold Timer Expired', timeout: 15_000 });
    expect(s.events.some((e) => e.type === 'down')).toBe(true);
  });

  it('a header error from the peer is answered with NOTIFICATION 1 / Connection Not Synchronized', async () => {
    const l = await listener();
    const s = session('10.0.0.1', 1, { passive: true });
    l.l.register(s.s);
    s.s.start();
    const p = await rawPeer(l.port);
    await poll(() => p.got.some((m) => m.type === 'open'), { what: 'our OPEN' });
    const bad = peerOpen();
    bad[0] = 0; // RFC 4271 §6.1: marker not all ones
    p.sock.write(bad);
    await poll(() => p.got.some((m) => m.type === 'notification' && m.code === 1 && m.subcode === 1) && p.closed(), { what: 'NOTIFICATION 1/1' });
  });

  it('an OPEN with hold time 2 is refused with Unacceptable Hold Time', async () => {
    const l = await listener();
    const s = session('10.0.0.1', 1, { passive: true });
    l.l.register(s.s);
    s.s.start();
    const p = await rawPeer(l.port);
    p.sock.write(peerOpen(2));
    await poll(() => p.got.some((m) => m.type === 'notification' && m.code === 2 && m.subcode === 6), { what: 'NOTIFICATION 2/6' });
  });

  it('the listener rejects an unconfigured peer with Cease / Connection Rejected after its OPEN', async () => {
    const l = await listener();
    const p = await rawPeer(l.port);
    p.sock.write(peerOpen());
    await poll(() => p.got.some((m) => m.type === 'notification' && m.code === 6 && m.subcode === 5) && p.closed(), { what: 'Cease 5' });
  });

  it('an outbound connection uses the configured source port', async () => {
    const l = await listener();
    const seen: Array<number | undefined> = [];
    const probe = new PeerSession({ codec }, {
      config: sessionConfig({ localAs: 65000, localId: '10.0.0.1', peerAs: 65000, peerAddress: '127.0.0.1' }),
      transport: { peerAddress: '127.0.0.1', peerPort: l.port, localAddress: '127.0.0.1', localPort: 0 },
    });
    cleanups.push(() => probe.destroy());
    l.l.register({ transport: { peerAddress: '127.0.0.1' }, acceptIncoming: (sock) => (seen.push(sock.remotePort), sock.destroy()) });
    probe.start();
    await poll(() => seen.length > 0, { what: 'inbound connection' });
    // with a fixed source port
    const port = 40000 + Math.floor(Math.random() * 20000);
    const fixed = new PeerSession({ codec }, {
      config: sessionConfig({ localAs: 65000, localId: '10.0.0.1', peerAs: 65000, peerAddress: '127.0.0.1' }),
      transport: { peerAddress: '127.0.0.1', peerPort: l.port, localAddress: '127.0.0.1', localPort: port },
    });
    cleanups.push(() => fixed.destroy());
    fixed.start();
    await poll(() => seen.includes(port), { what: `connection from source port ${port}` });
  });
});
