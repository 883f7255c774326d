import { describe, expect, it } from 'vitest';
import type { IPAMHandle } from '@tabby/api';
import { invariantProblems, node, pool, setup, state } from './helpers.js';

describe('check', () => {
  it('reports leaks, missing addresses, allocations outside pools, empty handles and blocks of gone nodes', async () => {
    const { ipam, mem } = await setup({ pools: [pool('a', '10.0.0.0/24', { ipipMode: 'Always' }), pool('b', '10.1.0.0/24', { nodeSelector: "x == 'y'" })], nodes: [node('n1'), node('n2', { x: 'y' })] });
    const live = await ipam.autoAssign({ handle: 'live', node: 'n1', num4: 1 });
    const leak = await ipam.autoAssign({ handle: 'leak', node: 'n1', num4: 1 });
    const tun = await ipam.tunnelAddress('n1', 'ipip');
    const inB = await ipam.autoAssign({ handle: 'inb', node: 'n2', num4: 1, pools4: ['b'] });
    await mem.delete({ kind: 'IPPool', name: 'b' });
    await mem.delete({ kind: 'Node', name: 'n2' });
    await mem.create<IPAMHandle>({ apiVersion: 'tabby.dev/v1', kind: 'IPAMHandle', metadata: { name: 'empty' }, spec: { handleID: 'empty', block: { '10.0.0.0/26': 1 }, deleted: false } });
    const r = await ipam.check([{ handle: 'live', ips: live.ipv4 }, { handle: 'inb', ips: inB.ipv4 }, { handle: 'gone', ips: ['10.0.0.250'] }]);
    expect(r.leaked.map((a) => a.ip)).toEqual(leak.ipv4);
    expect(r.leaked.map((a) => a.ip)).not.toContain(tun);
    expect(r.missing.map((m) => m.ip)).toEqual(['10.0.0.250']);
    expect(r.outsidePools.map((a) => a.ip)).toEqual(inB.ipv4);
    expect(r.orphanHandles.map((h) => h.handle)).toEqual(['empty']);
    expect(r.blocksOfGoneNodes).toEqual([{ cidr: `${inB.ipv4[0]!.split('.').slice(0, 3).join('.')}.${Number(inB.ipv4[0]!.split('.')[3]) & ~63}/26`, node: 'n2', empty: false }]);
    expect(r.staleAffinities.map((a) => [a.node, a.reason])).toEqual([['n2', 'node-gone']]);
    expect(r.corruptBlocks).toEqual([]);
  });
});

describe('gc', () => {
  it('releases leaks older than the grace period, never a live workload\'s, and the blocks of deleted nodes', async () => {
    const { ipam, mem, clock } = await setup({ init: { pendingTimeoutMs: 1000 } });
    const live = await ipam.autoAssign({ handle: 'live', node: 'n1', num4: 1 });
    const leak = await ipam.autoAssign({ handle: 'leak', node: 'n1', num4: 1 });
    const byIp = await ipam.autoAssign({ handle: 'byip', node: 'n1', num4: 1 });
    const onGone = await ipam.autoAssign({ handle: 'ongone', node: 'n3', num4: 1 });
    const n3blocks = await ipam.blocksForNode('n3');
    const lives = [{ handle: 'live', ips: [] }, { ips: byIp.ipv4 }];
    clock.advance(10 * 60_000);
    // The grace period runs from when this gc first sees a leak, on its own clock.
    let r = await ipam.gc({ live: lives });
    expect(r.releasedIps).toEqual([]);
    await mem.delete({ kind: 'Node', name: 'n3' });
    clock.advance(10 * 60_000);
    r = await ipam.gc({ live: lives });
    expect(r.releasedIps).toEqual([]);
    expect(r.clearedBlocks).toEqual(n3blocks); // n3 is gone: its block loses its affinity, keeps its address
    clock.advance(6 * 60_000);
    r = await ipam.gc({ live: lives });
    expect(r.releasedIps.sort()).toEqual([...leak.ipv4, ...onGone.ipv4].sort());
    expect(await ipam.blocksForNode('n3')).toEqual([]);
    expect(await ipam.ipsByHandle('live')).toEqual(live.ipv4);
    expect(await ipam.ipsByHandle('byip')).toEqual(byIp.ipv4);
    const s = await state(mem);
    expect(s.blocks.filter((b) => b.spec.affinity !== undefined).map((b) => b.spec.affinity)).toEqual(['host:n1']);
    expect(s.handles.map((h) => h.metadata.name).sort()).toEqual(['byip', 'live']);
    expect(await invariantProblems(mem)).toEqual([]);
  });

  it('does not release an address that was reused after it was judged leaked', async () => {
    const { ipam, clock } = await setup();
    await ipam.autoAssign({ handle: 'old', node: 'n1', num4: 1 });
    clock.advance(20 * 60_000);
    const report = await ipam.check([]);
    expect(report.leaked).toHaveLength(1);
    // The address is released and handed to someone new before gc runs: gc must not free it.
    await ipam.releaseByHandle('old');
    const fresh = await ipam.autoAssign({ handle: 'new', node: 'n1', num4: 64 });
    clock.advance(20 * 60_000);
    const r = await ipam.gc({ live: [{ handle: 'new', ips: fresh.ipv4 }] });
    expect(r.releasedIps).toEqual([]);
    expect((await ipam.ipsByHandle('new')).length).toBe(64);
  });

  it('removes handles that hold nothing, after the pending timeout', async () => {
    const { ipam, mem, clock } = await setup({ init: { pendingTimeoutMs: 1000 } });
    await mem.create<IPAMHandle>({ apiVersion: 'tabby.dev/v1', kind: 'IPAMHandle', metadata: { name: 'empty', annotations: { 'ipam.tabby.dev/updated': new Date(clock.now()).toISOString() } }, spec: { handleID: 'empty', block: { '10.0.0.0/26': 1 }, deleted: false } });
    expect((await ipam.gc({ live: [] })).deletedHandles).toEqual([]);
    clock.advance(2000);
    expect((await ipam.gc({ live: [] })).deletedHandles).toEqual(['empty']);
  });
});
