import { describe, expect, it } from 'vitest';
import type { IPAMBlock } from '@tabby/api';
import { allocationsOf } from '@tabby/ipam';
import { MemoryDatastore } from './ds.js';
import { defaultTxn, FaultyDatastore, seeded } from './helpers.js';
import { runWorkload, seedCluster, verify } from './workload.js';

/**
 * Operations per run: 1,500 in the full suite (`npm test`); `npm run test:unit` sets
 * TABBY_STRESS_OPS lower to stay under a minute (same seeds and checks, shorter runs; the
 * exhaustion runs keep 1,000: fewer do not always exhaust the pool).
 */
const OPS = Number(process.env['TABBY_STRESS_OPS'] ?? 1500);

describe(`concurrent allocators (memory datastore${defaultTxn() ? '' : ', no txn'})`, () => {
  for (const seed of [1, 2]) {
    it(`16 allocators on 4 nodes, ${OPS} operations, seed ${seed}: no duplicate, no loss`, async () => {
      const ds = new FaultyDatastore(new MemoryDatastore(), { txn: defaultTxn() });
      const rnd = seeded(seed + 99);
      ds.jitter = () => Math.floor(rnd() * 4);
      await seedCluster(ds, 4);
      const r = await runWorkload({ allocators: 16, nodes: 4, ops: OPS, seed, datastore: () => ds });
      expect(r.allocations).toBeGreaterThan(OPS / 3);
      const sum = (k: 'conflicts' | 'claims') => r.stats.reduce((x, s) => x + s[k], 0);
      console.log(JSON.stringify({ seed, allocations: r.allocations, releases: r.releases, exhausted: r.exhausted, conflicts: sum('conflicts'), claims: sum('claims') }));
      await verify(ds, r);
    });
  }

  for (const seed of [5, 6]) it(`12 allocators on 3 nodes with strictAffinity and maxBlocksPerHost 2 on a small pool, seed ${seed}: exhaustion stays all-or-nothing`, async () => {
    const ds = new FaultyDatastore(new MemoryDatastore(), { txn: defaultTxn() });
    const rnd = seeded(seed);
    ds.jitter = () => Math.floor(rnd() * 4);
    await seedCluster(ds, 3, { v4: '10.0.0.0/25', strictAffinity: true, maxBlocksPerHost: 2 });
    const r = await runWorkload({ allocators: 12, nodes: 3, ops: 1000, seed, datastore: () => ds });
    expect(r.exhausted).toBeGreaterThan(0);
    await verify(ds, r);
    // strictAffinity: nothing was borrowed. maxBlocksPerHost is checked before each claim (as in
    // Calico), so each of a node's 4 concurrent allocators (separate processes) can overshoot by one.
    const blocks = (await ds.list<IPAMBlock>({ kind: 'IPAMBlock' })).items;
    for (const b of blocks) for (const a of allocationsOf(b)) expect(`host:${a.node}`).toBe(b.spec.affinity);
    const perNode = new Map<string, number>();
    for (const b of blocks.filter((x) => x.spec.cidr.startsWith('10.'))) perNode.set(b.spec.affinity!, (perNode.get(b.spec.affinity!) ?? 0) + 1);
    for (const n of perNode.values()) expect(n).toBeLessThanOrEqual(2 + 3);
  });

  it(`16 request streams on 4 nodes through one Ipam per node (coalesced), ${OPS} operations: no duplicate, no loss`, async () => {
    const ds = new FaultyDatastore(new MemoryDatastore(), { txn: defaultTxn() });
    const rnd = seeded(31);
    ds.jitter = () => Math.floor(rnd() * 4);
    await seedCluster(ds, 4);
    const r = await runWorkload({ allocators: 16, nodes: 4, ops: OPS, seed: 3, datastore: () => ds, sharedPerNode: true, gcLoop: true });
    expect(r.allocations).toBeGreaterThan(OPS / 3);
    await verify(ds, r);
  });

  for (const seed of [77]) it(`16 allocators on 4 nodes while gc releases every empty block at once, seed ${seed}: no duplicate, no loss`, async () => {
    const ds = new FaultyDatastore(new MemoryDatastore(), { txn: defaultTxn() });
    const rnd = seeded(seed);
    ds.jitter = () => Math.floor(rnd() * 4);
    await seedCluster(ds, 4);
    const r = await runWorkload({ allocators: 16, nodes: 4, ops: OPS, seed, datastore: () => ds, gcLoop: true });
    console.log(JSON.stringify({ gcLoop: true, allocations: r.allocations, gcReleasedBlocks: r.gcReleasedBlocks }));
    expect(r.gcReleasedBlocks).toBeGreaterThan(0);
    await verify(ds, r);
  });
});
