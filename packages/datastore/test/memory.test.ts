import { describe, expect, it } from 'vitest';
import type { Resource } from '@tabby/api';
import { MemoryDatastore, isDatastoreError, type WatchEvent } from '../src/index.js';

const pool = (name: string, cidr: string): Resource => ({
  apiVersion: 'tabby.dev/v1',
  kind: 'IPPool',
  metadata: { name, labels: { a: 'b' } },
  spec: { cidr },
});

describe('MemoryDatastore specifics', () => {
  it('deep-copies objects in and out', async () => {
    const ds = new MemoryDatastore();
    const input = pool('p', '10.0.0.0/16');
    const created = await ds.create(input);
    input.metadata.labels!['a'] = 'mutated';
    created.metadata.labels!['a'] = 'mutated';
    const got = await ds.get({ kind: 'IPPool', name: 'p' });
    got.metadata.labels!['a'] = 'mutated';
    expect((await ds.get({ kind: 'IPPool', name: 'p' })).metadata.labels).toEqual({ a: 'b' });
  });

  it('compact(revision) makes older watches gone, newer ones resume', async () => {
    const ds = new MemoryDatastore();
    await ds.create(pool('a', '10.0.0.0/16'));
    const r1 = ds.currentRevision;
    await ds.create(pool('b', '10.1.0.0/16'));
    const r2 = ds.currentRevision;
    await ds.create(pool('c', '10.2.0.0/16'));
    ds.compact(r2);
    const ac = new AbortController();
    const seen: WatchEvent[] = [];
    for await (const ev of ds.watch({ kind: 'IPPool', revision: r1 })) seen.push(ev);
    expect(seen).toEqual([{ type: 'gone', revision: r2 }]);
    const names: string[] = [];
    for await (const ev of ds.watch({ kind: 'IPPool', revision: r2, signal: ac.signal })) {
      if (ev.type === 'added') names.push(ev.object.metadata.name);
      ac.abort();
    }
    expect(names).toEqual(['c']);
  });

  it('maxHistory drops the oldest history', async () => {
    const ds = new MemoryDatastore({ maxHistory: 1 });
    await ds.create(pool('a', '10.0.0.0/16'));
    await ds.create(pool('b', '10.1.0.0/16'));
    const it0 = ds.watch({ kind: 'IPPool', revision: '0' })[Symbol.asyncIterator]();
    expect((await it0.next()).value).toMatchObject({ type: 'gone' });
  });

  it('rejects a namespaced kind without namespace', async () => {
    const ds = new MemoryDatastore();
    const wep: Resource = { apiVersion: 'tabby.dev/v1', kind: 'WorkloadEndpoint', metadata: { name: 'w' }, spec: {} };
    await expect(ds.create(wep)).rejects.toSatisfy((e: unknown) => isDatastoreError(e, 'Invalid'));
  });
});

describe('MemoryDatastore fault injection', () => {
  it('fails the next calls of an operation with the injected code, then recovers', async () => {
    const ds = new MemoryDatastore();
    const created = await ds.create(pool('p', '10.0.0.0/16'));
    ds.injectFault({ op: 'update', code: 'Conflict', times: 2 });
    for (let i = 0; i < 2; i++) {
      await expect(ds.update(created)).rejects.toSatisfy((e: unknown) => isDatastoreError(e, 'Conflict'));
    }
    const upd = await ds.update(created);
    expect(upd.metadata.resourceVersion).not.toBe(created.metadata.resourceVersion);
    ds.injectFault({ op: 'get', code: 'Unavailable' });
    await expect(ds.get({ kind: 'IPPool', name: 'p' })).rejects.toSatisfy((e: unknown) => isDatastoreError(e, 'Unavailable'));
    expect((await ds.get({ kind: 'IPPool', name: 'p' })).metadata.name).toBe('p');
  });
});

describe('memory datastore without txn', () => {
  it('has no txn method when built with txn: false (a Kubernetes-like backend)', async () => {
    const plain = new MemoryDatastore({ txn: false });
    expect(plain.txn).toBeUndefined();
    expect(new MemoryDatastore().txn).toBeTypeOf('function');
    await plain.close();
  });
});
