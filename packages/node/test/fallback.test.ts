// Unit tests (no root): the BGP fallback detector.
import { describe, expect, it } from 'vitest';
import { FallbackDetector, peerStates } from '../src/fallback.js';

describe('FallbackDetector', () => {
  it('marks a mesh peer unavailable only after the timeout, and available again when it comes up', () => {
    const d = new FallbackDetector(10_000);
    expect(d.update(0, ['b'], [{ node: 'b', reflector: false, established: false }], true)).toEqual([]);
    expect(d.update(9_999, ['b'], [{ node: 'b', reflector: false, established: false }], true)).toEqual([]);
    expect(d.nextCheck()).toBe(10_000);
    expect(d.update(10_000, ['b'], [{ node: 'b', reflector: false, established: false }], true)).toEqual([{ type: 'bgp-node-state', node: 'b', family: 4, available: false, since: 10_000 }]);
    expect(d.update(11_000, ['b'], [{ node: 'b', reflector: false, established: false }], true)).toEqual([]);
    expect(d.update(12_000, ['b'], [{ node: 'b', reflector: false, established: true }], true)).toEqual([{ type: 'bgp-node-state', node: 'b', family: 4, available: true, since: 12_000 }]);
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

  it('per family: an IPv6 session down while the IPv4 one is up moves only IPv6; a v4-only node is not tracked in IPv6', () => {
    const d = new FallbackDetector(1000);
    const nodes = [{ name: 'b', families: [4, 6] as const }, { name: 'c', families: [4] as const }];
    const peers = (v6: boolean) => [
      { node: 'b', family: 4 as const, reflector: false, established: true },
      { node: 'b', family: 6 as const, reflector: false, established: v6 },
      { node: 'c', family: 4 as const, reflector: false, established: true },
    ];
    expect(d.update(0, nodes, peers(true), true)).toEqual([]);
    expect(d.update(100, nodes, peers(false), true)).toEqual([]);
    expect(d.update(1100, nodes, peers(false), true)).toEqual([{ type: 'bgp-node-state', node: 'b', family: 6, available: false, since: 1100 }]);
    expect(d.unavailable()).toBe(1);
    expect(d.update(1200, nodes, peers(true), true)).toEqual([{ type: 'bgp-node-state', node: 'b', family: 6, available: true, since: 1200 }]);
    // BGP off: every family of every node at once
    expect(d.update(1300, nodes, [], false).map((e) => e.type === 'bgp-node-state' && `${e.node}/${e.family}:${e.available}`)).toEqual(['b/4:false', 'b/6:false', 'c/4:false']);
  });

  it('a family that stops being tracked while down leaves the tunnel', () => {
    const d = new FallbackDetector(1000);
    const nodes = [{ name: 'b', families: [4, 6] as const }];
    const v6peer = [{ node: 'b', family: 6 as const, reflector: false, established: false }, { node: 'b', family: 4 as const, reflector: false, established: true }];
    d.update(0, nodes, v6peer, true);
    expect(d.update(1000, nodes, v6peer, true)).toHaveLength(1);
    // the IPv6 session is no longer configured (this node lost its IPv6 address)
    expect(d.update(2000, nodes, [v6peer[1]!], true)).toEqual([{ type: 'bgp-node-state', node: 'b', family: 6, available: true, since: 2000 }]);
  });

  it('peerStates finds a session on another port by the speaker\'s key (address:port), and the family by address', () => {
    const rendered = [
      { address: '10.0.0.2', port: 1790, node: 'b', type: 'node-to-node mesh' },
      { address: 'fd00::2', node: 'b', type: 'node-to-node mesh' },
      { address: '10.0.0.9', node: 'rr', type: 'route reflector' },
    ];
    const status = [{ address: '10.0.0.2:1790', state: 'Established' }, { address: 'fd00::2', state: 'Active' }, { address: '10.0.0.9', state: 'Established' }];
    expect(peerStates(rendered, status)).toEqual([
      { node: 'b', family: 4, reflector: false, established: true },
      { node: 'b', family: 6, reflector: false, established: false },
      { node: 'rr', family: 4, reflector: true, established: true },
    ]);
  });
});
