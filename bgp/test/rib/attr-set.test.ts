/** AttrStore interning by content hash (attr-hash.ts): equal sets share one object, ids are reused. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { PathAttributes } from '../../src/codec/types.js';
import { hashAttrs, sameAttrs } from '../../src/rib/attr-hash.js';
import { AttrStore } from '../../src/rib/attr-set.js';

/** A reference key for the test: what equality means, spelt out plainly (ATOMIC_AGGREGATE false = absent). */
function refKey(a: PathAttributes, nh: readonly string[]): string {
  const plain = Object.entries({ ...a, atomicAggregate: a.atomicAggregate ? true : undefined })
    .filter(([k, v]) => v !== undefined && k !== 'mpReach' && k !== 'mpUnreach')
    .sort(([x], [y]) => x.localeCompare(y));
  return JSON.stringify([nh, plain], (_k, v: unknown) => (v instanceof Uint8Array ? [...v] : v));
}

// Small domains, so that equal sets built separately come up often.
const small = fc.integer({ min: 0, max: 2 });
const attrsArb: fc.Arbitrary<PathAttributes> = fc.record(
  {
    origin: fc.constantFrom(0 as const, 2 as const),
    asPath: fc.array(fc.record({ type: fc.constantFrom(1 as const, 2 as const), asns: fc.array(fc.constantFrom(1, 65001, 4200000000), { maxLength: 2 }) }), { maxLength: 2 }),
    nextHop: fc.constantFrom('10.0.0.1', '10.0.0.2'),
    med: small,
    localPref: small,
    atomicAggregate: fc.boolean(),
    aggregator: fc.record({ asn: fc.constantFrom(1, 2), address: fc.constantFrom('1.1.1.1', '2.2.2.2') }),
    communities: fc.array(fc.constantFrom(1, 0xffffff01, 0xfde80001), { maxLength: 2 }),
    originatorId: fc.constantFrom('1.1.1.1', '2.2.2.2'),
    clusterList: fc.array(fc.constantFrom('1.1.1.1', '3.3.3.3'), { maxLength: 2 }),
    extendedCommunities: fc.array(fc.uint8Array({ minLength: 8, maxLength: 8, max: 1 }), { maxLength: 1 }),
    largeCommunities: fc.array(fc.tuple(small, small, small), { maxLength: 1 }),
    unknown: fc.array(fc.record({ flags: fc.constant(0xc0), type: fc.constantFrom(40, 41), value: fc.uint8Array({ maxLength: 2, max: 1 }) }), { maxLength: 1 }),
  },
  { requiredKeys: [] },
);
const hopsArb = fc.array(fc.constantFrom('10.0.0.1', 'fd00::1'), { maxLength: 2 });

describe('AttrStore', () => {
  it('returns one set for equal attributes and different sets otherwise (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(attrsArb, hopsArb), { minLength: 1, maxLength: 40 }), (list) => {
        const store = new AttrStore();
        const byRef = new Map<string, unknown>();
        for (const [a, nh] of list) {
          const s = store.intern(structuredClone(a), [...nh]);
          const k = refKey(a, nh);
          expect(s).toBe(byRef.get(k) ?? s);
          byRef.set(k, s);
          expect(sameAttrs(a, nh, s.attrs, s.nextHops)).toBe(true);
          expect(hashAttrs(s.attrs, s.nextHops)).toBe(hashAttrs(a, nh));
        }
        expect(store.size).toBe(byRef.size);
      }),
      { numRuns: 300 },
    );
  });

  it('ignores MP attributes, property order and ATOMIC_AGGREGATE false', () => {
    const store = new AttrStore();
    const a = store.intern({ origin: 0, med: 5, atomicAggregate: false, asPath: [{ type: 2, asns: [1, 2] }] }, ['10.0.0.1']);
    const b = store.intern({ asPath: [{ type: 2, asns: [1, 2] }], med: 5, origin: 0, mpUnreach: { afi: 2, safi: 1, withdrawn: [] } }, ['10.0.0.1']);
    expect(b).toBe(a);
    expect(store.intern({ origin: 0, med: 5, asPath: [{ type: 2, asns: [1, 2] }] }, ['10.0.0.2'])).not.toBe(a);
    expect(store.intern({ origin: 0, med: 5, asPath: [{ type: 1, asns: [1, 2] }] }, ['10.0.0.1'])).not.toBe(a);
    expect(store.intern({ origin: 0, med: 5, asPath: [{ type: 2, asns: [1] }, { type: 2, asns: [2] }] }, ['10.0.0.1'])).not.toBe(a);
    expect(Object.isFrozen(a.attrs) && Object.isFrozen(a.attrs.asPath![0]!.asns) && Object.isFrozen(a.nextHops)).toBe(true);
  });

  it('does not freeze or alias the caller’s objects', () => {
    const store = new AttrStore();
    const attrs: PathAttributes = { origin: 0, asPath: [{ type: 2, asns: [1] }], communities: [7] };
    const s = store.intern(attrs, ['10.0.0.1']);
    expect(Object.isFrozen(attrs) || Object.isFrozen(attrs.asPath) || Object.isFrozen(attrs.communities)).toBe(false);
    attrs.communities!.push(8);
    expect(s.attrs.communities).toEqual([7]);
  });

  it('forgets released sets, reuses their ids, and still finds every live set (many sets, deletions in the middle of probe runs)', () => {
    const store = new AttrStore();
    const mk = (i: number): PathAttributes => ({ origin: 0, asPath: [{ type: 2, asns: [65001, i] }], med: i % 7 });
    const sets = Array.from({ length: 5000 }, (_, i) => store.intern(mk(i), ['10.0.0.1']));
    for (const s of sets) store.retain(s);
    expect(new Set(sets.map((s) => s.id)).size).toBe(5000);
    const dead = new Set<number>();
    for (let i = 0; i < 5000; i += 3) {
      store.release(sets[i]!);
      dead.add(i);
    }
    expect(store.size).toBe(5000 - dead.size);
    for (let i = 0; i < 5000; i++) {
      if (dead.has(i)) expect(sets[i]!.id).toBe(-1);
      else expect(store.intern(mk(i), ['10.0.0.1'])).toBe(sets[i]);
    }
    const again = store.intern(mk(0), ['10.0.0.1']);
    expect(again).not.toBe(sets[0]);
    expect(again.id).toBeLessThan(5000); // a freed id
    expect(store.get(again.id)).toBe(again);
    for (let i = 0; i < 5000; i++) if (!dead.has(i)) store.release(sets[i]!);
    store.dropIfUnused(again);
    expect(store.size).toBe(0);
    expect(() => store.get(again.id)).toThrow(/not live/);
  });

  it('shares one frozen next-hop list between consecutive sets with the same next hops', () => {
    const store = new AttrStore();
    const a = store.intern({ origin: 0, med: 1, nextHop: '10.0.0.1' }, ['10.0.0.1']);
    const b = store.intern({ origin: 0, med: 2, nextHop: '10.0.0.1' }, ['10.0.0.1']);
    expect(b.nextHops).toBe(a.nextHops);
    expect(b.attrs.nextHop).toBe('10.0.0.1');
  });
});
