/** The compliance suite against a real etcd (Debian's etcd-server) on a unix socket. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEtcd, type EtcdServer } from '@tabby/testkit';
import type { Resource } from '@tabby/api';
import { runComplianceSuite } from '../src/compliance.js';
import { createEtcdDatastore } from '../src/index.js';

let etcd: EtcdServer;
let n = 0;
beforeAll(async () => {
  etcd = await startEtcd();
});
afterAll(async () => {
  await etcd?.stop();
});

runComplianceSuite('etcd', async () => {
  const store = createEtcdDatastore({ endpoints: etcd.endpoint, prefix: `/tabby-test-${process.pid}-${++n}/` });
  return { store, compact: () => etcd.compact(), close: () => store.close() };
});

describe('etcd backend specifics', () => {
  it('lists across pages at one revision', async () => {
    const store = createEtcdDatastore({ endpoints: etcd.endpoint, prefix: `/tabby-page-${process.pid}/`, pageSize: 3 });
    try {
      for (let i = 0; i < 10; i++) {
        const r: Resource = { apiVersion: 'tabby.dev/v1', kind: 'IPPool', metadata: { name: `p${i}` }, spec: { i } };
        await store.create(r);
      }
      const res = await store.list({ kind: 'IPPool' });
      expect(res.items.map((p) => p.metadata.name)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9].map((i) => `p${i}`));
    } finally {
      await store.close();
    }
  });

  it('ends a watch with Unavailable when etcd goes away for good', async () => {
    const own = await startEtcd();
    const store = createEtcdDatastore({ endpoints: own.endpoint, watchRetry: { attempts: 2, baseDelayMs: 20 } });
    try {
      const { revision } = await store.list({ kind: 'IPPool' });
      const ac = new AbortController();
      const it0 = store.watch({ kind: 'IPPool', revision, signal: ac.signal })[Symbol.asyncIterator]();
      await store.create({ apiVersion: 'tabby.dev/v1', kind: 'IPPool', metadata: { name: 'a' }, spec: {} });
      expect((await it0.next()).value).toMatchObject({ type: 'added' });
      await own.stop();
      let err: unknown;
      try {
        for (;;) if ((await it0.next()).done) break;
      } catch (e: unknown) {
        err = e;
      }
      expect(err).toMatchObject({ code: 'Unavailable' });
      ac.abort();
    } finally {
      await store.close();
      await own.stop();
    }
  });

  it('reports Unavailable when etcd cannot be reached', async () => {
    const store = createEtcdDatastore({ endpoints: `unix://${etcd.dir}/nonexistent.sock` });
    try {
      await expect(store.get({ kind: 'IPPool', name: 'x' })).rejects.toMatchObject({ code: 'Unavailable' });
    } finally {
      await store.close();
    }
  });
});
