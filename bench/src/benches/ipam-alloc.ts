/**
 * ipam-alloc: IPAM allocation against a real etcd (unix socket, temporary directory).
 * 1. one node allocating sequentially: allocations/s and per-allocation latency;
 * 2. 8 nodes allocating at once (each its own Ipam and etcd client): aggregate allocations/s,
 *    p50/p99 latency of one allocation, compare-and-swap conflicts and retries; once with the
 *    defaults (pools, config and node read on every request) and once with the watch-fed
 *    caches started (`Ipam.start()`).
 * 3. 8 allocators on a single node (all writing the same blocks): the contention worst case;
 *    then the same 8 request streams through one Ipam, whose per-node queue avoids the races.
 * Each line carries the 1-minute load average: the machine is shared, so compare with care.
 * Args: [perNode=150] [single=300]. Cleans up etcd and its directory.
 */
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { API_VERSION, type IPPool, type Node } from '@tabby/api';
import { createEtcdDatastore, type Datastore } from '@tabby/datastore';
import { Ipam, type IpamInit } from '@tabby/ipam';
import { startEtcd } from '@tabby/testkit';
import { emit, median, percentile, type Bench } from '../emit.js';

const BENCH = 'ipam-alloc';

function pool(): IPPool {
  return {
    apiVersion: API_VERSION,
    kind: 'IPPool',
    metadata: { name: 'bench-pool' },
    spec: {
      cidr: '10.0.0.0/16', blockSize: 26, ipipMode: 'Never', vxlanMode: 'Never', natOutgoing: false,
      disabled: false, disableBGPExport: false, nodeSelector: 'all()', allowedUses: ['Workload', 'Tunnel'],
    },
  };
}

function node(name: string): Node {
  return { apiVersion: API_VERSION, kind: 'Node', metadata: { name }, spec: {} };
}

/** Allocates `count` single addresses on `nodeName`, returning each allocation's latency in ms. */
async function allocate(ipam: Ipam, nodeName: string, count: number, tag = nodeName): Promise<number[]> {
  const lat: number[] = [];
  for (let i = 0; i < count; i++) {
    const t0 = performance.now();
    await ipam.autoAssign({ handle: `bench.${tag}-${i}`, node: nodeName, num4: 1, attrs: { namespace: 'bench', pod: `p${i}` } });
    lat.push(performance.now() - t0);
  }
  return lat;
}

async function single(endpoint: string, count: number, stores: Datastore[]): Promise<void> {
  const ds = createEtcdDatastore({ endpoints: endpoint, prefix: '/bench-single/' });
  stores.push(ds);
  await ds.create(pool());
  await ds.create(node('node-0'));
  const ipam = new Ipam({ datastore: ds });
  await allocate(ipam, 'node-0', 10); // warm-up: first block claim, connections
  const t0 = performance.now();
  const lat = await allocate(ipam, 'node-0', count);
  const secs = (performance.now() - t0) / 1000;
  const base = { bench: BENCH, nodes: 1, allocations: count, loadavg1: +loadavg()[0]!.toFixed(1) };
  emit({ ...base, metric: 'allocations_per_second', value: +(count / secs).toFixed(1), unit: 'alloc/s' });
  emit({ ...base, metric: 'latency_p50', value: +median(lat).toFixed(2), unit: 'ms' });
  emit({ ...base, metric: 'latency_p99', value: +percentile(lat, 99).toFixed(2), unit: 'ms' });
  emit({ ...base, metric: 'block_claims', value: ipam.stats.claims, unit: 'count' });
  await ipam.idle();
}

/** One concurrent run: `allocators` Ipams (own etcd client each) spread over `nodes` nodes. */
interface Run {
  nodes: number;
  allocators: number;
  perAllocator: number;
  init: IpamInit;
  label: string;
  /** Start the watch-fed caches of pools, config and nodes. */
  cached?: boolean;
  /** One Ipam (one process, e.g. the node agent) serves all the allocators' requests. */
  shared?: boolean;
}

