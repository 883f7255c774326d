/**
 * The lazy IPv6 NLRI path: MP_REACH / MP_UNREACH IPv6 unicast NLRI of UPDATEs decoded by
 * `fastSessionCodec` reach the RIB through `ingestOutcome` as numbers. Every UPDATE must leave
 * the RIB as the object path (the default codec + `Rib.ingest`) does, with and without ADD-PATH.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { update } from '../codec/hex.js';
import { encodeUpdate, locateMpNlri, locateUpdateFields, type CodecContext, type Family, type PathAttributes, type Prefix, type UpdateMessage } from '../../src/codec/index.js';
import { Rib, type IngestResult, type RouteFilter } from '../../src/rib/index.js';
import { defaultSessionCodec } from '../../src/session/index.js';
import { fastSessionCodec, ingestOutcome, lazyNlri } from '../../src/speaker/index.js';

const ATTRS: PathAttributes = { origin: 0, asPath: [{ type: 2, asns: [65002] }] };
const NH6 = ['2001:db8::2'];
const p6 = (addr: string, len: number, pathId?: number): Prefix => (pathId === undefined ? { afi: 2, addr, len } : { afi: 2, addr, len, pathId });

function ctxOf(addPath: boolean): CodecContext {
  return { fourOctetAs: true, addPath: new Set<Family>(addPath ? ['ipv4-unicast', 'ipv6-unicast'] : []), extendedMessage: true };
}

/** Refuses /33s and raises the MED of 2001:db8:1::/48 (it sees canonical text on both paths). */
const FILTER: RouteFilter = ({ prefix, attrs }) => {
  if (prefix.len === 33) return { action: 'reject' };
  if (`${prefix.addr}/${prefix.len}` === '2001:db8:1::/48') return { action: 'modify', attrs: { ...attrs, med: 99 } };
  return { action: 'accept' };
};

function rib(importFilter?: RouteFilter): Rib {
  const r = new Rib({ asn: 65001, routerId: '10.0.0.1' });
  r.addPeer({ id: 'p', address: '2001:db8::2', asn: 65002, ...(importFilter ? { importFilter } : {}) });
  r.peerUp('p', { routerId: '10.0.0.2', localAddress: '10.0.0.1', localAddress6: ['2001:db8::1'], families: ['ipv4-unicast', 'ipv6-unicast'] }, 0);
  return r;
}

/** The UPDATE `u` applied to `fast` through the fast codec and to `slow` through the default one; both results. */
function both(u: UpdateMessage | Uint8Array, ctx: CodecContext, fast: Rib, slow: Rib): [IngestResult, IngestResult] {
  const b = u instanceof Uint8Array ? u : encodeUpdate(u, ctx);
  const ef = fastSessionCodec().toEvent(b, 'c', ctx, false);
  const es = defaultSessionCodec().toEvent(b, 'c', ctx, false);
  if (ef.type !== 'update' || ef.payload.kind !== 'decoded' || es.type !== 'update' || es.payload.kind !== 'decoded') {
    expect(ef).toEqual(es); // the same error event
    throw new Error(`not an UPDATE: ${ef.type}`);
  }
  expect(lazyNlri(ef.payload.outcome)).toBe(b);
  return [ingestOutcome(fast, 'p', ef.payload.outcome, ctx.addPath), slow.ingest('p', es.payload.outcome)];
}

/** What a RIB holds, comparably. */
function state(r: Rib): unknown {
  const routes = (f: Family) => [...r.routes(f)].map((b) => [`${b.prefix.addr}/${b.prefix.len}`, b.pathId, b.attrs.attrs, b.attrs.nextHops]).sort((x, y) => String(x[0]).localeCompare(String(y[0])));
  return { v4: routes('ipv4-unicast'), v6: routes('ipv6-unicast'), counts: r.peerCounts('p') };
}

