import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { parseCidr } from '@tabby/api';
import {
  allocateInBlock, allocateOrdinal, blockName, affinityName, blockProblems, freeCount, handleAt, isEmpty, newBlockSpec,
  ordinalsOfHandle, releaseHandleInBlock, releaseOrdinals,
} from '@tabby/ipam';

const attr = (h: string) => ({ handle_id: h, secondary: { node: 'n1' } });

describe('names', () => {
  it('derives Calico block and affinity names from the CIDR', () => {
    expect(blockName('10.0.0.0/26')).toBe('10-0-0-0-26');
    expect(blockName('fd00::/122')).toBe('fd00---122');
    expect(affinityName('node-1', '10.0.0.64/26')).toBe('node-1-10-0-0-64-26');
  });
});

describe('block', () => {
  it('allocates in order, shares one attribute per request, and frees to the back of the queue', () => {
    const b0 = newBlockSpec(parseCidr('10.0.0.0/30'), 'host:n1', false);
    expect(freeCount(b0)).toBe(4);
    const a = allocateInBlock(b0, 2, attr('h1'));
    expect(a.ordinals).toEqual([0, 1]);
    expect(a.spec.attributes).toHaveLength(1);
    expect(b0.unallocated).toHaveLength(4); // not mutated
    const r = releaseOrdinals(a.spec, [0]);
    expect(r.spec.unallocated).toEqual([2, 3, 0]);
    expect(handleAt(r.spec, 1)).toBe('h1');
    expect(blockProblems(r.spec)).toEqual([]);
  });

  it('takes only what is free, and a specific ordinal only once', () => {
    const b = newBlockSpec(parseCidr('10.0.0.0/31'), undefined, false);
    const a = allocateInBlock(b, 5, attr('h1'));
    expect(a.ordinals).toEqual([0, 1]);
    expect(allocateInBlock(a.spec, 1, attr('h2')).ordinals).toEqual([]);
    expect(allocateOrdinal(a.spec, 1, attr('h2'))).toBeUndefined();
    expect(allocateOrdinal(b, 1, attr('h2'))!.allocations).toEqual([null, 0]);
  });

  it('release with a handle frees only that handle\'s addresses; releasing twice is a no-op', () => {
    let s = allocateInBlock(newBlockSpec(parseCidr('10.0.0.0/29'), undefined, false), 2, attr('a')).spec;
    s = allocateInBlock(s, 2, attr('b')).spec;
    expect(releaseOrdinals(s, [0, 2], 'a').released.map((x) => x.ordinal)).toEqual([0]);
    const r = releaseHandleInBlock(s, 'b');
    expect(r.released.map((x) => x.ordinal)).toEqual([2, 3]);
    expect(r.spec.attributes).toEqual([attr('a')]);
    expect(releaseHandleInBlock(r.spec, 'b').released).toEqual([]);
    expect(isEmpty(releaseHandleInBlock(r.spec, 'a').spec)).toBe(true);
  });

  it('keeps its invariants under any sequence of allocations and releases (property)', () => {
    const op = fc.oneof(
      fc.record({ t: fc.constant('alloc' as const), n: fc.integer({ min: 1, max: 5 }), h: fc.integer({ min: 0, max: 3 }) }),
      fc.record({ t: fc.constant('free' as const), o: fc.array(fc.integer({ min: 0, max: 15 }), { maxLength: 4 }) }),
      fc.record({ t: fc.constant('freeHandle' as const), h: fc.integer({ min: 0, max: 3 }) }),
    );
    fc.assert(fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
      let s = newBlockSpec(parseCidr('10.1.0.0/28'), 'host:n1', false);
      const owner = new Map<number, string>();
      for (const o of ops) {
        if (o.t === 'alloc') {
          const r = allocateInBlock(s, o.n, attr(`h${o.h}`));
          for (const x of r.ordinals) {
            expect(owner.has(x)).toBe(false);
            owner.set(x, `h${o.h}`);
          }
          s = r.spec;
        } else if (o.t === 'free') {
          const r = releaseOrdinals(s, o.o);
          for (const x of r.released) owner.delete(x.ordinal);
          s = r.spec;
        } else {
          const r = releaseHandleInBlock(s, `h${o.h}`);
          for (const x of r.released) owner.delete(x.ordinal);
          s = r.spec;
        }
        expect(blockProblems(s)).toEqual([]);
        expect(freeCount(s)).toBe(16 - owner.size);
        for (const [x, h] of owner) expect(handleAt(s, x)).toBe(h);
        for (let h = 0; h < 4; h++) expect(ordinalsOfHandle(s, `h${h}`).length).toBe([...owner.values()].filter((v) => v === `h${h}`).length);
      }
    }), { numRuns: 200 });
  });
});
