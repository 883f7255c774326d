/**
 * Raw-bytes interning (raw-attrs.ts): sets interned from received octets keep the octets and
 * decode them on first use, and are the same sets the object path interns.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeUpdate, encodeUpdates, locateUpdateFields, type CodecContext, type DecodeOptions, type PathAttributes } from '../../src/codec/index.js';
import { AttrStore } from '../../src/rib/attr-set.js';
import { normaliseImport } from '../../src/rib/policy.js';
import { RawDecoders, type RawAttrs } from '../../src/rib/raw-attrs.js';
import { Rib } from '../../src/rib/index.js';
import { fastSessionCodec, ingestOutcome } from '../../src/speaker/index.js';
import { pfx } from './helpers.js';

const CTX4: CodecContext = { fourOctetAs: true, addPath: new Set(), extendedMessage: false };
const CTX2: CodecContext = { fourOctetAs: false, addPath: new Set(), extendedMessage: false };
const EBGP: DecodeOptions = { ibgp: false, peerAs: 65001, lazyIpv4Nlri: true };
const IBGP: DecodeOptions = { ibgp: true, lazyIpv4Nlri: true };

/** The UPDATE for `attrs` (one /24), its decoded attributes and its attribute octets. */
function received(attrs: PathAttributes, ctx = CTX4, opts = EBGP): { attrs: PathAttributes; raw: RawAttrs } {
  const [m] = encodeUpdates(attrs, [pfx('10.1.0.0/24')], [], 'ipv4-unicast', ctx);
  const o = decodeUpdate(m!, ctx, opts);
  expect(o.action).toBe('accept');
  const f = locateUpdateFields(m!).attributes;
  return { attrs: o.update.attributes, raw: { bytes: m!, start: f[0], end: f[1], how: { ctx, opts } } };
}

const base = (asns: number[], more: PathAttributes = {}): PathAttributes => ({ origin: 0, asPath: [{ type: 2, asns }], nextHop: '10.0.0.1', ...more });