describe('fastSessionCodec + ingestOutcome, IPv6', () => {
  it('announces and withdraws MP_REACH / MP_UNREACH IPv6 NLRI left undecoded by the codec', () => {
    const ctx = ctxOf(false);
    const [fast, slow] = [rib(), rib()];
    const nlri = [p6('2001:db8:1::', 48), p6('::', 0), p6('fd00::1', 128), p6('2001:db8:8000::', 33), p6('::ffff:10.0.0.0', 120)];
    const [rf, rs] = both({ type: 'update', withdrawn: [], attributes: { ...ATTRS, mpReach: { afi: 2, safi: 1, nextHops: NH6, nlri } }, nlri: [] }, ctx, fast, slow);
    expect(rf).toEqual(rs);
    expect(rf).toMatchObject({ announced: 5, withdrawn: 0 });
    expect(state(fast)).toEqual(state(slow));
    expect(fast.best(p6('2001:db8:1::', 48))?.attrs.nextHops).toEqual(NH6);
    expect(fast.best(p6('FD00:0::1', 128))?.peer).toBe('p');
    // A withdrawal-only UPDATE (MP_UNREACH alone) is no End-of-RIB, however its list was decoded.
    const [wf, ws] = both({ type: 'update', withdrawn: [], attributes: { mpUnreach: { afi: 2, safi: 1, withdrawn: [p6('fd00::1', 128), p6('::', 0)] } }, nlri: [] }, ctx, fast, slow);
    expect([wf, ws]).toEqual([{ announced: 0, withdrawn: 2, rejected: 0, exceeded: false }, { announced: 0, withdrawn: 2, rejected: 0, exceeded: false }]);
    expect(fast.locRibSize('ipv6-unicast')).toBe(3);
    // Host bits set on the wire are cleared (RFC 4271 §4.3 "trailing bits ... irrelevant").
    const hostBits = update({ attrs: ['80 0e 26 0002 01 10 20010db8000000000000000000000002 00 2c 20010db800ff 41 20010db8000000008f // MP_REACH: /44 and /65', '40 01 01 00', '40 02 06 02 01 0000fdea'] });
    expect(both(hostBits, ctx, fast, slow)[0].announced).toBe(2);
    expect(state(fast)).toEqual(state(slow));
    expect([fast.best(p6('2001:db8:f0::', 44))?.peer, fast.best(p6('2001:db8:0:0:8000::', 65))?.peer]).toEqual(['p', 'p']);
    // An empty MP_UNREACH is the IPv6 End-of-RIB (RFC 4724 §2).
    expect(both({ type: 'update', withdrawn: [], attributes: { mpUnreach: { afi: 2, safi: 1, withdrawn: [] } }, nlri: [] }, ctx, fast, slow)[0].endOfRib).toBe('ipv6-unicast');
  });

  it('withdraws the IPv6 NLRI of a treat-as-withdraw UPDATE (RFC 7606 §2)', () => {
    const ctx = ctxOf(false);
    const [fast, slow] = [rib(), rib()];
    const nlri = [p6('2001:db8:1::', 48), p6('2001:db8:2::', 48)];
    both({ type: 'update', withdrawn: [], attributes: { ...ATTRS, mpReach: { afi: 2, safi: 1, nextHops: NH6, nlri } }, nlri: [] }, ctx, fast, slow);
    const bad = update({
      attrs: [
        '80 0e 23 0002 01 10 20010db8000000000000000000000002 00 30 20010db80001 30 20010db80002 // MP_REACH: the two /48s',
        '40 01 01 00 // ORIGIN IGP',
        '40 02 06 02 01 0000fdea // AS_PATH 65002',
        '80 04 03 000001 // MULTI_EXIT_DISC of 3 octets: RFC 7606 §7.4 treat-as-withdraw',
      ],
    });
    const [rf, rs] = both(bad, ctx, fast, slow);
    expect(rf).toEqual(rs);
    expect(rf.withdrawn).toBe(2);
    expect(state(fast)).toEqual(state(slow));
    expect(fast.locRibSize('ipv6-unicast')).toBe(0);
  });

  it('resets the session on malformed IPv6 NLRI exactly as the default codec (RFC 7606 §5.3)', () => {
    for (const addPath of [false, true]) {
      const ctx = ctxOf(addPath);
      const b = encodeUpdate({ type: 'update', withdrawn: [], attributes: { ...ATTRS, mpReach: { afi: 2, safi: 1, nextHops: NH6, nlri: [p6('2001:db8:1::', 48, addPath ? 1 : undefined)] } }, nlri: [] }, ctx);
      const f = locateUpdateFields(b);
      const m = locateMpNlri(b, f.attributes[0], f.attributes[1], 14)!;
      b[m.start + (addPath ? 4 : 0)] = 129; // prefix length 129
      const ef = fastSessionCodec().toEvent(b, 'c', ctx, false);
      expect(ef.type).toBe('update-error');
      expect(ef).toEqual(defaultSessionCodec().toEvent(b, 'c', ctx, false));
    }
  });

  it('leaves the RIB as the object path does, for any UPDATE sequence, with and without ADD-PATH (RFC 7911) and an import filter', () => {
    const pool = [p6('2001:db8::', 32), p6('2001:db8::', 33), p6('2001:db8:1::', 48), p6('2001:db8:1:2::', 64), p6('fd00::a', 128), p6('::', 0), p6('2001:db8:1:2:3:4:5:6', 127)];
    const pick = fc.subarray(pool, { maxLength: 4 });
    const ids = fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 4, maxLength: 4 });
    const step = fc.record({ reach: pick, unreach: pick, v4: fc.boolean(), med: fc.integer({ min: 0, max: 2 }), ids });
    fc.assert(
      fc.property(fc.boolean(), fc.boolean(), fc.array(step, { minLength: 1, maxLength: 12 }), (addPath, filter, steps) => {
        const ctx = ctxOf(addPath);
        const [fast, slow] = filter ? [rib(FILTER), rib(FILTER)] : [rib(), rib()];
        for (const s of steps) {
          const withId = (l: Prefix[]) => l.map((p, i) => (addPath ? { ...p, pathId: s.ids[i]! } : p));
          const attributes: PathAttributes = { ...ATTRS, med: s.med };
          if (s.reach.length > 0) attributes.mpReach = { afi: 2, safi: 1, nextHops: NH6, nlri: withId(s.reach) };
          if (s.unreach.length > 0) attributes.mpUnreach = { afi: 2, safi: 1, withdrawn: withId(s.unreach) };
          if (s.v4) attributes.nextHop = '10.0.0.2';
          const v4 = s.v4 ? [{ afi: 1 as const, addr: '10.1.0.0', len: 16, ...(addPath ? { pathId: 1 } : {}) }] : [];
          if (!s.v4 && s.reach.length === 0) {
            if (s.unreach.length === 0) continue;
            delete attributes.origin;
            delete attributes.asPath;
            delete attributes.med;
          }
          const [rf, rs] = both({ type: 'update', withdrawn: [], attributes, nlri: v4 }, ctx, fast, slow);
          expect(rf).toEqual(rs);
        }
        expect(state(fast)).toEqual(state(slow));
      }),
      { numRuns: 150 },
    );
  });
});
