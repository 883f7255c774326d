/**
 * datastore-etcd: the etcd backend against a real etcd (started here on a unix socket, stopped
 * at the end): creates/s (1 and 32 in flight), compare-and-swap updates/s on one key with 1
 * and 8 read-modify-write writers (conflicts counted), list of 10,000 objects (ms), and watch
 * latency from a write's start to its event (p50/p99). `--quick` shrinks every count by 10x.
 */
import { performance } from 'node:perf_hooks';
import type { Resource } from '@tabby/api';
import { createEtcdDatastore, isDatastoreError, type Datastore, type EtcdDatastore } from '@tabby/datastore';
import { startEtcd } from '@tabby/testkit';
import { emit, median, percentile, type Bench } from '../emit.js';

const BENCH = 'datastore-etcd';

const pool = (name: string, i: number): Resource => ({
  apiVersion: 'tabby.dev/v1',
  kind: 'IPPool',
  metadata: { name, labels: { bench: 'yes' } },
  spec: { cidr: `10.${(i >> 8) & 255}.${i & 255}.0/24`, blockSize: 26, ipipMode: 'Never', vxlanMode: 'Never', natOutgoing: true },
});

/** Runs `fn(i)` for i in [0, n) with `inFlight` concurrent calls. */
async function parallel(n: number, inFlight: number, fn: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < n) await fn(next++);
  };
  await Promise.all(Array.from({ length: Math.min(inFlight, n) }, worker));
}

async function benchCreates(ds: Datastore, n: number): Promise<void> {
  for (const inFlight of [1, 32]) {
    const t0 = performance.now();
    await parallel(n, inFlight, async (i) => {
      await ds.create({ ...pool(`c${inFlight}-${i}`, i), kind: 'BGPPeer' });
    });
    const s = (performance.now() - t0) / 1000;
    emit({ bench: BENCH, metric: 'creates_per_s', value: Math.round(n / s), unit: 'ops/s', inFlight, n });
  }
}

async function benchCas(ds: Datastore, total: number): Promise<void> {
  for (const writers of [1, 8]) {
    const name = `ctr-${writers}`;
    await ds.create({ apiVersion: 'tabby.dev/v1', kind: 'IPAMHandle', metadata: { name }, spec: { count: 0 } });
    let claimed = 0;
    let successes = 0;
    let conflicts = 0;
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: writers }, async () => {
        // Each writer claims one increment, then retries it until its CAS succeeds.
        while (claimed < total) {
          claimed++;
          for (;;) {
            const cur = await ds.get<Resource<string, { count: number }>>({ kind: 'IPAMHandle', name });
            try {
              await ds.update({ ...cur, spec: { count: cur.spec.count + 1 } });
              successes++;
              break;
            } catch (e: unknown) {
              if (!isDatastoreError(e, 'Conflict')) throw e;
              conflicts++;
            }
          }
        }
      }),
    );
    const s = (performance.now() - t0) / 1000;
    const final = await ds.get<Resource<string, { count: number }>>({ kind: 'IPAMHandle', name });
    emit({
      bench: BENCH, metric: 'cas_updates_per_s', value: Math.round(successes / s), unit: 'ops/s',
      writers, successes, conflicts, retriesPerUpdate: +(conflicts / successes).toFixed(3), finalCount: final.spec.count,
    });
  }
}

async function benchList(ds: Datastore, n: number): Promise<void> {
  await parallel(n, 64, async (i) => {
    await ds.create(pool(`p${String(i).padStart(5, '0')}`, i));
  });
  const times: number[] = [];
  let count = 0;
  for (let r = 0; r < 5; r++) {
    const t0 = performance.now();
    count = (await ds.list({ kind: 'IPPool' })).items.length;
    times.push(performance.now() - t0);
  }
  emit({ bench: BENCH, metric: 'list_ms', value: +median(times).toFixed(1), unit: 'ms', objects: count, runs: times.length, min: +Math.min(...times).toFixed(1) });
}

async function benchWatch(ds: Datastore, n: number): Promise<void> {
  const ac = new AbortController();
  const { revision } = await ds.list({ kind: 'Profile' });
  const it = ds.watch({ kind: 'Profile', revision, signal: ac.signal })[Symbol.asyncIterator]();
  const lat: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const write = ds.create({ apiVersion: 'tabby.dev/v1', kind: 'Profile', metadata: { name: `w${i}` }, spec: {} });
    for (;;) {
      const r = await it.next();
      if (r.done) throw new Error('watch ended');
      if (r.value.type === 'added') break;
    }
    lat.push(performance.now() - t0);
    await write;
  }
  ac.abort();
  emit({ bench: BENCH, metric: 'watch_latency_p50', value: +percentile(lat, 50).toFixed(2), unit: 'ms', events: n });
  emit({ bench: BENCH, metric: 'watch_latency_p99', value: +percentile(lat, 99).toFixed(2), unit: 'ms', events: n });
}

const bench: Bench = {
  description: 'etcd backend: creates/s, CAS updates/s (1 and 8 writers), list of 10,000 (ms), watch latency p50/p99',
  async run(args) {
    const scale = args.includes('--quick') ? 10 : 1;
    const etcd = await startEtcd();
    let ds: EtcdDatastore | undefined;
    try {
      ds = createEtcdDatastore({ endpoints: etcd.endpoint });
      await benchCreates(ds, 2000 / scale);
      await benchCas(ds, 1000 / scale);
      await benchList(ds, 10_000 / scale);
      await benchWatch(ds, 1000 / scale);
    } finally {
      await ds?.close();
      await etcd.stop();
    }
  },
};

export default bench;