describe('raw-bytes interning', () => {
  it('same octets → same set without a decoded copy; different octets → different sets; attrs decode on first use', () => {
    const store = new AttrStore();
    const decoders = new RawDecoders();
    const a = received(base([65001, 7], { med: 5, communities: [0xfde80001] }));
    const dec = decoders.get(a.raw.how, 'ebgp');
    const s = store.intern(a.attrs, ['10.0.0.1'], a.raw, dec);
    expect(s.raw).toBeDefined();
    const again = received(base([65001, 7], { med: 5, communities: [0xfde80001] }));
    expect(store.intern(again.attrs, ['10.0.0.1'], again.raw, decoders.get(again.raw.how, 'ebgp'))).toBe(s);
    const other = received(base([65001, 8], { med: 5, communities: [0xfde80001] }));
    expect(store.intern(other.attrs, ['10.0.0.1'], other.raw, dec)).not.toBe(s);
    expect(s.med).toBe(5);
    expect(s.asPathLen).toBe(2);
    expect(s.attrs).toEqual({ origin: 0, asPath: [{ type: 2, asns: [65001, 7] }], nextHop: '10.0.0.1', med: 5, communities: [0xfde80001] });
    expect(Object.isFrozen(s.attrs) && Object.isFrozen(s.attrs.asPath![0]!.asns)).toBe(true);
    expect(s.attrs).toBe(s.attrs); // decoded once
  });

  it('a set interned from objects and one from octets with equal content are the same set, either way round', () => {
    const store = new AttrStore();
    const decoders = new RawDecoders();
    const r = received(base([65001, 9], { med: 1 }));
    const byObj = store.intern(base([65001, 9], { med: 1 }), ['10.0.0.1']);
    expect(store.intern(r.attrs, ['10.0.0.1'], r.raw, decoders.get(r.raw.how, 'ebgp'))).toBe(byObj);
    const r2 = received(base([65001, 10]));
    const byRaw = store.intern(r2.attrs, ['10.0.0.1'], r2.raw, decoders.get(r2.raw.how, 'ebgp'));
    expect(store.intern(base([65001, 10]), ['10.0.0.1'])).toBe(byRaw);
  });

  it('decodes as the session did: eBGP LOCAL_PREF dropped, AS4_PATH merged from a 2-octet peer', () => {
    const store = new AttrStore();
    const decoders = new RawDecoders();
    // From an iBGP peer the LOCAL_PREF stays; from an eBGP peer the same octets lose it.
    const i = received(base([65001], { localPref: 200 }), CTX4, IBGP);
    const si = store.intern(normaliseImport(i.attrs, 'ibgp'), ['10.0.0.1'], i.raw, decoders.get(i.raw.how, 'ibgp'));
    const e = received(base([65001], { localPref: 200 }), CTX4, EBGP);
    const se = store.intern(normaliseImport(e.attrs, 'ebgp'), ['10.0.0.1'], e.raw, decoders.get(e.raw.how, 'ebgp'));
    expect(si).not.toBe(se);
    expect(si.attrs.localPref).toBe(200);
    expect(se.attrs.localPref).toBeUndefined();
    const two = received(base([65001, 4200000001]), CTX2, EBGP);
    const s2 = store.intern(two.attrs, ['10.0.0.1'], two.raw, decoders.get(two.raw.how, 'ebgp'));
    expect(s2.attrs.asPath).toEqual([{ type: 2, asns: [65001, 4200000001] }]);
    expect(s2.attrs.as4Path).toBeUndefined();
  });

  it('a released set is forgotten and its octets interned anew', () => {
    const store = new AttrStore();
    const decoders = new RawDecoders();
    const r = received(base([65001, 11]));
    const dec = decoders.get(r.raw.how, 'ebgp');
    const s = store.intern(r.attrs, ['10.0.0.1'], r.raw, dec);
    store.retain(s);
    store.release(s);
    expect(store.size).toBe(0);
    const t = store.intern(r.attrs, ['10.0.0.1'], r.raw, dec);
    expect(t).not.toBe(s);
    expect(t.id).toBe(0); // the freed id
  });

  it('the speaker path (octets) and the object path give the same Loc-RIB (property)', () => {
    const asn = fc.integer({ min: 1, max: 4294967295 });
    const attrsArb = fc.record({
      more: fc.array(asn, { maxLength: 4 }),
      med: fc.option(fc.integer({ min: 0, max: 2 ** 32 - 1 }), { nil: undefined }),
      localPref: fc.option(fc.integer({ min: 0, max: 300 }), { nil: undefined }),
      communities: fc.option(fc.array(fc.integer({ min: 0, max: 2 ** 32 - 1 }), { minLength: 1, maxLength: 3 }), { nil: undefined }),
      atomic: fc.boolean(),
      large: fc.option(fc.array(fc.tuple(asn, asn, asn), { minLength: 1, maxLength: 2 }), { nil: undefined }),
    });
    fc.assert(
      fc.property(fc.array(attrsArb, { minLength: 1, maxLength: 8 }), fc.boolean(), fc.boolean(), (list, ibgp, four) => {
        const peerAsn = ibgp ? 65002 : 65001;
        const ctx = four ? CTX4 : CTX2;
        const opts: DecodeOptions = ibgp ? IBGP : { ...EBGP, peerAs: peerAsn };
        const mk = (): Rib => {
          const r = new Rib({ asn: 65002, routerId: '10.0.0.2' });
          r.addPeer({ id: 'p', address: '10.0.0.1', asn: peerAsn });
          return r;
        };
        const viaOctets = mk();
        const viaObjects = mk();
        const codec = fastSessionCodec();
        list.forEach((x, n) => {
          const attrs: PathAttributes = base([peerAsn, ...x.more], {
            ...(x.med !== undefined ? { med: x.med } : {}),
            ...(x.localPref !== undefined ? { localPref: x.localPref } : {}),
            ...(x.communities ? { communities: x.communities } : {}),
            ...(x.atomic ? { atomicAggregate: true } : {}),
            ...(x.large ? { largeCommunities: x.large } : {}),
          });
          const prefixes = [pfx(`10.${n}.0.0/24`), pfx(`10.${n}.1.0/24`)];
          for (const m of encodeUpdates(attrs, prefixes, [], 'ipv4-unicast', ctx)) {
            const e = codec.toEvent(m, 'c', ctx, false, opts);
            if (e.type !== 'update' || e.payload.kind !== 'decoded') throw new Error(`not decoded: ${e.type}`);
            ingestOutcome(viaOctets, 'p', e.payload.outcome, new Set());
            viaObjects.ingest('p', decodeUpdate(m, ctx, { ...opts, lazyIpv4Nlri: false }));
          }
        });
        const dump = (r: Rib) => [...r.routes('ipv4-unicast')].map((b) => `${b.prefix.addr}/${b.prefix.len} ${JSON.stringify([b.attrs.attrs, b.attrs.nextHops, b.attrs.med, b.attrs.asPathLen])}`).sort();
        expect([...viaOctets.routes('ipv4-unicast')].every((b) => b.attrs.raw !== undefined)).toBe(true);
        expect(dump(viaOctets)).toEqual(dump(viaObjects));
        expect(viaOctets.attrSetCount).toBe(viaObjects.attrSetCount);
      }),
      { numRuns: 150 },
    );
  });
});
