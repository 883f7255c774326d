// Unit tests (no root): the BGP fallback detector.
import { describe, expect, it } from 'vitest';
import { FallbackDetector } from '../src/fallback.js';

describe('FallbackDetector', () => {
  it('marks a mesh peer unavailable only after the timeout, and available again when it comes up', () => {
    const d = new FallbackDetector(10_000);
    expect(d.update(0, ['b'], [{ node: 'b', reflector: false, established: false }], true)).toEqual([]);
    expect(d.update(9_999, ['b'], [{ node: 'b', reflector: false, established: false }], true)).toEqual([]);
    expect(d.nextCheck()).toBe(10_000);
    expect(d.update(10_000, ['b'], [{ node: 'b', reflector: false, established: false }], true)).toEqual([{ type: 'bgp-node-state', node: 'b', available: false, since: 10_000 }]);
    expect(d.update(11_000, ['b'], [{ node: 'b', reflector: false, established: false }], true)).toEqual([]);
    expect(d.update(12_000, ['b'], [{ node: 'b', reflector: false, established: true }], true)).toEqual([{ type: 'bgp-node-state', node: 'b', available: true, since: 12_000 }]);
  });

  it('an established session from the start emits nothing; a session that drops is timed from the drop', () => {
    const d = new FallbackDetector(1000);
    expect(d.update(0, ['b'], [{ node: 'b', reflector: false, established: true }], true)).toEqual([]);
    expect(d.update(5000, ['b'], [{ node: 'b', reflector: false, established: false }], true)).toEqual([]);
    expect(d.update(6000, ['b'], [{ node: 'b', reflector: false, established: false }], true)).toHaveLength(1);
  });

  it('with BGP disabled every node is unavailable at once', () => {
    const d = new FallbackDetector();
    expect(d.update(0, ['b', 'c'], [], false).map((e) => e.type === 'bgp-node-state' && `${e.node}:${e.available}`)).toEqual(['b:false', 'c:false']);
    expect(d.unavailable()).toBe(2);
    d.update(1, ['b'], [], false); // c left the cluster
    expect(d.unavailable()).toBe(1);
  });

  it('nodes behind route reflectors follow the reflector sessions', () => {
    const d = new FallbackDetector(1000);
    const rr = (up: boolean) => [{ node: 'rr1', reflector: true, established: up }];
    expect(d.update(0, ['rr1', 'c'], rr(true), true)).toEqual([]);
    d.update(100, ['rr1', 'c'], rr(false), true);
    expect(d.update(1100, ['rr1', 'c'], rr(false), true).map((e) => e.type === 'bgp-node-state' && e.node)).toEqual(['rr1', 'c']);
  });
});
