/** Property tests: arbitrary messages → encode → decode → the same value (fast-check). */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatIp } from '@tabby/api';
import {
  decodeMessage,
  encodeMessage,
  encodeUpdates,
  formatIpv4Number,
  formatIpv6,
  maxMessageLength,
  type AsPathSegment,
  type Capability,
  type CodecContext,
  type Family,
  type OpenMessage,
  type PathAttributes,
  type Prefix,
  type UpdateMessage,
} from '../../src/codec/index.js';

const u32 = fc.integer({ min: 0, max: 0xffffffff });
const asn = fc.integer({ min: 1, max: 0xffffffff });
const ipv4 = u32.map(formatIpv4Number);
const unicastV4 = fc.tuple(fc.integer({ min: 1, max: 223 }).filter((a) => a !== 127), fc.integer({ min: 0, max: 0xffffff })).map(([a, r]) => formatIpv4Number(((a << 24) | r) >>> 0));
const bytes16 = fc.uint8Array({ minLength: 16, maxLength: 16 });
const ipv6 = bytes16.map((b) => formatIpv6(b, 0));

function maskBytes(b: Uint8Array, len: number): Uint8Array {
  const out = b.slice();
  for (let i = 0; i < out.length; i++) {
    const keep = Math.max(0, Math.min(8, len - 8 * i));
    out[i] = out[i]! & ((0xff << (8 - keep)) & 0xff);
  }
  return out;
}

function prefixArb(afi: 1 | 2, addPath: boolean): fc.Arbitrary<Prefix> {
  const width = afi === 1 ? 32 : 128;
  return fc.record({ len: fc.integer({ min: 0, max: width }), raw: fc.uint8Array({ minLength: width / 8, maxLength: width / 8 }), pathId: u32 }).map(({ len, raw, pathId }) => {
    const m = maskBytes(raw, len);
    const addr = afi === 1 ? formatIpv4Number(((m[0]! << 24) | (m[1]! << 16) | (m[2]! << 8) | m[3]!) >>> 0) : formatIpv6(m, 0);
    return addPath ? { afi, addr, len, pathId } : { afi, addr, len };
  });
}

const segment = (types: Array<1 | 2 | 3 | 4>): fc.Arbitrary<AsPathSegment> =>
  fc.record({ type: fc.constantFrom(...types), asns: fc.array(asn, { minLength: 1, maxLength: 12 }) });

function attrsArb(fourOctet: boolean): fc.Arbitrary<PathAttributes> {
  const segTypes: Array<1 | 2 | 3 | 4> = fourOctet ? [1, 2, 3, 4] : [1, 2];
  const known = new Set([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 14, 15, 16, 17, 18, 25, 32]);
  return fc.record(
    {
      origin: fc.constantFrom(0 as const, 1 as const, 2 as const),
      asPath: fc.array(segment(segTypes), { maxLength: 4 }),
      nextHop: unicastV4,
      med: u32,
      localPref: u32,
      atomicAggregate: fc.constant(true),
      aggregator: fc.record({ asn: fourOctet ? asn : asn.filter((a) => a !== 23456), address: ipv4 }),
      communities: fc.array(u32, { minLength: 1, maxLength: 8 }),
      originatorId: ipv4,
      clusterList: fc.array(ipv4, { minLength: 1, maxLength: 4 }),
      extendedCommunities: fc.array(fc.uint8Array({ minLength: 8, maxLength: 8 }), { minLength: 1, maxLength: 4 }),
      largeCommunities: fc.array(fc.tuple(u32, u32, u32), { minLength: 1, maxLength: 4 }),
      unknown: fc.uniqueArray(
        fc.record({ flags: fc.constant(0xe0), type: fc.integer({ min: 19, max: 255 }).filter((t) => !known.has(t)), value: fc.uint8Array({ maxLength: 40 }) }),
        { selector: (u) => u.type, minLength: 1, maxLength: 3 },
      ),
    },
    { requiredKeys: ['origin', 'asPath', 'nextHop'] },
  );
}

const ctxArb: fc.Arbitrary<CodecContext> = fc.record({
  fourOctetAs: fc.boolean(),
  addPath: fc.subarray(['ipv4-unicast', 'ipv6-unicast'] as Family[]).map((a) => new Set(a)),
  extendedMessage: fc.constant(true),
});

