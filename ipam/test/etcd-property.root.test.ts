/**
 * The property test of issue 13 on a real etcd: random interleavings of allocate (single and
 * dual stack), release by handle or by address, gc, and etcd killed (SIGKILL) and restarted,
 * from several allocators with their own etcd clients. After recovery:
 * - no address is held twice, handle counts agree with the blocks (`invariantProblems`);
 * - every allocation reported as a success is stored, exactly as reported;
 * - every stored allocation was either reported, or belongs to a handle whose request failed
 *   (so the caller knows to retry or release it by handle);
 * - retrying a failed request by its handle converges to one address per family requested;
 * - after releasing the failed handles and a gc, `check` is clean.
 * Bounded (a few hundred operations, three restarts) so that it runs in well under a minute.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { poll, startEtcd, type EtcdServer } from '@tabby/testkit';
import { isTabbyError, type IPAMBlock } from '@tabby/api';
import type { Datastore } from '@tabby/datastore';
import { allocationsOf, Ipam } from '@tabby/ipam';
import { createEtcdDatastore } from './ds.js';
import { invariantProblems, seeded } from './helpers.js';
import { seedCluster } from './workload.js';

let etcd: EtcdServer;
const stores: Datastore[] = [];

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

/** Failures a request may end with while etcd is down or restarting (anything else fails the test). */
const EXPECTED = ['Unavailable', 'Indeterminate', 'TooManyConflicts', 'PoolExhausted'];

describe('IPAM on etcd: random interleavings with etcd restarts', () => {
  it('allocate / release / gc from 6 allocators across 3 etcd crashes: no duplicate, nothing lost, everything collectable, check clean', async () => {
    const prefix = `/ipam-property-${process.pid}/`;
    const admin = store(prefix);
    await seedCluster(admin, 3);
    const told = new Map<string, { ips: string[]; num4: number; num6: number }>();
    /** Handles whose last request failed: their state is whatever etcd says. */
    const failed = new Map<string, { node: string; num4: number; num6: number }>();
    const unexpected: string[] = [];
    const errs: string[] = [];
    const note = (e: unknown): void => {
      errs.push(isTabbyError(e) ? e.code : 'other');
      if (!isTabbyError(e) || !EXPECTED.includes(e.code)) unexpected.push(String(e));
    };
    let remaining = 360;
    let seq = 0;
    const workers = Array.from({ length: 6 }, async (_, i) => {
      const rnd = seeded(1300 + i);
      const ipam = new Ipam({ datastore: store(prefix), random: rnd }, { backoffBaseMs: 1, backoffMaxMs: 20, maxRetries: 20 });
      const nodeName = `node-${i % 3}`;
      const mine: string[] = [];
      while (remaining-- > 0) {
        const r = rnd();
        if (mine.length === 0 || r < 0.5) {
          const handle = `prop.${i}-${seq++}`;
          const num6 = rnd() < 0.3 ? 1 : 0;
          try {
            const got = await ipam.autoAssign({ handle, node: nodeName, num4: 1, num6, attrs: { namespace: 'ns', pod: handle } });
            told.set(handle, { ips: [...got.ipv4, ...got.ipv6], num4: 1, num6 });
            mine.push(handle);
          } catch (e: unknown) {
            note(e);
            failed.set(handle, { node: nodeName, num4: 1, num6 });
          }
        } else if (r < 0.9) {
          const handle = mine.splice(Math.floor(rnd() * mine.length), 1)[0]!;
          const t = told.get(handle)!;
          try {
            if (rnd() < 0.5) await ipam.releaseByHandle(handle);
            else await ipam.releaseIps(t.ips, { handle });
            told.delete(handle);
          } catch (e: unknown) {
            note(e);
            // The release may or may not have happened: the handle is the caller's to release again.
            told.delete(handle);
            failed.set(handle, { node: nodeName, num4: t.num4, num6: t.num6 });
          }
        } else {
          const live = [...told.keys(), ...failed.keys()].map((handle) => ({ handle }));
          await ipam.gc({ live }).catch(note);
        }
      }
      await ipam.idle();
    });
    const crashes = (async () => {
      for (let c = 0; c < 3 && remaining > 0; c++) {
        const at = remaining - 90;
        await poll(() => remaining <= at, { timeout: 60_000, what: 'operations before the next crash' });
        await etcd.kill();
        await etcd.restart();
      }
    })();
    await Promise.all([...workers, crashes]);
    const codes: Record<string, number> = {};
    for (const u of errs) codes[u] = (codes[u] ?? 0) + 1;
    console.log(JSON.stringify({ told: told.size, failed: failed.size, errors: codes }));
    expect(unexpected).toEqual([]);

    // After recovery: no duplicate, handle counts exact.
    expect(await invariantProblems(admin)).toEqual([]);
    const blocks = (await admin.list<IPAMBlock>({ kind: 'IPAMBlock' })).items;
    const stored = new Map<string, string[]>();
    for (const a of blocks.flatMap(allocationsOf)) stored.set(a.handle!, [...(stored.get(a.handle!) ?? []), a.ip]);
    // Every success stored as reported; every stored allocation reported or failed (collectable by handle).
    for (const [handle, t] of told) expect((stored.get(handle) ?? []).sort(), handle).toEqual([...t.ips].sort());
    const orphans = [...stored.keys()].filter((h) => !told.has(h) && !failed.has(h));
    expect(orphans).toEqual([]);

    // A failed request retried by its handle converges to one address per family.
    const ipam = new Ipam({ datastore: admin }, { claimAhead: false });
    for (const [handle, f] of [...failed].slice(0, 25)) {
      const got = await ipam.autoAssign({ handle, node: f.node, num4: f.num4, num6: f.num6 });
      expect(got.ipv4).toHaveLength(f.num4);
      expect(got.ipv6).toHaveLength(f.num6);
      expect((await ipam.ipsByHandle(handle)).sort()).toEqual([...got.ipv4, ...got.ipv6].sort());
    }
    // Release every failed handle; gc; check is clean against what was reported.
    for (const handle of failed.keys()) await ipam.releaseByHandle(handle);
    const live = [...told].map(([handle, t]) => ({ handle, ips: t.ips }));
    await ipam.gc({ live });
    const report = await ipam.check(live);
    expect(report.leaked).toEqual([]);
    expect(report.missing).toEqual([]);
    expect(report.orphanHandles).toEqual([]);
    expect(report.corruptBlocks).toEqual([]);
    expect(await invariantProblems(admin)).toEqual([]);
  }, 90_000);
});
