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
