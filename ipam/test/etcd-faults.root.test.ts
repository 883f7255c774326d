/**
 * IPAM on a real etcd under faults (issue 13): compaction and restarts while the caches watch,
 * dual-stack allocation racing release-by-handle and a second allocator of the same handle,
 * an undo that fails during an outage, lists under compaction, nodes with skewed clocks, and
 * the smaller findings (claimed blocks left affine, tunnel addresses and pod-named live lists).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Etcd3 } from 'etcd3';
import { poll, startEtcd, type EtcdServer } from '@tabby/testkit';
import { isTabbyError, type IPAMBlock } from '@tabby/api';
import type { Datastore } from '@tabby/datastore';
import { allocationsOf, Ipam, type Clock } from '@tabby/ipam';
import { createEtcdDatastore } from './ds.js';
import { FaultyDatastore, invariantProblems, node, pool } from './helpers.js';

let etcd: EtcdServer;
const stores: Datastore[] = [];
let n = 0;

function store(prefix: string, pageSize?: number): Datastore {
  const s = createEtcdDatastore({ endpoints: etcd.endpoint, prefix, ...(pageSize ? { pageSize } : {}) });
  stores.push(s);
  return s;
}

async function cluster(opts: { v4?: string; v6?: string; blockSize4?: number; nodes?: string[]; config?: Record<string, unknown> } = {}): Promise<{ prefix: string; admin: Datastore }> {
  const prefix = `/ipam-faults-${process.pid}-${++n}/`;
  const admin = store(prefix);
  await admin.create(pool('v4', opts.v4 ?? '10.0.0.0/22', { blockSize: opts.blockSize4 ?? 28 }));
  if (opts.v6 !== '') await admin.create(pool('v6', opts.v6 ?? 'fd00:1::/112', { blockSize: 124 }));
  if (opts.config) await admin.create({ apiVersion: 'tabby.dev/v1', kind: 'IPAMConfiguration', metadata: { name: 'default' }, spec: opts.config });
  for (const nn of opts.nodes ?? ['n1', 'n2']) await admin.create(node(nn));
  return { prefix, admin };
}

/** A clock `offsetMs` away from the real one, advanced by `advance` (sleeps are real). */
function skewedClock(offsetMs: number): Clock & { advance(ms: number): void } {
  let off = offsetMs;
  return {
    now: () => Date.now() + off,
    sleep: (ms, signal) => new Promise<void>((resolve, reject) => {
      const t = setTimeout(resolve, ms);
      signal?.addEventListener('abort', () => { clearTimeout(t); reject(signal.reason); }, { once: true });
    }),
    advance: (ms) => { off += ms; },
  };
}

async function held(ds: Datastore, handle: string): Promise<string[]> {
  const blocks = (await ds.list<IPAMBlock>({ kind: 'IPAMBlock' })).items;
  return blocks.flatMap(allocationsOf).filter((a) => a.handle === handle).map((a) => a.ip).sort();
}

beforeAll(async () => {
  etcd = await startEtcd();
});

afterAll(async () => {
  await Promise.all(stores.map((s) => s.close()));
  await etcd?.stop();
});

