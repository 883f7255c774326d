/**
 * The floor under `ipam-alloc`'s headline, measured in the same run on the same etcd: what the
 * allocations cost at least. Each of N processes (as many as the headline's node processes)
 * runs compare-and-swap transactions of a block-sized value on a key of its own — the write
 * one allocation needs, without anything IPAM does around it. Also what the headline wrote:
 * etcd revisions and bytes (keys + values, as the watch history shows them) per allocation.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { createEtcdClient } from '@tabby/datastore';

type Etcd3 = ReturnType<typeof createEtcdClient>;

/** The job of one floor worker process. */
export interface FloorJob {
  endpoint: string;
  key: string;
  count: number;
  valueBytes: number;
}

type FromFloor = { type: 'ready' } | { type: 'done'; lat: number[] } | { type: 'error'; message: string };

/** The same client configuration as the datastore's. */
function client(endpoint: string): Etcd3 {
  return createEtcdClient(endpoint);
}

/** One CAS txn of `value` on `key` at `rev`; returns the new revision. */
async function casPut(c: Etcd3, key: Buffer, value: Buffer, rev: string): Promise<string> {
  const res = await c.kv.txn({
    compare: [{ key, target: 'Mod', result: 'Equal', mod_revision: rev }],
    success: [{ request_put: { key, value } }],
    failure: [{ request_range: { key } }],
  });
  if (!res.succeeded) throw new Error(`floor key ${key.toString()} changed under its only writer`);
  return res.header.revision;
}

/** Child side: warm up, say ready, wait for `go`, run `count` txns, send their latencies. */
export async function floorWorker(job: FloorJob): Promise<void> {
  const send = (m: FromFloor): void => void process.send!(m);
  const c = client(job.endpoint);
  const key = Buffer.from(job.key);
  try {
    const go = new Promise<void>((resolve) => process.once('message', () => resolve()));
    const value = Buffer.alloc(job.valueBytes, 'x');
    let rev = (await c.put(key).value(value).exec()).header.revision;
    for (let i = 0; i < 16; i++) rev = await casPut(c, key, value, rev); // connection, JIT
    send({ type: 'ready' });
    await go;
    const lat: number[] = [];
    for (let i = 0; i < job.count; i++) {
      const t0 = performance.now();
      rev = await casPut(c, key, value, rev);
      lat.push(performance.now() - t0);
    }
    send({ type: 'done', lat });
  } catch (e: unknown) {
    send({ type: 'error', message: e instanceof Error ? e.message : String(e) });
  } finally {
    c.close();
    process.disconnect();
  }
}

function next(child: ChildProcess): Promise<FromFloor> {
  return new Promise((resolve, reject) => {
    const onExit = (code: number | null): void => reject(new Error(`floor worker ${child.pid} exited (${code}) before answering`));
    child.once('exit', onExit);
    child.once('message', (m: FromFloor) => {
      child.off('exit', onExit);
      if (m.type === 'error') reject(new Error(`floor worker ${child.pid}: ${m.message}`));
      else resolve(m);
    });
  });
}

/** Runs the floor: `processes` children (this file's bench with `--floor-worker`), all started together. */
export async function runFloor(bench: string, endpoint: string, processes: number, count: number, valueBytes: number): Promise<number[]> {
  const children: ChildProcess[] = [];
  try {
    for (let i = 0; i < processes; i++) {
      const job: FloorJob = { endpoint, key: `/bench-floor-${process.pid}/${i}`, count, valueBytes };
      children.push(fork(process.argv[1]!, [bench, '--floor-worker', JSON.stringify(job)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
    }
    await Promise.all(children.map(next));
    const done = children.map(next);
    for (const c of children) c.send('go');
    const results = await Promise.all(done);
    return results.flatMap((r) => (r.type === 'done' ? r.lat : []));
  } finally {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill();
  }
}

/** The current revision of the store. */
export async function currentRevision(endpoint: string): Promise<string> {
  const c = client(endpoint);
  try {
    return (await c.kv.range({ key: Buffer.from('/bench-revision-probe') })).header.revision;
  } finally {
    c.close();
  }
}

/** What was written between two revisions (exclusive, inclusive): revisions, bytes, and the median block value size. */
export interface Written {
  revisions: number;
  bytes: number;
  blockValueBytes: number;
}

/** Reads the history `(from, to]` under `prefix` back through a watch and sums it up. */
export async function written(endpoint: string, prefix: string, from: string, to: string): Promise<Written> {
  const c = client(endpoint);
  const revs = new Set<string>();
  const blockSizes: number[] = [];
  let bytes = 0;
  try {
    const end = BigInt(to);
    if (end <= BigInt(from)) return { revisions: 0, bytes: 0, blockValueBytes: 0 };
    const w = await c.watch().prefix(prefix).startRevision((BigInt(from) + 1n).toString()).create();
    await new Promise<void>((resolve, reject) => {
      // Done at the event of revision `to`; or when the history falls quiet (`to` was not under the prefix).
      let quiet = setTimeout(resolve, 2000);
      w.on('error', reject);
      w.on('data', (res) => {
        clearTimeout(quiet);
        quiet = setTimeout(resolve, 2000);
        for (const ev of res.events) {
          revs.add(ev.kv.mod_revision);
          bytes += ev.kv.key.length + ev.kv.value.length;
          if (ev.type === 'Put' && ev.kv.key.toString().includes('/IPAMBlock/')) blockSizes.push(ev.kv.value.length);
          if (BigInt(ev.kv.mod_revision) >= end) {
            clearTimeout(quiet);
            resolve();
          }
        }
      });
    });
    await w.cancel();
  } finally {
    c.close();
  }
  blockSizes.sort((a, b) => a - b);
  return { revisions: revs.size, bytes, blockValueBytes: blockSizes[blockSizes.length >> 1] ?? 0 };
}
