/**
 * The concurrency workload shared by the memory and etcd property tests: N allocators (each its
 * own `Ipam`, as separate processes would be) on several simulated nodes allocate and release
 * at random, concurrently, while the test records what each was told. `verify` then checks the
 * issue's invariants against the datastore.
 */
import { expect } from 'vitest';
import { canonicalIp, cidrContains, isTabbyError } from '@tabby/api';
import type { Datastore } from '@tabby/datastore';
import { affinityNode, allocationsOf, Ipam, type IpamStats } from '@tabby/ipam';
import { invariantProblems, node, pool, seeded, state } from './helpers.js';
import type { IPAMBlock } from '@tabby/api';

/** Parameters of a run. */
export interface WorkloadOptions {
  allocators: number;
  nodes: number;
  ops: number;
  seed: number;
  /** Datastore per allocator (e.g. one etcd client each); called with the allocator index. */
  datastore: (i: number) => Datastore;
  /** Also run gc in a loop meanwhile, releasing empty blocks at once (races block release with allocation). */
  gcLoop?: boolean;
  /** Allocators of one node share one Ipam (as in the node agent), so their requests are coalesced. */
  sharedPerNode?: boolean;
}

/** What the allocators were told: live handle → node and addresses. */
export interface WorkloadResult {
  told: Map<string, { node: string; ips: string[] }>;
  stats: IpamStats[];
  allocations: number;
  releases: number;
  exhausted: number;
  /** Empty blocks the gc loop released while allocators ran. */
  gcReleasedBlocks: number;
}

/** Seeds pools (a tight IPv4 pool with small blocks, an IPv6 pool) and nodes. */
export async function seedCluster(ds: Datastore, nodes: number, opts: { v4?: string; strictAffinity?: boolean; maxBlocksPerHost?: number } = {}): Promise<void> {
  await ds.create(pool('v4', opts.v4 ?? '10.0.0.0/22', { blockSize: 28 }));
  await ds.create(pool('v6', 'fd00:1::/112', { blockSize: 124 }));
  const spec = { strictAffinity: opts.strictAffinity ?? false, maxBlocksPerHost: opts.maxBlocksPerHost ?? 12, autoAllocateBlocks: true };
  await ds.create({ apiVersion: 'tabby.dev/v1', kind: 'IPAMConfiguration', metadata: { name: 'default' }, spec });
  for (let n = 0; n < nodes; n++) await ds.create(node(`node-${n}`));
}

/** Runs the workload; every operation's outcome is recorded in the result. */
export async function runWorkload(o: WorkloadOptions): Promise<WorkloadResult> {
  const told = new Map<string, { node: string; ips: string[] }>();
  const res: WorkloadResult = { told, stats: [], allocations: 0, releases: 0, exhausted: 0, gcReleasedBlocks: 0 };
  let seq = 0;
  let remaining = o.ops;
  const shared = new Map<number, Ipam>();
  const workers = Array.from({ length: o.allocators }, async (_, i) => {
    const rnd = seeded(o.seed * 1000 + i);
    const make = (): Ipam => new Ipam({ datastore: o.datastore(i), random: rnd }, { backoffBaseMs: 1, backoffMaxMs: 20, maxRetries: 30 });
    let ipam: Ipam;
    if (o.sharedPerNode) {
      ipam = shared.get(i % o.nodes) ?? make();
      shared.set(i % o.nodes, ipam);
    } else ipam = make();
    const nodeName = `node-${i % o.nodes}`;
    const mine: string[] = [];
    while (remaining-- > 0) {
      const r = rnd();
      if (mine.length === 0 || r < 0.55) {
        const handle = `net.${i}-${seq++}`;
        const dual = rnd() < 0.2;
        try {
          const got = await ipam.autoAssign({ handle, node: nodeName, num4: 1, num6: dual ? 1 : 0, attrs: { namespace: 'ns', pod: handle } });
          told.set(handle, { node: nodeName, ips: [...got.ipv4, ...got.ipv6] });
          mine.push(handle);
          res.allocations++;
        } catch (e: unknown) {
          if (!isTabbyError(e, 'PoolExhausted')) throw e;
          res.exhausted++;
        }
      } else {
        const k = Math.floor(rnd() * mine.length);
        const handle = mine.splice(k, 1)[0]!;
        const ips = told.get(handle)!.ips;
        if (rnd() < 0.5) await ipam.releaseByHandle(handle);
        else await ipam.releaseIps(ips, { handle });
        told.delete(handle);
        if (rnd() < 0.1) await ipam.releaseByHandle(handle); // releasing twice is harmless
        res.releases++;
      }
    }
    await ipam.idle();
    if (!res.stats.includes(ipam.stats)) res.stats.push(ipam.stats);
  });
  let done = false;
  const gcRuns = async (): Promise<void> => {
    const gc = new Ipam({ datastore: o.datastore(0), random: seeded(o.seed) }, { emptyBlockGraceMs: 0, claimAhead: false });
    while (!done) {
      // Live = everything told so far; the default leak grace (15 min) protects allocations in flight.
      const live = [...told.entries()].map(([handle, t]) => ({ handle, ips: t.ips }));
      const r = await gc.gc({ live });
      res.gcReleasedBlocks += r.releasedBlocks.length;
      expect(r.releasedIps).toEqual([]);
      await new Promise((resolve) => setImmediate(resolve));
    }
  };
  const gcDone = o.gcLoop ? gcRuns() : Promise.resolve();
  try {
    await Promise.all(workers);
  } finally {
    done = true;
    await gcDone;
  }
  return res;
}

/** Checks the invariants after a run. */
export async function verify(ds: Datastore, r: WorkloadResult): Promise<void> {
  expect(await invariantProblems(ds)).toEqual([]);
  const s = await state(ds);
  const held = new Map<string, { handle: string | undefined; node: string | undefined; block: IPAMBlock }>();
  for (const b of s.blocks) for (const a of allocationsOf(b)) held.set(a.ip, { handle: a.handle, node: a.node, block: b });
  const expected = new Map<string, string>();
  for (const [handle, t] of r.told) for (const ip of t.ips) {
    expect(expected.has(canonicalIp(ip)), `${ip} told to two handles`).toBe(false);
    expected.set(canonicalIp(ip), handle);
  }
  // The datastore's blocks agree with what the allocators were told, both ways.
  expect(held.size).toBe(expected.size);
  for (const [ip, handle] of expected) {
    const h = held.get(ip);
    expect(h?.handle, `${ip}`).toBe(handle);
    const t = r.told.get(handle)!;
    expect(h!.node).toBe(t.node);
    expect(cidrContains(h!.block.spec.cidr, ip)).toBe(true);
    // In its node's block, or borrowed from a block that allows borrowing.
    if (affinityNode(h!.block.spec.affinity) !== t.node) expect(h!.block.spec.strictAffinity).toBe(false);
  }
  // Every confirmed affinity's block names its node; no block is affine to two nodes.
  for (const a of s.affinities.filter((x) => x.spec.state === 'confirmed')) {
    const b = s.blocks.find((x) => x.spec.cidr === a.spec.cidr);
    expect(affinityNode(b?.spec.affinity), `affinity ${a.metadata.name}`).toBe(a.spec.node);
  }
}