describe('IPAM on etcd under faults', () => {
  it('keeps allocating (no outage, no client internals in errors) while compaction and restarts end the caches\' watches', async () => {
    const { prefix } = await cluster();
    const ipam = new Ipam({ datastore: store(prefix) });
    await ipam.start();
    const client = new Etcd3({ hosts: etcd.endpoint });
    const errors: string[] = [];
    try {
      let k = 0;
      for (let round = 0; round < 3; round++) {
        await etcd.kill();
        await etcd.restart();
        // History the caches' watches resume from is compacted away: all three end with `gone`.
        for (let i = 0; i < 3; i++) await client.put(`${prefix}churn`).value(String(i)).exec();
        await etcd.compact();
        // etcd is healthy again: from now on every allocation must succeed, also while the
        // caches' watches end and re-list (for a few seconds of allocations).
        const until = Date.now() + 3000;
        while (Date.now() < until) {
          const handle = `h${k++}`;
          await ipam.autoAssign({ handle, node: 'n1', num4: 1, num6: 1 })
            .then(() => ipam.releaseByHandle(handle))
            .catch((e: unknown) => errors.push(String(e)));
        }
      }
    } finally {
      client.close();
      await ipam.stop();
    }
    expect(errors).toEqual([]);
  });

  it('allocations from 4 processes all succeed while etcd is compacted and defragmented again and again', async () => {
    const { prefix, admin } = await cluster();
    const ipams = Array.from({ length: 4 }, () => new Ipam({ datastore: store(prefix) }));
    await Promise.all(ipams.map((i) => i.start()));
    let stop = false;
    const maintenance = (async () => {
      while (!stop) {
        await etcd.compact();
        await etcd.defrag();
      }
    })();
    const errors: string[] = [];
    try {
      await Promise.all(ipams.map(async (ipam, i) => {
        for (let k = 0; k < 40; k++) {
          const handle = `cd-${i}-${k}`;
          await ipam.autoAssign({ handle, node: i % 2 ? 'n1' : 'n2', num4: 1, num6: k % 3 === 0 ? 1 : 0 }).catch((e: unknown) => errors.push(String(e)));
          if (k % 2) await ipam.releaseByHandle(handle).catch((e: unknown) => errors.push(String(e)));
        }
      }));
    } finally {
      stop = true;
      await maintenance;
      await Promise.all(ipams.map((i) => i.stop()));
    }
    expect(errors).toEqual([]);
    expect((await new Ipam({ datastore: admin }).check([])).summary.allocated).toBe(4 * 20 + 4 * 7);
    expect(await invariantProblems(admin)).toEqual([]);
  });

  it('dual-stack allocation racing release-by-handle: both families or neither, always', async () => {
    const { prefix, admin } = await cluster();
    const a = new Ipam({ datastore: store(prefix) }, { claimAhead: false });
    const b = new Ipam({ datastore: store(prefix) }, { claimAhead: false });
    const broken: string[] = [];
    for (let i = 0; i < 40; i++) {
      const handle = `race-${i}`;
      let done = false;
      const alloc = a.autoAssign({ handle, node: 'n1', num4: 1, num6: 1 }).then(
        (r) => ({ ok: r }), (e: unknown) => ({ err: e })).finally(() => (done = true));
      const releaser = (async () => {
        while (!done) await b.releaseByHandle(handle);
      })();
      const [r] = await Promise.all([alloc, releaser]);
      const ips = await held(admin, handle);
      const v4 = ips.filter((x) => !x.includes(':'));
      const v6 = ips.filter((x) => x.includes(':'));
      if (v4.length !== v6.length || v4.length > 1) broken.push(`${handle}: holds ${ips.join(' ')} (${'ok' in r ? 'told ok' : 'told error'})`);
      if ('ok' in r && ips.length > 0) expect(ips).toEqual([...r.ok.ipv4, ...r.ok.ipv6].sort());
      await b.releaseByHandle(handle);
    }
    expect(broken).toEqual([]);
    expect(await invariantProblems(admin)).toEqual([]);
  });

  it('two processes allocating one handle at once converge to one address per family', async () => {
    const { prefix, admin } = await cluster();
    const a = new Ipam({ datastore: store(prefix) }, { claimAhead: false });
    const b = new Ipam({ datastore: store(prefix) }, { claimAhead: false });
    for (let i = 0; i < 20; i++) {
      const handle = `twice-${i}`;
      const [ra, rb] = await Promise.all([
        a.autoAssign({ handle, node: i % 2 ? 'n1' : 'n2', num4: 1, num6: 1 }),
        b.autoAssign({ handle, node: 'n1', num4: 1, num6: 1 }),
      ]);
      const ips = await held(admin, handle);
      expect(ips).toHaveLength(2);
      expect([...ra.ipv4, ...ra.ipv6].sort()).toEqual(ips);
      expect([...rb.ipv4, ...rb.ipv6].sort()).toEqual(ips);
      // A retried request (CNI ADD again) gets the same addresses, nothing more.
      const again = await a.autoAssign({ handle, node: 'n1', num4: 1, num6: 1 });
      expect([...again.ipv4, ...again.ipv6].sort()).toEqual(ips);
    }
    expect(await invariantProblems(admin)).toEqual([]);
  });

  it('an undo that fails during an outage reports the original error and leaves the half-done allocation collectable by handle', async () => {
    const { prefix, admin } = await cluster();
    const faulty = new FaultyDatastore(store(prefix), { txn: true });
    let first: unknown;
    let armed = true;
    faulty.afterTxn = async () => {
      if (!armed) return;
      armed = false;
      await etcd.kill(); // right after the IPv4 half landed
    };
    faulty.onError = (e) => {
      if (!armed) first ??= e;
    };
    const ipam = new Ipam({ datastore: faulty }, { claimAhead: false });
    const err = await ipam.autoAssign({ handle: 'half', node: 'n1', num4: 1, num6: 1 }).catch((e: unknown) => e);
    await etcd.restart();
    expect(first).toBeDefined();
    expect(err).toBe(first);
    // The IPv4 half is still allocated: findable by handle, reported, and released by handle.
    await poll(async () => (await ipam.ipsByHandle('half')).length === 1, { timeout: 20_000, what: 'the half-done allocation' });
    const report = await ipam.check([]);
    expect(report.leaked.map((x) => x.handle)).toEqual(['half']);
    expect(await ipam.releaseByHandle('half')).toHaveLength(1);
    expect(await held(admin, 'half')).toEqual([]);
    expect(await invariantProblems(admin)).toEqual([]);
  });

  it('check succeeds while history is compacted under its paginated lists', async () => {
    const { prefix } = await cluster({ v4: '10.0.0.0/20' });
    const ipam = new Ipam({ datastore: store(prefix, 3) }, { claimAhead: false });
    for (let i = 0; i < 40; i++) await ipam.autoAssign({ handle: `p${i}`, node: i % 2 ? 'n1' : 'n2', num4: 1 });
    const client = new Etcd3({ hosts: etcd.endpoint });
    let stop = false;
    const compactor = (async () => {
      let k = 0;
      while (!stop) {
        const put = await client.put(`${prefix}churn`).value(String(k++)).exec();
        await client.kv.compact({ revision: put.header.revision });
      }
    })();
    try {
      for (let i = 0; i < 8; i++) expect((await ipam.check([])).summary.allocated).toBe(40);
    } finally {
      stop = true;
      await compactor;
      client.close();
    }
  });

  it('a node whose clock is 20 minutes behind does not lose its fresh allocation, empty block or claim to gc', async () => {
    const { prefix, admin } = await cluster();
    const behind = new Ipam({ datastore: store(prefix), clock: skewedClock(-20 * 60_000) }, { claimAhead: false });
    const gcClock = skewedClock(0);
    const gc = new Ipam({ datastore: store(prefix), clock: gcClock }, { claimAhead: false });
    const fresh = await behind.autoAssign({ handle: 'fresh', node: 'n1', num4: 1 });
    const emptied = await behind.autoAssign({ handle: 'gone-soon', node: 'n2', num4: 1 });
    await behind.releaseByHandle('gone-soon');
    const live = [{ handle: 'fresh', ips: [] as string[] }];
    let r = await gc.gc({ live: [] });
    expect(r.releasedIps).toEqual([]);
    expect(r.releasedBlocks).toEqual([]);
    expect(await held(admin, 'fresh')).toEqual(fresh.ipv4);
    // Measured on the gc's own clock: released once the grace periods have passed there.
    gcClock.advance(16 * 60_000);
    r = await gc.gc({ live });
    expect(r.releasedIps).toEqual([]);
    expect(r.releasedBlocks.length).toBe(1);
    expect(emptied.ipv4[0]!.startsWith(r.releasedBlocks[0]!.split('.').slice(0, 3).join('.'))).toBe(true);
    r = await gc.gc({ live: [] });
    expect(r.releasedIps).toEqual([]); // first seen leaked just now
    gcClock.advance(16 * 60_000);
    r = await gc.gc({ live: [] });
    expect(r.releasedIps).toEqual(fresh.ipv4);
  });

  it('a request larger than the pool fails and leaves no block affine; strictAffinity nodes can then allocate', async () => {
    const { prefix, admin } = await cluster({ v4: '10.9.0.0/28', blockSize4: 30, v6: '', config: { strictAffinity: true, maxBlocksPerHost: 0, autoAllocateBlocks: true } });
    const ipam = new Ipam({ datastore: store(prefix) }, { claimAhead: false });
    const err = await ipam.autoAssign({ handle: 'greedy', node: 'n1', num4: 20 }).catch((e: unknown) => e);
    expect(isTabbyError(err, 'PoolExhausted')).toBe(true);
    expect(await ipam.blocksForNode('n1')).toEqual([]);
    const r = await ipam.autoAssign({ handle: 'modest', node: 'n2', num4: 1 });
    expect(r.ipv4).toHaveLength(1);
    expect(await invariantProblems(admin)).toEqual([]);
  });

  it('gc keeps a tunnel address the live list names after its Node is gone, and honours live pods named without handle or address', async () => {
    const { prefix, admin } = await cluster({ v4: '10.8.0.0/24', v6: '' });
    await admin.delete({ kind: 'IPPool', name: 'v4' });
    await admin.create(pool('v4', '10.8.0.0/24', { ipipMode: 'Always' }));
    const clock = skewedClock(0);
    const ipam = new Ipam({ datastore: store(prefix), clock }, { claimAhead: false });
    const tunnel = await ipam.tunnelAddress('n2', 'ipip');
    const pod = await ipam.autoAssign({ handle: 'k8s-pod-network.abc', node: 'n1', num4: 1, attrs: { namespace: 'default', pod: 'web-0' } });
    await admin.delete({ kind: 'Node', name: 'n2' });
    const live = [{ handle: 'ipip-tunnel-addr-n2', ips: [tunnel] }, { namespace: 'default', pod: 'web-0', node: 'n1' }];
    expect((await ipam.check(live)).leaked).toEqual([]);
    await ipam.gc({ live });
    clock.advance(60 * 60_000);
    const r = await ipam.gc({ live });
    expect(r.releasedIps).toEqual([]);
    expect(await held(admin, 'ipip-tunnel-addr-n2')).toEqual([tunnel]);
    expect(await held(admin, 'k8s-pod-network.abc')).toEqual(pod.ipv4);
  });
});
