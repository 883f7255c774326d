/**
 * RFC 7606 eBGP-vs-iBGP attribute handling through the whole receive path (socket → framing →
 * session codec → upward event), with a raw peer over loopback TCP: the session must tell the
 * codec whether the peer is external, so LOCAL_PREF (§7.5), ORIGINATOR_ID (§7.9) and
 * CLUSTER_LIST (§7.10) from an external neighbour are discarded whatever their length, and an
 * AS_PATH not led by the peer's AS is malformed (RFC 4271 §6.3, RFC 7606 §7.2).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { connect, type Socket } from 'node:net';
import { poll } from '@tabby/testkit';
import { MessageReader } from '../../src/codec/header.js';
import { decodeMessage, encodeMessage, type DecodedMessage } from '../../src/codec/message.js';
import { DEFAULT_CONTEXT, type UpdateOutcome } from '../../src/codec/types.js';
import { BgpListener } from '../../src/session/listener.js';
import { PeerSession } from '../../src/session/shell.js';
import { defaultSessionCodec } from '../../src/session/codec-adapter.js';
import { sessionConfig } from '../../src/session/defaults.js';
import type { SessionCodec } from '../../src/session/ports.js';
import type { Upward } from '../../src/session/types.js';
import { fastSessionCodec } from '../../src/speaker/fast-codec.js';
import { hex } from '../codec/hex.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** An UPDATE (header included) with the given path attribute octets and NLRI 10.1.0.0/24. */
function update(attrs: string): Uint8Array {
  const a = hex(attrs);
  const nlri = hex('18 0a 01 00'); // /24 10.1.0
  const len = 19 + 2 + 2 + a.length + nlri.length;
  const out = new Uint8Array(len);
  out.fill(0xff, 0, 16);
  out.set([len >> 8, len & 255, 2, 0, 0, a.length >> 8, a.length & 255], 16);
  out.set(a, 23);
  out.set(nlri, 23 + a.length);
  return out;
}

const ORIGIN = '40 01 01 00';
const AS_PATH_65001 = '40 02 06 02 01 00 00 fd e9'; // AS_SEQUENCE [65001] (4-octet ASNs)
const AS_PATH_65009 = '40 02 06 02 01 00 00 fd f1'; // AS_SEQUENCE [65009]
const NEXT_HOP = '40 03 04 0a 00 00 09'; // 10.0.0.9

/** Establishes a passive session with a raw peer of AS `peerAs` (our AS is 65000); returns a send function and the events. */
async function established(codec: SessionCodec, peerAs: number): Promise<{ send(b: Uint8Array): void; events: Upward[]; got: DecodedMessage[] }> {
  const l = new BgpListener({ codec }, { host: '127.0.0.1', port: 0 });
  const { port } = await l.listen();
  cleanups.push(() => l.close());
  const config = sessionConfig({ localAs: 65000, localId: '10.0.0.1', peerAs, peerAddress: '127.0.0.1' }, { passive: true });
  const s = new PeerSession({ codec }, { config, transport: { peerAddress: '127.0.0.1' }, closeGraceMs: 200 });
  const events: Upward[] = [];
  s.on((e) => events.push(e));
  cleanups.push(() => s.destroy());
  l.register(s);
  s.start();
  const sock: Socket = connect({ host: '127.0.0.1', port });
  cleanups.push(() => void sock.destroy());
  const reader = new MessageReader();
  const got: DecodedMessage[] = [];
  sock.on('data', (b) => reader.push(b).forEach((m) => got.push(decodeMessage(m, DEFAULT_CONTEXT))));
  sock.on('error', () => undefined);
  await new Promise<void>((r) => sock.once('connect', () => r()));
  sock.write(encodeMessage({ type: 'open', version: 4, myAs: peerAs, holdTime: 90, bgpId: '10.9.9.9', capabilities: [{ type: 'four-octet-as', asn: peerAs }] }, DEFAULT_CONTEXT));
  await poll(() => got.some((m) => m.type === 'keepalive'), { what: 'KEEPALIVE after OPEN' });
  sock.write(encodeMessage({ type: 'keepalive' }, DEFAULT_CONTEXT));
  await poll(() => s.state === 'Established', { what: 'Established' });
  return { send: (b) => sock.write(b), events, got };
}

async function outcome(codec: SessionCodec, peerAs: number, attrs: string): Promise<UpdateOutcome> {
  const p = await established(codec, peerAs);
  p.send(update(attrs));
  const ev = await poll(() => p.events.find((e) => e.type === 'update'), { what: 'UPDATE event' });
  if (ev.type !== 'update' || ev.payload.kind !== 'decoded') throw new Error('expected a decoded UPDATE');
  return ev.payload.outcome;
}

describe.each([
  ['default codec', defaultSessionCodec],
  ['fast codec', () => fastSessionCodec()],
])('eBGP attribute handling (%s)', (_name, make) => {
  it('RFC 7606 §7.5: LOCAL_PREF of a wrong length from an external peer is discarded, not treat-as-withdraw', async () => {
    const o = await outcome(make(), 65001, `${ORIGIN} ${AS_PATH_65001} ${NEXT_HOP} 40 05 03 00 00 64`);
    expect(o.action).toBe('accept');
    if (o.action !== 'accept') return;
    expect(o.update.attributes.localPref).toBeUndefined();
    expect(o.discarded).toEqual([expect.objectContaining({ attrType: 5, rule: 'RFC 7606 §7.5' })]);
  });

  it('RFC 7606 §7.5: a well-formed LOCAL_PREF from an external peer is discarded too', async () => {
    const o = await outcome(make(), 65001, `${ORIGIN} ${AS_PATH_65001} ${NEXT_HOP} 40 05 04 00 00 01 f4`);
    expect(o).toMatchObject({ action: 'accept', discarded: [{ attrType: 5 }] });
    expect(o.update.attributes.localPref).toBeUndefined();
  });

  it('RFC 7606 §7.9/§7.10: ORIGINATOR_ID and CLUSTER_LIST from an external peer are discarded whatever their length', async () => {
    const o = await outcome(make(), 65001, `${ORIGIN} ${AS_PATH_65001} ${NEXT_HOP} 80 09 03 0a 00 00 80 0a 04 0a 00 00 01`);
    expect(o.action).toBe('accept');
    expect(o.update.attributes.originatorId).toBeUndefined();
    expect(o.update.attributes.clusterList).toBeUndefined();
  });

  it('RFC 4271 §6.3 / RFC 7606 §7.2: an AS_PATH not led by the external peer\'s AS is treat-as-withdraw', async () => {
    const o = await outcome(make(), 65001, `${ORIGIN} ${AS_PATH_65009} ${NEXT_HOP}`);
    expect(o.action).toBe('treat-as-withdraw');
  });

  it('iBGP: a LOCAL_PREF of a wrong length is still treat-as-withdraw (RFC 7606 §7.5)', async () => {
    const o = await outcome(make(), 65000, `${ORIGIN} 40 02 00 ${NEXT_HOP} 40 05 03 00 00 64`);
    expect(o.action).toBe('treat-as-withdraw');
  });
});
