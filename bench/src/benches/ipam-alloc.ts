/**
 * ipam-alloc: IPAM allocation against a real etcd (unix socket, temporary directory).
 * 1. one node allocating sequentially: allocations/s and per-allocation latency;
 * 2. headline — 8 nodes allocating at once, each node's Ipam in its own process (a child
 *    running this file with `--worker`), with the watch-fed caches started, as tabby-node runs:
 *    aggregate allocations/s, p50/p99/max latency of one allocation, conflicts and retries;
 *    the same without caches (pools, config and node read on every request, as Calico does);
 * 3. in-process variants (all 8 Ipams on one event loop, labelled `in-process`), cached and not;
 * 4. 8 allocators on a single node (all writing the same blocks): the contention worst case;
 *    then the same 8 request streams through one Ipam (its per-node queue coalesces them).
 * 5. the floor (ipam-alloc-floor.ts), right after the headline on the same etcd: as many
 *    processes running compare-and-swap txns of a block-sized value; the headline's p99 as a
 *    ratio to the floor's (goal <= 1.3), and the headline's etcd revisions and bytes per allocation.
 * Every allocator first warms up (allocates and releases a few addresses: connection, JIT,
 * the node's first block), then all start together. Each line carries the 1-minute load average: the machine is shared, so compare with care.
 * Args: [perNode=150] [single=300] [--runs N: repeat the headline runs] [--quick: 60/100, no
 * contention runs]. Cleans up etcd, its directory and every child process.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { API_VERSION, type IPPool, type Node } from '@tabby/api';
import { createEtcdDatastore, type Datastore } from '@tabby/datastore';
import { Ipam, type IpamInit, type IpamStats } from '@tabby/ipam';
import { startEtcd } from '@tabby/testkit';
import { emit, median, percentile, type Bench } from '../emit.js';
import { currentRevision, floorWorker, runFloor, written, type FloorJob } from './ipam-alloc-floor.js';

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

const WARMUP = 16;

/**
 * Warm-up before measuring: allocates and releases `WARMUP` addresses on `nodeName`, which
 * opens the connection, lets the JIT compile the allocation path (each worker process starts
 * cold) and claims the node's first block, as on a node that has been running.
 */
async function warmUp(ipam: Ipam, nodeName: string, tag: string): Promise<void> {
  await allocate(ipam, nodeName, WARMUP, `warm-${tag}`);
  for (let i = 0; i < WARMUP; i++) await ipam.releaseByHandle(`bench.warm-${tag}-${i}`);
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
  /** Each allocator's Ipam in its own child process (its own event loop), as tabby-node runs. */
  processes?: boolean;
}

/** What one run measured. */
interface Outcome {
  lat: number[];
  secs: number;
  stats: Pick<IpamStats, 'conflicts' | 'retries' | 'claims'>;
}

function report(run: Run, o: Outcome, repeat: number): void {
  const { lat } = o;
  const base = {
    bench: BENCH, run: run.label, nodes: run.nodes, allocators: run.allocators, allocations: lat.length,
    processes: run.processes ?? false, cached: run.cached ?? false, shared: run.shared ?? false, repeat, loadavg1: +loadavg()[0]!.toFixed(1),
  };
  emit({ ...base, metric: 'allocations_per_second', value: +(lat.length / o.secs).toFixed(1), unit: 'alloc/s' });
  emit({ ...base, metric: 'latency_p50', value: +median(lat).toFixed(2), unit: 'ms' });
  emit({ ...base, metric: 'latency_p99', value: +percentile(lat, 99).toFixed(2), unit: 'ms', target: 20 });
  emit({ ...base, metric: 'latency_max', value: +Math.max(...lat).toFixed(2), unit: 'ms' });
  emit({ ...base, metric: 'conflicts', value: o.stats.conflicts, unit: 'count' });
  emit({ ...base, metric: 'retries', value: o.stats.retries, unit: 'count' });
  emit({ ...base, metric: 'block_claims', value: o.stats.claims, unit: 'count' });
}

async function seed(endpoint: string, prefix: string, nodes: number, stores: Datastore[]): Promise<void> {
  const admin = createEtcdDatastore({ endpoints: endpoint, prefix });
  stores.push(admin);
  await admin.create(pool());
  for (let i = 0; i < nodes; i++) await admin.create(node(`node-${i}`));
}