const updateArb = (ctx: CodecContext): fc.Arbitrary<UpdateMessage> => {
  const v4 = prefixArb(1, ctx.addPath.has('ipv4-unicast'));
  const v6 = prefixArb(2, ctx.addPath.has('ipv6-unicast'));
  return fc.record({
    withdrawn: fc.array(v4, { maxLength: 10 }),
    nlri: fc.array(v4, { maxLength: 10 }),
    attrs: attrsArb(ctx.fourOctetAs),
    reach: fc.option(fc.record({ nextHops: fc.array(ipv6, { minLength: 1, maxLength: 2 }), nlri: fc.array(v6, { maxLength: 10 }) }), { nil: undefined }),
    unreach: fc.option(fc.array(v6, { maxLength: 10 }), { nil: undefined }),
  }).map(({ withdrawn, nlri, attrs, reach, unreach }) => {
    const attributes: PathAttributes = { ...attrs };
    // RFC 6793 §4.2.3: an AGGREGATOR without AS_TRANS marks AS4_PATH as stale; keep the example consistent.
    const big = (attrs.asPath ?? []).some((s) => s.asns.some((a) => a > 0xffff));
    if (!ctx.fourOctetAs && big && attributes.aggregator && attributes.aggregator.asn <= 0xffff) delete attributes.aggregator;
    if (reach) attributes.mpReach = { afi: 2, safi: 1, nextHops: reach.nextHops, nlri: reach.nlri };
    if (unreach) attributes.mpUnreach = { afi: 2, safi: 1, withdrawn: unreach };
    return { type: 'update' as const, withdrawn, attributes, nlri };
  });
};

const capabilityArb: fc.Arbitrary<Capability> = fc.oneof(
  fc.record({ type: fc.constant('multiprotocol' as const), afi: fc.integer({ min: 0, max: 0xffff }), safi: fc.integer({ min: 0, max: 255 }) }),
  fc.constant({ type: 'route-refresh' as const }),
  fc.constant({ type: 'extended-message' as const }),
  fc.constant({ type: 'enhanced-route-refresh' as const }),
  fc.record({ type: fc.constant('four-octet-as' as const), asn: u32 }),
  fc.record({
    type: fc.constant('graceful-restart' as const), restarting: fc.boolean(), notification: fc.boolean(), restartTime: fc.integer({ min: 0, max: 4095 }),
    families: fc.array(fc.record({ afi: fc.integer({ min: 0, max: 0xffff }), safi: fc.integer({ min: 0, max: 255 }), forwardingState: fc.boolean() }), { maxLength: 4 }),
  }),
  fc.record({ type: fc.constant('add-path' as const), families: fc.array(fc.record({ afi: fc.integer({ min: 0, max: 0xffff }), safi: fc.integer({ min: 0, max: 255 }), mode: fc.constantFrom(1 as const, 2 as const, 3 as const) }), { maxLength: 4 }) }),
  fc.record({ type: fc.constant('unknown' as const), code: fc.integer({ min: 0, max: 255 }).filter((c) => ![1, 2, 6, 64, 65, 69, 70].includes(c)), value: fc.uint8Array({ maxLength: 30 }) }),
);

const openArb: fc.Arbitrary<OpenMessage> = fc.record({
  type: fc.constant('open' as const),
  version: fc.constant(4),
  myAs: fc.integer({ min: 1, max: 0xffff }),
  holdTime: fc.oneof(fc.constant(0), fc.integer({ min: 3, max: 0xffff })),
  bgpId: u32.filter((v) => v !== 0).map(formatIpv4Number),
  capabilities: fc.array(capabilityArb, { maxLength: 12 }),
});

function decodeAccepted(b: Uint8Array, ctx: CodecContext): UpdateMessage {
  const d = decodeMessage(b, ctx);
  if (d.type !== 'update' || d.action !== 'accept') throw new Error(`not accepted: ${JSON.stringify(d)}`);
  return d.update;
}

