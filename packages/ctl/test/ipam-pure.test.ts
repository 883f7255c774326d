/** The pure parts of `ipam split`, `ipam release --from-report` and `ipam show`. */
import { describe, expect, it } from 'vitest';
import { splitCidrs } from '../src/ipam-split.js';
import { intersectReports } from '../src/ipam-release.js';
import { g5 } from '../src/ipam-show.js';

describe('splitCidrs', () => {
  it('splits into equal power-of-2 parts, IPv4 and IPv6', () => {
    expect(splitCidrs('172.16.0.0/12', 4)).toEqual(['172.16.0.0/14', '172.20.0.0/14', '172.24.0.0/14', '172.28.0.0/14']);
    expect(splitCidrs('10.0.0.7/24', 2)).toEqual(['10.0.0.0/25', '10.0.0.128/25']);
    expect(splitCidrs('fd00::/120', 2)).toEqual(['fd00::/121', 'fd00::80/121']);
  });
  it('rejects a number that is no power of 2, and parts too small to exist', () => {
    for (const n of [0, 1, 3, 6, 2.5]) expect(() => splitCidrs('10.0.0.0/8', n)).toThrow(/power of 2/);
    expect(() => splitCidrs('10.0.0.0/31', 4)).toThrow('the CIDR 10.0.0.0/31 is not large enough to be split into 4 parts');
  });
});

describe('intersectReports', () => {
  const leak = (ip: string, handle: string, sequence: number): { ip: string; handle: string; sequence: number } => ({ ip, handle, sequence });
  it('keeps the leaks every report has with the same handle and sequence, and orphans that hold nothing', () => {
    const r1 = { leaked: [leak('10.0.0.1', 'h1', 1), leak('10.0.0.2', 'h2', 2), leak('10.0.0.3', 'h3', 3)], orphanHandles: [{ handle: 'o1', counted: 1, found: 0, updated: 't1' }, { handle: 'o2', counted: 2, found: 1, updated: 't1' }] };
    const r2 = { leaked: [leak('10.0.0.1', 'h1', 1), leak('10.0.0.2', 'h2', 5)], orphanHandles: [{ handle: 'o1', counted: 1, found: 0, updated: 't1' }, { handle: 'o2', counted: 2, found: 1, updated: 't1' }] };
    expect(intersectReports([r1, r2])).toEqual({ leaked: [leak('10.0.0.1', 'h1', 1)], orphans: [{ handle: 'o1', counted: 1, found: 0, updated: 't1' }] });
    expect(intersectReports([r1]).leaked).toHaveLength(3);
    expect(intersectReports([])).toEqual({ leaked: [], orphans: [] });
  });
});

describe('g5 (Go %.5g, as calicoctl prints address counts)', () => {
  it('prints small counts whole and large ones in exponent form', () => {
    expect([0, 1, 64, 65536, 99999].map(g5)).toEqual(['0', '1', '64', '65536', '99999']);
    expect(g5(100000)).toBe('1e+05');
    expect(g5(16777216)).toBe('1.6777e+07');
    expect(g5(2 ** 80)).toBe('1.2089e+24');
  });
});