async function inProcess(endpoint: string, run: Run, prefix: string, stores: Datastore[]): Promise<Outcome> {
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
  const distinct = [...new Set(ipams)];
  if (run.cached) await Promise.all(distinct.map((ipam) => ipam.start()));
  await Promise.all(ipams.map((ipam, i) => warmUp(ipam, nodeOf(i), `a${i}`)));
  const t0 = performance.now();
  const lats = await Promise.all(ipams.map((ipam, i) => allocate(ipam, nodeOf(i), run.perAllocator, `a${i}`)));
  const secs = (performance.now() - t0) / 1000;
  await Promise.all(distinct.map((ipam) => ipam.stop()));
  const sum = (k: 'conflicts' | 'retries' | 'claims'): number => distinct.reduce((x, ipam) => x + ipam.stats[k], 0);
  return { lat: lats.flat(), secs, stats: { conflicts: sum('conflicts'), retries: sum('retries'), claims: sum('claims') } };
}

/** The job of one worker process. */
interface WorkerJob {
  endpoint: string;
  prefix: string;
  node: string;
  count: number;
  tag: string;
  cached: boolean;
  init: IpamInit;
}

type FromWorker = { type: 'ready' } | { type: 'done'; lat: number[]; stats: Outcome['stats'] } | { type: 'error'; message: string };

/** Child side: prepare, say ready, wait for `go`, allocate, send the latencies. */
async function worker(job: WorkerJob): Promise<void> {
  const send = (m: FromWorker): void => void process.send!(m);
  const ds = createEtcdDatastore({ endpoints: job.endpoint, prefix: job.prefix });
  const ipam = new Ipam({ datastore: ds }, job.init);
  try {
    const go = new Promise<void>((resolve) => process.once('message', () => resolve()));
    if (job.cached) await ipam.start();
    await warmUp(ipam, job.node, job.tag);
    send({ type: 'ready' });
    await go;
    const lat = await allocate(ipam, job.node, job.count, job.tag);
    await ipam.stop();
    const { conflicts, retries, claims } = ipam.stats;
    send({ type: 'done', lat, stats: { conflicts, retries, claims } });
  } catch (e: unknown) {
    send({ type: 'error', message: e instanceof Error ? e.message : String(e) });
  } finally {
    await ds.close();
    process.disconnect();
  }
}

function nextMessage(child: ChildProcess): Promise<FromWorker> {
  return new Promise((resolve, reject) => {
    const onExit = (code: number | null): void => reject(new Error(`worker ${child.pid} exited (${code}) before answering`));
    child.once('exit', onExit);
    child.once('message', (m: FromWorker) => {
      child.off('exit', onExit);
      if (m.type === 'error') reject(new Error(`worker ${child.pid}: ${m.message}`));
      else resolve(m);
    });
  });
}

/** Called right before the workers start and right after the last finished (e.g. to read etcd's revision). */
interface Hooks {
  beforeGo?: () => Promise<void>;
  afterDone?: () => Promise<void>;
}

