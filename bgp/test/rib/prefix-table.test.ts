import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { clearedCapacity } from '../../src/rib/num-table.js';
import { canonicalIpv6, Ipv6Table, keyToPrefix, NumTable, prefixKey, v6Key, type PrefixKey, type PrefixTable } from '../../src/rib/index.js';
import { pfx, rib } from './helpers.js';

const tables = [
  { name: 'NumTable', make: () => new NumTable(true, true) as PrefixTable, key: (n: number): PrefixKey => n },
  { name: 'NumTable (aux, no tag)', make: () => new NumTable(true) as PrefixTable, key: (n: number): PrefixKey => n, noTag: true },
  { name: 'NumTable (value only)', make: () => new NumTable() as PrefixTable, key: (n: number): PrefixKey => n, noTag: true, noAux: true },
  // Odd n: a /0-/128 in 2001:db8::/32 with a low word; even n: trailing zero groups dropped.
  { name: 'Ipv6Table', make: () => new Ipv6Table(true, true) as PrefixTable, key: (n: number): PrefixKey => (n % 2 ? v6Key(0x20010db8, Math.floor(n / 2 ** 32), 0, n >>> 0, n % 129) : v6Key(n >>> 0, Math.floor(n / 2 ** 32), 0, 0, n % 129)) },
];

describe.each(tables)('$name', ({ make, key: toKey, noTag, noAux }) => {
  it('behaves like a Map (value, aux and tag columns) under random set/put/delete/tag/clear sequences', () => {
    // 10.x and 200.x: addresses on both sides of 2^31 (stored as int32)
    const key = fc
      .tuple(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 0, max: 32 }), fc.boolean())
      .map(([a, l, high]) => toKey(((high ? 0xc8000000 : 0x0a000000) + a * 256) * 64 + l));
    const op = fc.oneof(
      fc.record({ k: fc.constant('set' as const), key, v: fc.integer({ min: 0, max: 1e6 }) }),
      fc.record({ k: fc.constant('put' as const), key, v: fc.integer({ min: 0, max: 1e6 }) }),
      fc.record({ k: fc.constant('del' as const), key }),
      fc.record({ k: fc.constant('tag' as const), key, v: fc.integer({ min: 0, max: 9 }) }),
      fc.record({ k: fc.constant('clear' as const) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 600 }), (ops) => {
        const t = make();
        const m = new Map<PrefixKey, { v: number; aux: number; tag: number }>();
        for (const o of ops) {
          const e = 'key' in o ? m.get(o.key) : undefined;
          if (o.k === 'set') {
            t.set(o.key, o.v, o.v + 1);
            m.set(o.key, { v: o.v, aux: o.v + 1, tag: e?.tag ?? -1 });
          } else if (o.k === 'put') {
            expect(t.put(o.key, o.v)).toBe(e?.v ?? -1);
            m.set(o.key, { v: o.v, aux: e?.aux ?? 0, tag: e?.tag ?? -1 });
          } else if (o.k === 'del') {
            expect(t.delete(o.key)).toBe(e?.v ?? -1);
            m.delete(o.key);
          } else if (o.k === 'tag') {
            t.setTag(o.key, o.v);
            if (e) e.tag = o.v;
          } else {
            t.clear();
            m.clear();
          }
        }
        expect(t.size).toBe(m.size);
        for (const [k, e] of m) {
          expect(t.get(k)).toBe(e.v);
          expect([t.lastAux, t.lastTag]).toEqual([noAux ? -1 : e.aux, noTag ? -1 : e.tag]);
        }
        const seen = new Map<PrefixKey, number>();
        t.forEach((v, k) => seen.set(k, v));
        expect(seen).toEqual(new Map([...m].map(([k, e]) => [k, e.v])));
        expect(t.keys().map(String).sort()).toEqual([...m.keys()].map(String).sort());
      }),
      { numRuns: 200 },
    );
  });
});

