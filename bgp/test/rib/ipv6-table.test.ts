/**
 * IPv6 keys (prefix-key.ts) and the IPv6 prefix table (ipv6-table.ts). The table's Map-like
 * behaviour and its probe runs while emptied are tested with NumTable's in prefix-table.test.ts.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalIpv6, Ipv6Table, keyToPrefix, keyToString, prefixKey, v6Key } from '../../src/rib/index.js';
import { IPV6_PACKED_LIMIT } from '../../src/rib/ipv6-table.js';

describe('Ipv6Table', () => {
  const k = (i: number): string => v6Key(0x20010db8, i, 0, 0, 64);

  it('grows to many entries and shrinks back on delete', () => {
    const t = new Ipv6Table();
    for (let i = 0; i < 50_000; i++) t.set(k(i), i);
    expect(t.size).toBe(50_000);
    // one expect over the mismatches (tens of thousands of expect() calls cost seconds)
    const wrong: string[] = [];
    for (let i = 0; i < 50_000; i += 2) if (t.delete(k(i)) !== i) wrong.push(`delete ${i}`);
    for (let i = 1; i < 50_000; i += 2) if (t.get(k(i)) !== i) wrong.push(`get ${i}`);
    for (let i = 1; i < 50_000; i += 2) if (t.delete(k(i)) !== i) wrong.push(`delete ${i}`);
    expect(wrong).toEqual([]);
    expect([t.size, t.keys()]).toEqual([0, []]);
  });

  it('hands back the keys it was given (forEach, keys), whatever their length', () => {
    const t = new Ipv6Table(true);
    const keys = [v6Key(0, 0, 0, 0, 0), v6Key(0x20010db8, 0, 0, 0, 32), v6Key(0xfd000000, 0, 0, 1, 128), v6Key(0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 128), v6Key(0x20010db8, 0x80000000, 0, 0, 33)];
    keys.forEach((key, i) => t.set(key, i, 10 + i));
    const seen: Array<[string, number, number]> = [];
    t.forEach((v, key, aux) => seen.push([key, v, aux]));
    expect(seen.sort((a, b) => a[1] - b[1])).toEqual(keys.map((key, i) => [key, i, 10 + i]));
    expect(t.keys().sort()).toEqual([...keys].sort());
  });
});

describe('IPv6 prefix keys', () => {
  const words = fc.array(fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 0xffffffff })), { minLength: 4, maxLength: 4 });

  it('one key per (address, length) whatever the spelling; the address words; RFC 5952 text back', () => {
    fc.assert(
      fc.property(words, fc.integer({ min: 0, max: 128 }), (w, len) => {
        const [w0, w1, w2, w3] = w as [number, number, number, number];
        const text = w.flatMap((x) => [(x >>> 16).toString(16), (x & 0xffff).toString(16)]).join(':');
        const key = prefixKey({ afi: 2, addr: text, len });
        expect(key).toBe(v6Key(w0, w1, w2, w3, len));
        expect(key).toBe(prefixKey({ afi: 2, addr: canonicalIpv6(text).toUpperCase(), len }));
        expect(keyToPrefix(key)).toEqual({ afi: 2, addr: canonicalIpv6(text), len });
        expect(keyToString(key)).toBe(`${canonicalIpv6(text)}/${len}`);
      }),
      { numRuns: 500 },
    );
  });

  it('distinct prefixes have distinct keys', () => {
    fc.assert(
      fc.property(words, fc.integer({ min: 0, max: 128 }), words, fc.integer({ min: 0, max: 128 }), (a, la, b, lb) => {
        const same = la === lb && a.every((x, i) => x === b[i]);
        expect(v6Key(a[0]!, a[1]!, a[2]!, a[3]!, la) === v6Key(b[0]!, b[1]!, b[2]!, b[3]!, lb)).toBe(same);
      }),
    );
    expect(prefixKey({ afi: 2, addr: '2001:db8::', len: 32 })).not.toBe(prefixKey({ afi: 2, addr: '2001:db8::', len: 33 }));
  });

  it('keeps a path id, and rejects malformed text with a TypeError', () => {
    expect(keyToPrefix(v6Key(0, 0, 0, 0, 0), 7)).toEqual({ afi: 2, addr: '::', len: 0, pathId: 7 });
    expect(keyToPrefix(prefixKey({ afi: 2, addr: '::ffff:10.0.0.1', len: 128 }))).toEqual({ afi: 2, addr: '::ffff:10.0.0.1', len: 128 });
    expect(() => prefixKey({ afi: 2, addr: 'fd00::1::2', len: 64 })).toThrow(TypeError);
  });
});

describe('Ipv6Table packed column', () => {
  it('refuses a value (or, with aux, an aux) beyond 2^23-1 with a RangeError, changing nothing', () => {
    const key = v6Key(0x20010db8, 0, 0, 0, 32);
    const t = new Ipv6Table();
    t.set(key, IPV6_PACKED_LIMIT - 1);
    expect(() => t.set(key, IPV6_PACKED_LIMIT)).toThrow(RangeError);
    expect(() => t.put(v6Key(0xfd000000, 0, 0, 0, 8), -2)).toThrow(RangeError);
    expect([t.get(key), t.size]).toEqual([IPV6_PACKED_LIMIT - 1, 1]);
    const a = new Ipv6Table(true);
    a.set(key, 2 ** 31 - 1, 7); // the value has its own word
    expect(() => a.set(key, 1, IPV6_PACKED_LIMIT)).toThrow(RangeError);
    expect([a.get(key), a.lastAux]).toEqual([2 ** 31 - 1, 7]);
  });
});
