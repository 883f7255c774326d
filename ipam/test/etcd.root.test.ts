/**
 * IPAM against a real etcd: the concurrency property tests (16 allocators, each with its own
 * etcd client, on 4 nodes; 16 request streams through one Ipam per node, coalesced into
 * transactions) and crash safety with a real writer process killed mid-claim.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { Proc, poll, startEtcd, type EtcdServer } from '@tabby/testkit';
import type { BlockAffinity, IPAMBlock } from '@tabby/api';
import type { Datastore } from '@tabby/datastore';
import { Ipam } from '@tabby/ipam';
import { createEtcdDatastore } from './ds.js';
import { invariantProblems, node, pool } from './helpers.js';
import { runWorkload, seedCluster, verify } from './workload.js';

let etcd: EtcdServer;
const stores: Datastore[] = [];
let n = 0;

function store(prefix: string): Datastore {
  const s = createEtcdDatastore({ endpoints: etcd.endpoint, prefix });
  stores.push(s);
  return s;
}

beforeAll(async () => {
  etcd = await startEtcd();
});

afterAll(async () => {
  await Promise.all(stores.map((s) => s.close()));
  await etcd?.stop();
});

describe('IPAM on etcd', () => {
  it('16 concurrent allocators on 4 nodes, 2000 operations, gc releasing empty blocks meanwhile: no duplicate, no loss, blocks agree', async () => {
    const prefix = `/ipam-prop-${process.pid}-${++n}/`;
    const admin = store(prefix);
    await seedCluster(admin, 4);
    const clients = Array.from({ length: 16 }, () => store(prefix));
    const r = await runWorkload({ allocators: 16, nodes: 4, ops: 2000, seed: 7, datastore: (i) => clients[i]!, gcLoop: true });
    expect(r.allocations).toBeGreaterThan(600);
    const sum = (k: 'conflicts' | 'retries' | 'claims') => r.stats.reduce((x, st) => x + st[k], 0);
    console.log(JSON.stringify({ etcd: true, gcReleasedBlocks: r.gcReleasedBlocks, allocations: r.allocations, releases: r.releases, exhausted: r.exhausted, conflicts: sum('conflicts'), retries: sum('retries'), claims: sum('claims') }));
    await verify(admin, r);
  });

  it('16 request streams on 4 nodes through one Ipam per node (coalesced into txns), 1500 operations, gc meanwhile: no duplicate, no loss', async () => {
    const prefix = `/ipam-coalesce-${process.pid}-${++n}/`;
    const admin = store(prefix);
    await seedCluster(admin, 4);
    const clients = Array.from({ length: 4 }, () => store(prefix));
    const r = await runWorkload({ allocators: 16, nodes: 4, ops: 1500, seed: 11, datastore: (i) => clients[i % 4]!, sharedPerNode: true, gcLoop: true });
    expect(r.allocations).toBeGreaterThan(500);
    await verify(admin, r);
  });

  const child = fileURLToPath(new URL('./fixtures/claim-child.ts', import.meta.url));
  for (const haltAfter of ['BlockAffinity', 'IPAMBlock'] as const) {
    it(`a writer killed after its ${haltAfter} write leaves no shared block, and the next claim recovers`, async () => {
      const prefix = `/ipam-kill-${process.pid}-${++n}/`;
      const ds = store(prefix);
      await ds.create(pool('p', '10.0.0.0/24'));
      for (const nn of ['n1', 'n2']) await ds.create(node(nn));
      const X = '10.0.0.64/26';
      const proc = new Proc(process.execPath, ['--import', 'tsx', child, etcd.endpoint, prefix, 'n1', X, haltAfter]);
      try {
        await poll(() => proc.output.includes('HALTED') || (!proc.running && Promise.reject(new Error(proc.output))), { timeout: 30_000, what: 'the child to halt mid-claim' });
      } finally {
        await proc.kill();
      }
      const blocks = (await ds.list<IPAMBlock>({ kind: 'IPAMBlock' })).items;
      const affs = (await ds.list<BlockAffinity>({ kind: 'BlockAffinity' })).items;
      expect(affs.map((a) => [a.spec.node, a.spec.state])).toEqual([['n1', 'pending']]);
      expect(blocks.map((b) => b.spec.affinity)).toEqual(haltAfter === 'IPAMBlock' ? ['host:n1'] : []);
      const ipam = new Ipam({ datastore: ds }, { pendingTimeoutMs: 60_000 });
      expect(await ipam.blocksForNode('n1')).toEqual([]);
      // Another node asks for the same block, and n1 restarts and allocates; then the invariants.
      const other = await ipam.claimAffinity('n2', X).then(() => 'claimed', (e: unknown) => (e as { code?: string }).code);
      expect(other).toBe(haltAfter === 'IPAMBlock' ? 'BlockOwnedByOtherNode' : 'claimed');
      const r = await ipam.autoAssign({ handle: 'after-restart', node: 'n1', num4: 1 });
      expect(r.ipv4).toHaveLength(1);
      expect((await ipam.blocksForNode('n1')).includes(X)).toBe(haltAfter === 'IPAMBlock');
      expect(await invariantProblems(ds)).toEqual([]);
      const states = (await ds.list<BlockAffinity>({ kind: 'BlockAffinity' })).items.map((a) => a.spec.state);
      expect(states.every((s) => s === 'confirmed')).toBe(true);
    });
  }
});
