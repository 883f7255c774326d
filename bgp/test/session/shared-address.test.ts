/**
 * Two configured peers on one address with different ports (two speakers on one host): the
 * listener tells their inbound connections apart by the AS in the OPEN and hands each to its
 * own session, with the OPEN it already read. Loopback TCP; the peers connect from 127.0.0.2.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { connect, type Socket } from 'node:net';
import { poll } from '@tabby/testkit';
import { MessageReader } from '../../src/codec/header.js';
import { decodeMessage, encodeMessage, type DecodedMessage } from '../../src/codec/message.js';
import { DEFAULT_CONTEXT } from '../../src/codec/types.js';
import { BgpListener } from '../../src/session/listener.js';
import { PeerSession } from '../../src/session/shell.js';
import { defaultSessionCodec } from '../../src/session/codec-adapter.js';
import { sessionConfig } from '../../src/session/defaults.js';

const codec = defaultSessionCodec();
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function raw(port: number, asn: number): { sock: Socket; got: DecodedMessage[] } {
  const sock = connect({ host: '127.0.0.1', port, localAddress: '127.0.0.2' });
  const got: DecodedMessage[] = [];
  const reader = new MessageReader();
  sock.on('data', (b) => reader.push(b).forEach((m) => got.push(decodeMessage(m, DEFAULT_CONTEXT))));
  sock.on('error', () => undefined);
  sock.once('connect', () => {
    // OPEN and the KEEPALIVE in one write: the listener must pass on what follows the OPEN too
    const open = encodeMessage({ type: 'open', version: 4, myAs: asn, holdTime: 90, bgpId: `10.9.9.${asn & 255}`, capabilities: [{ type: 'four-octet-as', asn }] }, DEFAULT_CONTEXT);
    sock.write(Buffer.concat([open, encodeMessage({ type: 'keepalive' }, DEFAULT_CONTEXT)]));
  });
  cleanups.push(() => void sock.destroy());
  return { sock, got };
}

describe('peers sharing an address', () => {
  it('inbound connections go to the peer whose AS the OPEN carries', async () => {
    const l = new BgpListener({ codec }, { host: '127.0.0.1', port: 0 });
    const { port } = await l.listen();
    cleanups.push(() => l.close());
    const mk = (peerAs: number, peerPort: number): PeerSession => {
      const s = new PeerSession({ codec }, { config: sessionConfig({ localAs: 65000, localId: '10.0.0.1', peerAs, peerAddress: '127.0.0.2' }, { passive: true }), transport: { peerAddress: '127.0.0.2', peerPort }, closeGraceMs: 200 });
      cleanups.push(() => s.destroy());
      l.register(s);
      s.start();
      return s;
    };
    const a = mk(65001, 1790);
    const b = mk(65002, 1791);
    const pb = raw(port, 65002);
    await poll(() => b.state === 'Established', { what: 'the AS 65002 peer Established' });
    expect(a.state).toBe('Active');
    const pa = raw(port, 65001);
    await poll(() => a.state === 'Established', { what: 'the AS 65001 peer Established' });
    expect(b.state).toBe('Established');
    expect(pa.got.some((m) => m.type === 'notification') || pb.got.some((m) => m.type === 'notification')).toBe(false);
  });
});