async function multiProcess(endpoint: string, run: Run, prefix: string, hooks: Hooks = {}): Promise<Outcome> {
  const children: ChildProcess[] = [];
  try {
    for (let i = 0; i < run.allocators; i++) {
      const job: WorkerJob = { endpoint, prefix, node: `node-${i % run.nodes}`, count: run.perAllocator, tag: `a${i}`, cached: run.cached ?? false, init: run.init };
      children.push(fork(process.argv[1]!, [BENCH, '--worker', JSON.stringify(job)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
    }
    await Promise.all(children.map(nextMessage)); // every worker ready
    await hooks.beforeGo?.();
    const done = children.map(nextMessage);
    const t0 = performance.now();
    for (const c of children) c.send('go');
    const results = await Promise.all(done);
    const secs = (performance.now() - t0) / 1000;
    await hooks.afterDone?.();
    const sum = (k: 'conflicts' | 'retries' | 'claims'): number => results.reduce((x, r) => x + (r.type === 'done' ? r.stats[k] : 0), 0);
    return { lat: results.flatMap((r) => (r.type === 'done' ? r.lat : [])), secs, stats: { conflicts: sum('conflicts'), retries: sum('retries'), claims: sum('claims') } };
  } finally {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill();
  }
}

let runNo = 0;

async function concurrent(endpoint: string, run: Run, stores: Datastore[], repeat = 0): Promise<Outcome> {
  const prefix = `/bench-${run.label}-${++runNo}/`;
  await seed(endpoint, prefix, run.nodes, stores);
  const o = run.processes ? await multiProcess(endpoint, run, prefix) : await inProcess(endpoint, run, prefix, stores);
  report(run, o, repeat);
  return o;
}

/**
 * The headline (8 node processes, caches on) with what it wrote to etcd, then the floor on the
 * same etcd: as many processes writing block-sized values by compare-and-swap.
 */
async function headlineWithFloor(endpoint: string, run: Run, stores: Datastore[], repeat: number): Promise<void> {
  const prefix = `/bench-${run.label}-${++runNo}/`;
  await seed(endpoint, prefix, run.nodes, stores);
  let from = '0';
  let to = '0';
  const o = await multiProcess(endpoint, run, prefix, {
    beforeGo: async () => void (from = await currentRevision(endpoint)),
    afterDone: async () => void (to = await currentRevision(endpoint)),
  });
  report(run, o, repeat);
  const w = await written(endpoint, prefix, from, to);
  const floor = await runFloor(BENCH, endpoint, run.allocators, run.perAllocator, w.blockValueBytes || 8192);
  const p99 = percentile(o.lat, 99);
  const f99 = percentile(floor, 99);
  const base = { bench: BENCH, run: run.label, nodes: run.nodes, allocators: run.allocators, allocations: o.lat.length, repeat, loadavg1: +loadavg()[0]!.toFixed(1) };
  const floorBase = { ...base, run: 'floor-raw-etcd-cas', processes: run.allocators, valueBytes: w.blockValueBytes };
  emit({ ...floorBase, metric: 'latency_p50', value: +median(floor).toFixed(2), unit: 'ms' });
  emit({ ...floorBase, metric: 'latency_p99', value: +f99.toFixed(2), unit: 'ms' });
  emit({ ...base, metric: 'p99_ratio_to_floor', value: +(p99 / f99).toFixed(2), unit: 'x', target: 1.3 });
  emit({ ...base, metric: 'etcd_revisions_per_allocation', value: +(w.revisions / o.lat.length).toFixed(3), unit: 'revisions' });
  emit({ ...base, metric: 'etcd_bytes_per_allocation', value: Math.round(w.bytes / o.lat.length), unit: 'bytes' });
  emit({ ...base, metric: 'block_value_bytes_median', value: w.blockValueBytes, unit: 'bytes' });
}

function parseArgs(args: string[]): { perNode: number; count: number; runs: number; quick: boolean } {
  const pos: string[] = [];
  let runs = 1;
  let quick = false;
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--runs') runs = Number(args[++i]);
    else if (args[i] === '--quick') quick = true;
    else pos.push(args[i]!);
  }
  return { perNode: Number(pos[0] ?? (quick ? 60 : 150)), count: Number(pos[1] ?? (quick ? 100 : 300)), runs, quick };
}

const bench: Bench = {
  description: 'IPAM allocations/s and p99 latency against etcd: one node, then 8 nodes at once (own processes and in-process; conflicts, retries)',
  async run(args: string[]): Promise<void> {
    if (args[0] === '--worker') return worker(JSON.parse(args[1]!) as WorkerJob);
    if (args[0] === '--floor-worker') return floorWorker(JSON.parse(args[1]!) as FloorJob);
    const { perNode, count, runs, quick } = parseArgs(args);
    const etcd = await startEtcd();
    const stores: Datastore[] = [];
    const eight = { nodes: 8, allocators: 8, perAllocator: perNode, init: {} };
    try {
      await single(etcd.endpoint, count, stores);
      for (let r = 0; r < runs; r++) {
        await headlineWithFloor(etcd.endpoint, { ...eight, label: '8-nodes-processes-cached', processes: true, cached: true }, stores, r);
        await concurrent(etcd.endpoint, { ...eight, label: '8-nodes-processes', processes: true }, stores, r);
        await concurrent(etcd.endpoint, { ...eight, label: '8-nodes-in-process-cached', cached: true }, stores, r);
        await concurrent(etcd.endpoint, { ...eight, label: '8-nodes-in-process' }, stores, r);
      }
      if (quick) return;
      // Worst case for contention: 8 allocators on one node, all writing the same block.
      await concurrent(etcd.endpoint, { label: '1-node-8-allocators', nodes: 1, allocators: 8, perAllocator: perNode, init: {} }, stores);
      // The same load through one Ipam (the node agent): its per-node queue removes the races.
      await concurrent(etcd.endpoint, { label: '1-node-8-streams-one-ipam', nodes: 1, allocators: 8, perAllocator: perNode, init: {}, shared: true, cached: true }, stores);
    } finally {
      await Promise.all(stores.map((s) => s.close()));
      await etcd.stop();
    }
  },
};

export default bench;