describe('NumTable', () => {
  it('refuses a value (aux in tables with aux) that does not fit its packed column', () => {
    expect(() => new NumTable().set(10 * 64 + 8, 1 << 25)).toThrow(RangeError);
    const t = new NumTable(true);
    expect(() => t.set(10 * 64 + 8, 2 ** 31 - 1, 1 << 25)).toThrow(RangeError);
    expect(t.size).toBe(0); // refused before anything changed
    t.set(10 * 64 + 8, 2 ** 31 - 1, (1 << 25) - 1); // the value keeps a whole word
    expect([t.get(10 * 64 + 8), t.lastAux]).toEqual([2 ** 31 - 1, (1 << 25) - 1]);
  });

  it('keeps the capacity of a well-used batch table across clear(), and sizes a sparse one for its last batch', () => {
    expect(clearedCapacity(10, 1 << 16, 3 / 4)).toBe(1 << 16); // modest: kept
    expect(clearedCapacity(300_000, 1 << 20, 3 / 4)).toBe(1 << 20); // an eighth full or more: kept (zeroed)
    expect(clearedCapacity(100_000, 1 << 22, 3 / 4)).toBe(1 << 18); // sparse: sized for 100k at load <= 3/4
    expect(clearedCapacity(3, 1 << 22, 3 / 4)).toBe(16);
  });

  it('grows to many entries and shrinks back on delete', () => {
    const t = new NumTable();
    for (let i = 0; i < 50_000; i++) t.set((0x64400000 + i) * 64 + 32, i);
    expect(t.size).toBe(50_000);
    // one expect over the mismatches: 75,000 expect() calls cost seconds of test time
    const wrong: string[] = [];
    for (let i = 0; i < 50_000; i += 2) if (t.delete((0x64400000 + i) * 64 + 32) !== i) wrong.push(`delete ${i}`);
    for (let i = 1; i < 50_000; i += 2) if (t.get((0x64400000 + i) * 64 + 32) !== i) wrong.push(`get ${i}`);
    expect(wrong).toEqual([]);
    expect(t.size).toBe(25_000);
  });
});

describe.each([
  { name: 'NumTable', make: (): PrefixTable => new NumTable(), key: (i: number): PrefixKey => (0x64400000 + i) * 64 + 32 },
  { name: 'Ipv6Table', make: (): PrefixTable => new Ipv6Table(), key: (i: number): PrefixKey => v6Key(0x20010db8, i, 0, 0, 64) },
])('$name', ({ make, key }) => {
  it('keeps probe runs short while a table is emptied in its own slot order (a peer going down)', () => {
    // keys() is slot order, which is hash order: deleting a prefix of it leaves the survivors in
    // one end of the hash range. A shrink then packed them into one run as long as the table, and
    // every further delete walked it (a 1M-route peer took 25 s to remove).
    const t = make() as PrefixTable & { longestRun(): number };
    const n = 100_000;
    for (let i = 0; i < n; i++) t.set(key(i), i);
    const keys = t.keys();
    let worst = 0;
    for (let i = 0; i < n; i++) {
      t.delete(keys[i]!);
      if (i % 1000 === 999) worst = Math.max(worst, t.longestRun());
    }
    expect(t.size).toBe(0);
    expect(worst).toBeLessThan(200);
  });

  it('keeps insertions short in a table of dense prefixes (a feed of consecutive /32s)', () => {
    // Placing groups of 8 consecutive prefixes side by side filled whole blocks with one group,
    // and linear probing then ran over blocks: 15 slots per insertion at this load, not 3.
    const t = make() as PrefixTable & { meanInsertProbe(): number };
    for (let i = 0; i < 150_000; i++) t.set(key(i), 1); // 150k of 256k slots
    expect(t.meanInsertProbe()).toBeLessThan(6);
  });
});

describe('prefix keys', () => {
  it('round-trip IPv4 and IPv6 prefixes, including 0.0.0.0/0 and 255.255.255.255/32', () => {
    for (const p of [
      { afi: 1 as const, addr: '0.0.0.0', len: 0 },
      { afi: 1 as const, addr: '255.255.255.255', len: 32 },
      { afi: 1 as const, addr: '10.244.3.64', len: 26 },
      { afi: 2 as const, addr: 'fd00:10:244::', len: 122 },
    ])
      expect(keyToPrefix(prefixKey(p))).toEqual(p);
  });
  it('rejects malformed IPv4 text', () => {
    expect(() => prefixKey({ afi: 1, addr: '10.0.0', len: 8 })).toThrow(TypeError);
    expect(() => prefixKey({ afi: 1, addr: '10.0.0.256', len: 8 })).toThrow(TypeError);
  });
});

describe('IPv6 canonical text (RFC 5952)', () => {
  it.each([
    ['2001:DB8:0:0:0:0:0:1', '2001:db8::1'],
    ['2001:db8:0000:0000:1:0:0:0', '2001:db8:0:0:1::'], // the longest run
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'], // a tie: the first run
    ['fd00:0:0::', 'fd00::'],
    ['::', '::'],
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
    ['::ffff:10.0.0.1', '::ffff:10.0.0.1'], // RFC 5952 §5, as the codec decodes it
    ['not-an-address', 'not-an-address'],
  ])('%s → %s', (a, b) => expect(canonicalIpv6(a)).toBe(b));

  it('originate and withdrawOrigin accept non-canonical IPv6 text', () => {
    const r = rib();
    r.originate({ afi: 2, addr: 'FD00:0:0::', len: 122 });
    expect(r.best(pfx('fd00::/122'))?.peer).toBe('local');
    r.withdrawOrigin({ afi: 2, addr: 'fd00:0000::', len: 122 });
    expect(r.locRibSize('ipv6-unicast')).toBe(0);
  });
});