describe('round trips', () => {
  it('UPDATE: encode → decode is the identity', () => {
    fc.assert(
      fc.property(ctxArb.chain((ctx) => fc.tuple(fc.constant(ctx), updateArb(ctx))), ([ctx, u]) => {
        expect(decodeAccepted(encodeMessage(u, ctx), ctx)).toEqual(u);
      }),
      { numRuns: 400 },
    );
  });

  it('OPEN: encode → decode is the identity', () => {
    fc.assert(
      fc.property(openArb, fc.boolean(), (o, ext) => {
        const ctx: CodecContext = { fourOctetAs: true, addPath: new Set(), extendedMessage: ext };
        expect(decodeMessage(encodeMessage(o, ctx), ctx)).toEqual(o);
      }),
      { numRuns: 300 },
    );
  });

  it('NOTIFICATION and ROUTE-REFRESH round trip', () => {
    const ctx: CodecContext = { fourOctetAs: true, addPath: new Set(), extendedMessage: false };
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 255 }), fc.uint8Array({ maxLength: 64 }), (code, subcode, data) => {
        expect(decodeMessage(encodeMessage({ type: 'notification', code, subcode, data }, ctx), ctx)).toEqual({ type: 'notification', code, subcode, data });
      }),
    );
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 255 }), (afi, safi, subtype) => {
        expect(decodeMessage(encodeMessage({ type: 'route-refresh', afi, safi, subtype }, ctx), ctx)).toEqual({ type: 'route-refresh', afi, safi, subtype });
      }),
    );
  });

  it('encodeUpdates packs every prefix into messages within the size limit', () => {
    fc.assert(
      fc.property(
        ctxArb.map((c) => ({ ...c, extendedMessage: false })),
        fc.constantFrom<Family>('ipv4-unicast', 'ipv6-unicast'),
        fc.integer({ min: 0, max: 3000 }),
        fc.integer({ min: 0, max: 1500 }),
        (ctx, family, nAnn, nWd) => {
          const afi = family === 'ipv4-unicast' ? 1 : 2;
          const addPath = ctx.addPath.has(family);
          const mk = (i: number): Prefix => {
            const addr = afi === 1 ? formatIpv4Number((0x0a000000 + i) >>> 0) : formatIpv6(Uint8Array.of(0x20, 1, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, i >> 8, i & 255), 0);
            const p: Prefix = { afi, addr, len: afi === 1 ? 32 : 128 };
            return addPath ? { ...p, pathId: i } : p;
          };
          const nlri = Array.from({ length: nAnn }, (_, i) => mk(i));
          const withdrawn = Array.from({ length: nWd }, (_, i) => mk(50000 + i));
          const attrs: PathAttributes = { origin: 0, asPath: [{ type: 2, asns: [65001] }], nextHop: '10.0.0.1', mpReach: { afi: 2, safi: 1, nextHops: ['2001:db8::1'], nlri: [] } };
          const msgs = encodeUpdates(attrs, nlri, withdrawn, family, ctx);
          const gotN: Prefix[] = [];
          const gotW: Prefix[] = [];
          for (const m of msgs) {
            expect(m.length).toBeLessThanOrEqual(maxMessageLength(false));
            const u = decodeAccepted(m, ctx);
            gotN.push(...u.nlri, ...(u.attributes.mpReach?.nlri ?? []));
            gotW.push(...u.withdrawn, ...(u.attributes.mpUnreach?.withdrawn ?? []));
          }
          expect(gotN).toEqual(nlri);
          expect(gotW).toEqual(withdrawn);
          // As few messages as fit: every message but the last of each kind is nearly full.
          const short = msgs.filter((m) => m.length < 4096 - 40).length;
          expect(short).toBeLessThanOrEqual(2);
          // RFC 7606 §5.1: withdrawals and announcements never share a message.
          for (const m of msgs) {
            const u = decodeAccepted(m, ctx);
            const kinds = [u.withdrawn.length > 0, u.nlri.length > 0, u.attributes.mpReach !== undefined, u.attributes.mpUnreach !== undefined];
            expect(kinds.filter(Boolean).length).toBe(1);
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  it('IPv6 text agrees with @tabby/api (RFC 5952)', () => {
    fc.assert(
      fc.property(fc.oneof(bytes16, bytes16.map((b) => (b.fill(0, 0, 10), b.fill(0xff, 10, 12), b)), bytes16.map((b) => b.map((x) => (x & 1 ? 0 : x)))), (b) => {
        let v = 0n;
        for (const x of b) v = (v << 8n) | BigInt(x);
        expect(formatIpv6(b, 0)).toBe(formatIp(6, v));
      }),
      { numRuns: 2000 },
    );
  });
});
