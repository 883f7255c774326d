import { describe, expect, it } from 'vitest';
import { decodeMessage, encodeMessage, encodeUpdates, isEndOfRib, DEFAULT_CONTEXT, type CodecContext, type Prefix } from '../../src/codec/index.js';

const ctx4: CodecContext = { fourOctetAs: true, addPath: new Set(), extendedMessage: false };

describe('codec smoke', () => {
  it('round-trips an OPEN', () => {
    const open = {
      type: 'open' as const, version: 4, myAs: 23456, holdTime: 90, bgpId: '10.0.0.1',
      capabilities: [
        { type: 'multiprotocol' as const, afi: 1, safi: 1 },
        { type: 'four-octet-as' as const, asn: 4200000000 },
        { type: 'graceful-restart' as const, restarting: false, notification: true, restartTime: 120, families: [{ afi: 1, safi: 1, forwardingState: true }] },
      ],
    };
    expect(decodeMessage(encodeMessage(open, DEFAULT_CONTEXT), DEFAULT_CONTEXT)).toEqual(open);
  });
  it('round-trips an UPDATE and packs', () => {
    const nlri: Prefix[] = [];
    for (let i = 0; i < 2000; i++) nlri.push({ afi: 1, addr: `10.${i >> 8}.${i & 255}.0`, len: 24 });
    const msgs = encodeUpdates({ origin: 0, asPath: [{ type: 2, asns: [65001, 4200000000] }], nextHop: '192.0.2.1' }, nlri, [], 'ipv4-unicast', ctx4);
    expect(msgs.length).toBeGreaterThan(1);
    const got: Prefix[] = [];
    for (const m of msgs) {
      const d = decodeMessage(m, ctx4);
      if (d.type !== 'update' || d.action !== 'accept') throw new Error('bad');
      got.push(...d.update.nlri);
    }
    expect(got).toEqual(nlri);
    const eor = decodeMessage(encodeMessage({ type: 'update', withdrawn: [], attributes: {}, nlri: [] }, ctx4), ctx4);
    expect(eor.type === 'update' && isEndOfRib(eor.update)).toBe('ipv4-unicast');
  });
});

describe('no aliasing', () => {
  it('decoded values from a Node Buffer do not share its memory', () => {
    const ctx: CodecContext = { fourOctetAs: true, addPath: new Set(), extendedMessage: false };
    const bytes = encodeMessage({
      type: 'update', withdrawn: [],
      attributes: { origin: 0, asPath: [], nextHop: '10.0.0.1', extendedCommunities: [Uint8Array.of(0, 2, 0, 1, 0, 0, 0, 1)], unknown: [{ flags: 0xe0, type: 99, value: Uint8Array.of(7) }] },
      nlri: [{ afi: 1, addr: '10.0.0.0', len: 8 }],
    }, ctx);
    const buf = Buffer.from(bytes);
    const d = decodeMessage(buf, ctx);
    buf.fill(0);
    if (d.type !== 'update') throw new Error('not an UPDATE');
    expect(Array.from(d.update.attributes.extendedCommunities![0]!)).toEqual([0, 2, 0, 1, 0, 0, 0, 1]);
    expect(d.update.attributes.unknown![0]!.value.buffer).not.toBe(buf.buffer);
    expect(Array.from(d.update.attributes.unknown![0]!.value)).toEqual([7]);
  });
});
