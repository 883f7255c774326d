import { describe, expect, it } from 'vitest';
import { MemoryDatastore } from './ds.js';
import { FaultyDatastore, seeded } from './helpers.js';
import { runWorkload, seedCluster, verify } from './workload.js';

describe('concurrent allocators (memory datastore)', () => {
  for (const seed of [1, 2]) {
    it(`16 allocators on 4 nodes, 1500 operations, seed ${seed}: no duplicate, no loss`, async () => {
      const ds = new FaultyDatastore(new MemoryDatastore());
      const rnd = seeded(seed + 99);
      ds.jitter = () => Math.floor(rnd() * 4);
      await seedCluster(ds, 4);
      const r = await runWorkload({ allocators: 16, nodes: 4, ops: 1500, seed, datastore: () => ds });
      expect(r.allocations).toBeGreaterThan(500);
      const sum = (k: 'conflicts' | 'claims') => r.stats.reduce((x, s) => x + s[k], 0);
      console.log(JSON.stringify({ seed, allocations: r.allocations, releases: r.releases, exhausted: r.exhausted, conflicts: sum('conflicts'), claims: sum('claims') }));
      await verify(ds, r);
    });
  }
});