async function concurrent(endpoint: string, run: Run, stores: Datastore[]): Promise<void> {
  const prefix = `/bench-${run.label}/`;
  const admin = createEtcdDatastore({ endpoints: endpoint, prefix });
  stores.push(admin);
  await admin.create(pool());
  for (let i = 0; i < run.nodes; i++) await admin.create(node(`node-${i}`));
  const ipams: Ipam[] = [];
  for (let i = 0; i < run.allocators; i++) {
    if (run.shared && i > 0) {
      ipams.push(ipams[0]!);
      continue;
    }
    const ds = createEtcdDatastore({ endpoints: endpoint, prefix });
    stores.push(ds);
    ipams.push(new Ipam({ datastore: ds }, run.init));
  }
  const nodeOf = (i: number): string => `node-${i % run.nodes}`;
  if (run.cached) await Promise.all([...new Set(ipams)].map((ipam) => ipam.start()));
  await Promise.all(ipams.map((ipam, i) => ipam.blocksForNode(nodeOf(i)))); // open connections
  const t0 = performance.now();
  const lats = await Promise.all(ipams.map((ipam, i) => allocate(ipam, nodeOf(i), run.perAllocator, `a${i}`)));
  const secs = (performance.now() - t0) / 1000;
  const lat = lats.flat();
  await Promise.all([...new Set(ipams)].map((ipam) => ipam.stop()));
  const sum = (k: 'conflicts' | 'retries' | 'claims') => [...new Set(ipams)].reduce((x, ipam) => x + ipam.stats[k], 0);
  const base = {
    bench: BENCH, run: run.label, nodes: run.nodes, allocators: run.allocators, allocations: lat.length,
    cached: run.cached ?? false, shared: run.shared ?? false, loadavg1: +loadavg()[0]!.toFixed(1),
  };
  emit({ ...base, metric: 'allocations_per_second', value: +(lat.length / secs).toFixed(1), unit: 'alloc/s' });
  emit({ ...base, metric: 'latency_p50', value: +median(lat).toFixed(2), unit: 'ms' });
  emit({ ...base, metric: 'latency_p99', value: +percentile(lat, 99).toFixed(2), unit: 'ms', target: 20 });
  emit({ ...base, metric: 'latency_max', value: +Math.max(...lat).toFixed(2), unit: 'ms' });
  emit({ ...base, metric: 'conflicts', value: sum('conflicts'), unit: 'count' });
  emit({ ...base, metric: 'retries', value: sum('retries'), unit: 'count' });
  emit({ ...base, metric: 'block_claims', value: sum('claims'), unit: 'count' });
}

const bench: Bench = {
  description: 'IPAM allocations/s and p99 latency against etcd: one node, then 8 nodes at once (conflicts, retries)',
  async run(args: string[]): Promise<void> {
    const perNode = Number(args[0] ?? 150);
    const count = Number(args[1] ?? 300);
    const etcd = await startEtcd();
    const stores: Datastore[] = [];
    try {
      await single(etcd.endpoint, count, stores);
      await concurrent(etcd.endpoint, { label: '8-nodes', nodes: 8, allocators: 8, perAllocator: perNode, init: {} }, stores);
      await concurrent(etcd.endpoint, { label: '8-nodes-cached', nodes: 8, allocators: 8, perAllocator: perNode, init: {}, cached: true }, stores);
      // Worst case for contention: 8 allocators on one node, all writing the same block.
      await concurrent(etcd.endpoint, { label: '1-node-8-allocators', nodes: 1, allocators: 8, perAllocator: perNode, init: {} }, stores);
      // The same load through one Ipam (the node agent): its per-node queue removes the races.
      await concurrent(etcd.endpoint, { label: '1-node-8-streams-one-ipam', nodes: 1, allocators: 8, perAllocator: perNode, init: {}, shared: true }, stores);
    } finally {
      await Promise.all(stores.map((s) => s.close()));
      await etcd.stop();
    }
  },
};

export default bench;
