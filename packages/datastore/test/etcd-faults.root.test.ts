/**
 * The etcd backend under faults, on a real etcd: compaction while watches run and while a
 * paginated list is read, etcd killed (SIGKILL) and restarted while writes are in flight, and a
 * full quota. What callers must be able to rely on: our own stream cancellations never make
 * the store unavailable, no message leaks the client library's internals, a write reported as
 * failed (anything but `Indeterminate`) did not happen, and a list always completes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Etcd3 } from 'etcd3';
import { poll, startEtcd, type EtcdServer } from '@tabby/testkit';
import { isTabbyError, type Resource } from '@tabby/api';
import { createEtcdDatastore, type Datastore } from '../src/index.js';

let etcd: EtcdServer;
const open: Datastore[] = [];
let n = 0;

function store(init: { pageSize?: number; endpoint?: string } = {}): Datastore {
  const s = createEtcdDatastore({ endpoints: init.endpoint ?? etcd.endpoint, prefix: `/tabby-faults-${process.pid}-${++n}/`, ...(init.pageSize ? { pageSize: init.pageSize } : {}) });
  open.push(s);
  return s;
}

function pool(name: string, spec: Record<string, unknown> = {}): Resource {
  return { apiVersion: 'tabby.dev/v1', kind: 'IPPool', metadata: { name }, spec };
}

beforeAll(async () => {
  etcd = await startEtcd();
});
afterAll(async () => {
  await Promise.all(open.map((s) => s.close()));
  await etcd?.stop();
});

describe('etcd datastore under faults', () => {
  it('stays available while compaction ends its watches again and again (our own cancellations are no failures)', async () => {
    const ds = store();
    await ds.create(pool('a'));
    for (let round = 0; round < 4; round++) {
      const { revision } = await ds.list({ kind: 'IPPool' });
      const ac = new AbortController();
      for (let i = 0; i < 2; i++) await ds.update(await ds.get({ kind: 'IPPool', name: 'a' }));
      await etcd.compact();
      // Three watches from a compacted revision, as the IPAM caches hold them after a
      // compaction: each ends with `gone`, and the store cancels its stream.
      const ended = ['IPPool', 'Node', 'IPAMConfiguration'].map(async (kind) => {
        const out: string[] = [];
        for await (const ev of ds.watch({ kind, revision, signal: ac.signal })) out.push(ev.type);
        return out;
      });
      const seen = await Promise.all(ended);
      for (const s of seen) expect(s[s.length - 1]).toBe('gone');
      // Right after the watches ended, every call must go through.
      for (let i = 0; i < 5; i++) {
        await ds.get({ kind: 'IPPool', name: 'a' });
        await ds.txn!([{ op: 'update', obj: await ds.get({ kind: 'IPPool', name: 'a' }) }]);
      }
      ac.abort();
    }
  });

  it('completes a paginated list while history is compacted under it', async () => {
    const ds = store({ pageSize: 4 });
    for (let i = 0; i < 120; i++) await ds.create(pool(`p${String(i).padStart(3, '0')}`));
    const client = new Etcd3({ hosts: etcd.endpoint });
    let stop = false;
    const compactor = (async () => {
      let k = 0;
      while (!stop) {
        const put = await client.put(`/churn-${process.pid}`).value(String(k++)).exec();
        await client.kv.compact({ revision: put.header.revision });
      }
    })();
    try {
      for (let i = 0; i < 10; i++) {
        const l = await ds.list({ kind: 'IPPool' });
        expect(l.items).toHaveLength(120);
      }
    } finally {
      stop = true;
      await compactor;
      client.close();
    }
  });

  it('a write reported as failed never happened, across etcd being killed and restarted', async () => {
    const ds = store();
    const outcomes = new Map<string, string>();
    const messages = new Set<string>();
    let stop = false;
    let seq = 0;
    const writers = Array.from({ length: 24 }, async () => {
      while (!stop) {
        const name = `k${seq++}`;
        try {
          await ds.create(pool(name));
          outcomes.set(name, 'ok');
        } catch (e: unknown) {
          outcomes.set(name, isTabbyError(e) ? e.code : 'raw');
          messages.add(e instanceof Error ? e.message : String(e));
          if (isTabbyError(e, 'Unavailable')) await new Promise((r) => setTimeout(r, 5));
        }
      }
    });
    try {
      for (let cycle = 0; cycle < 3; cycle++) {
        await poll(() => [...outcomes.values()].filter((o) => o === 'ok').length > 100 * (cycle + 1), { timeout: 30_000, what: 'writes to land' });
        await etcd.kill();
        await etcd.restart();
      }
      await poll(() => [...outcomes.values()].filter((o) => o === 'ok').length > 400, { timeout: 30_000, what: 'writes after the restarts' });
    } finally {
      stop = true;
      await Promise.all(writers);
    }
    const stored = new Set((await ds.list({ kind: 'IPPool' })).items.map((p) => p.metadata.name));
    const wrong: string[] = [];
    for (const [name, o] of outcomes) {
      if (o === 'ok' && !stored.has(name)) wrong.push(`${name} reported created but missing`);
      if (o !== 'ok' && o !== 'Indeterminate' && stored.has(name)) wrong.push(`${name} reported ${o} but stored`);
    }
    expect(wrong).toEqual([]);
    expect([...messages].filter((m) => /circuit|breaker/i.test(m))).toEqual([]);
    expect([...outcomes.values()].every((o) => ['ok', 'Indeterminate', 'Unavailable'].includes(o))).toBe(true);
  });

  it('after etcd comes back, the same store works again (no lingering fault state)', async () => {
    const ds = store();
    await ds.create(pool('x'));
    await etcd.kill();
    const err = await ds.get({ kind: 'IPPool', name: 'x' }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'Unavailable' });
    expect((err as Error).message).not.toMatch(/circuit|breaker/i);
    await etcd.restart();
    await poll(async () => (await ds.get({ kind: 'IPPool', name: 'x' })).metadata.name === 'x', { timeout: 20_000, what: 'reads after the restart' });
    // And at once, repeatedly: no breaker left open by the failures above.
    for (let i = 0; i < 10; i++) await ds.update(await ds.get({ kind: 'IPPool', name: 'x' }));
  });

  it('reports a full quota clearly, as QuotaExceeded', async () => {
    const small = await startEtcd({ quotaBytes: 4 * 1024 * 1024 });
    const ds = store({ endpoint: small.endpoint });
    try {
      const big = 'x'.repeat(256 * 1024);
      let err: unknown;
      for (let i = 0; i < 200 && err === undefined; i++) {
        try {
          await ds.create(pool(`big${i}`, { big }));
        } catch (e: unknown) {
          err = e;
        }
      }
      expect(err).toMatchObject({ code: 'QuotaExceeded' });
      expect((err as Error).message).toMatch(/quota/);
      expect((err as Error).message).toMatch(/compact/);
    } finally {
      await small.stop();
    }
  });
});
