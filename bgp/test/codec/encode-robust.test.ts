/**
 * The encoder on hostile input: out-of-range numbers, bad address text, oversize lists. It must
 * either produce a message the decoder accepts without a non-codec exception, or throw
 * BgpCodecError 'EncodeError' — never another exception, never a silently truncated field.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BgpCodecError, decodeMessage, encodeMessage, type BgpMessage, type CodecContext } from '../../src/codec/index.js';

const num = fc.oneof(fc.integer({ min: -2, max: 300 }), fc.integer({ min: 0, max: 0xffffffff }), fc.constantFrom(0x100000000, 1.5, Number.NaN, 65535, 65536));
const addr = fc.constantFrom('10.0.0.1', '0.0.0.0', '256.1.1.1', '01.2.3.4', '2001:db8::1', '::ffff:10.0.0.1', 'fe80::1', '1:2:3:4:5:6:7:8:9', 'x', '');
const prefix = fc.record({ afi: fc.constantFrom(1 as const, 2 as const), addr, len: num, pathId: fc.option(num, { nil: undefined }) });

const message: fc.Arbitrary<BgpMessage> = fc.oneof(
  fc.record({
    type: fc.constant('update' as const),
    withdrawn: fc.array(prefix, { maxLength: 4 }),
    nlri: fc.array(prefix, { maxLength: 4 }),
    attributes: fc.record(
      {
        origin: num as fc.Arbitrary<0 | 1 | 2>,
        asPath: fc.array(fc.record({ type: num as fc.Arbitrary<1 | 2 | 3 | 4>, asns: fc.array(num, { maxLength: 300 }) }), { maxLength: 3 }),
        nextHop: addr,
        med: num,
        localPref: num,
        aggregator: fc.record({ asn: num, address: addr }),
        communities: fc.array(num, { maxLength: 4 }),
        originatorId: addr,
        clusterList: fc.array(addr, { maxLength: 3 }),
        extendedCommunities: fc.array(fc.uint8Array({ maxLength: 10 }), { maxLength: 3 }),
        largeCommunities: fc.array(fc.tuple(num, num, num), { maxLength: 3 }),
        mpReach: fc.record({ afi: num, safi: num, nextHops: fc.array(addr, { maxLength: 3 }), nlri: fc.array(prefix, { maxLength: 4 }) }),
        mpUnreach: fc.record({ afi: num, safi: num, withdrawn: fc.array(prefix, { maxLength: 4 }) }),
        unknown: fc.array(fc.record({ flags: num, type: num, value: fc.uint8Array({ maxLength: 300 }) }), { maxLength: 2 }),
      },
      { requiredKeys: [] },
    ),
  }),
  fc.record({
    type: fc.constant('open' as const), version: num, myAs: num, holdTime: num, bgpId: addr,
    capabilities: fc.array(
      fc.oneof(
        fc.record({ type: fc.constant('multiprotocol' as const), afi: num, safi: num }),
        fc.record({ type: fc.constant('four-octet-as' as const), asn: num }),
        fc.record({ type: fc.constant('graceful-restart' as const), restarting: fc.boolean(), notification: fc.boolean(), restartTime: num, families: fc.array(fc.record({ afi: num, safi: num, forwardingState: fc.boolean() }), { maxLength: 70 }) }),
        fc.record({ type: fc.constant('add-path' as const), families: fc.array(fc.record({ afi: num, safi: num, mode: num as fc.Arbitrary<1 | 2 | 3> }), { maxLength: 3 }) }),
        fc.record({ type: fc.constant('unknown' as const), code: num, value: fc.uint8Array({ maxLength: 300 }) }),
      ),
      { maxLength: 5 },
    ),
  }),
  fc.record({ type: fc.constant('notification' as const), code: num, subcode: num, data: fc.uint8Array({ maxLength: 5000 }) }),
  fc.record({ type: fc.constant('route-refresh' as const), afi: num, safi: num, subtype: num }),
);

describe('encoder on hostile input', () => {
  it('returns decodable bytes or throws EncodeError', () => {
    fc.assert(
      fc.property(message, fc.boolean(), fc.boolean(), (m, four, ext) => {
        const ctx: CodecContext = { fourOctetAs: four, addPath: new Set(['ipv4-unicast']), extendedMessage: ext };
        let bytes: Uint8Array;
        try {
          bytes = encodeMessage(m, ctx);
        } catch (e: unknown) {
          expect(e instanceof BgpCodecError && e.code).toBe('EncodeError');
          return;
        }
        try {
          decodeMessage(bytes, ctx);
        } catch (e: unknown) {
          expect(e).toBeInstanceOf(BgpCodecError);
          expect((e as BgpCodecError).message.startsWith('internal')).toBe(false);
        }
      }),
      { numRuns: 3000 },
    );
  });
});
