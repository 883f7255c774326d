/** The Kubernetes backend, through its real client, on a fake API server. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NodeSpec, Resource } from '@tabby/api';
import { runComplianceSuite } from '../src/compliance.js';
import { createKubernetesDatastore, isDatastoreError, type KubernetesDatastore, type WatchEvent } from '../src/index.js';
import { startFakeApiServer, type FakeApiServer } from '@tabby/testkit';

runComplianceSuite('kubernetes', async () => {
  const server = await startFakeApiServer({ bookmarkIntervalMs: 200 });
  const store = await createKubernetesDatastore({ server: server.url, pageSize: 2 });
  return {
    store,
    compact: async () => server.compact(),
    close: async () => {
      await store.close();
      await server.close();
    },
  };
});

describe('Kubernetes backend specifics', () => {
  let server: FakeApiServer;
  let ds: KubernetesDatastore;
  beforeAll(async () => {
    server = await startFakeApiServer({ bookmarkIntervalMs: 100 });
    ds = await createKubernetesDatastore({ server: server.url });
  });
  afterAll(async () => {
    await ds?.close();
    await server?.close();
  });

  const raw = async (path: string, init?: RequestInit): Promise<Record<string, unknown>> =>
    (await (await fetch(`${server.url}${path}`, init)).json()) as Record<string, unknown>;

  it('stores Node as a core/v1 Node with Calico annotations and keeps kubelet status', async () => {
    const node: Resource<'Node', NodeSpec> = {
      apiVersion: 'tabby.dev/v1',
      kind: 'Node',
      metadata: { name: 'n1', labels: { zone: 'a' } },
      spec: { bgp: { ipv4Address: '10.0.0.1/24', asNumber: 64600, routeReflectorClusterID: '1.2.3.4' } },
    };
    const created = await ds.create(node);
    expect(created.spec.bgp).toEqual(node.spec.bgp);
    const k = (await raw('/api/v1/nodes/n1')) as { metadata: { annotations: Record<string, string>; resourceVersion: string } };
    expect(k.metadata.annotations).toEqual({
      'projectcalico.org/IPv4Address': '10.0.0.1/24',
      'projectcalico.org/ASNumber': '64600',
      'projectcalico.org/RouteReflectorClusterID': '1.2.3.4',
    });
    // kubelet writes status; a datastore update must keep it.
    await raw('/api/v1/nodes/n1', {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ...k, status: { addresses: [{ type: 'InternalIP', address: '10.0.0.1' }] } }),
    });
    const cur = await ds.get<Resource<'Node', NodeSpec>>({ kind: 'Node', name: 'n1' });
    expect(cur.spec.addresses).toContainEqual({ address: '10.0.0.1', type: 'InternalIP' });
    const upd = await ds.update({ ...cur, spec: { ...cur.spec, bgp: { ipv4Address: '10.0.0.9/24' } } });
    expect(upd.spec.bgp).toEqual({ ipv4Address: '10.0.0.9/24' });
    const after = (await raw('/api/v1/nodes/n1')) as { status: unknown; metadata: { annotations: Record<string, string> } };
    expect(after.status).toEqual({ addresses: [{ type: 'InternalIP', address: '10.0.0.1' }] });
    expect(after.metadata.annotations).toEqual({ 'projectcalico.org/IPv4Address': '10.0.0.9/24' });
    await expect(ds.update(cur)).rejects.toSatisfy((e: unknown) => isDatastoreError(e, 'Conflict'));
    const deleted = await ds.delete({ kind: 'Node', name: 'n1' });
    expect(deleted.metadata.name).toBe('n1');
    await expect(ds.get({ kind: 'Node', name: 'n1' })).rejects.toSatisfy((e: unknown) => isDatastoreError(e, 'NotFound'));
  });

  it('resumes a watch the server closed, without losing or repeating events', async () => {
    const { revision } = await ds.list({ kind: 'BGPPeer' });
    const ac = new AbortController();
    const it0 = ds.watch({ kind: 'BGPPeer', revision, signal: ac.signal })[Symbol.asyncIterator]();
    const peer = (name: string): Resource => ({ apiVersion: 'tabby.dev/v1', kind: 'BGPPeer', metadata: { name }, spec: { asNumber: 64512 } });
    const names: string[] = [];
    const next = async (): Promise<WatchEvent> => {
      for (;;) {
        const r = await it0.next();
        if (r.done) throw new Error('watch ended');
        if (r.value.type !== 'bookmark') return r.value;
      }
    };
    await ds.create(peer('a'));
    const first = await next();
    names.push(first.type === 'added' ? first.object.metadata.name : first.type);
    server.dropWatches();
    await ds.create(peer('b'));
    await ds.create(peer('c'));
    for (let i = 0; i < 2; i++) {
      const ev = await next();
      names.push(ev.type === 'added' ? ev.object.metadata.name : ev.type);
    }
    ac.abort();
    expect(names).toEqual(['a', 'b', 'c']);
  });

  it('says gone when the watch request itself is answered with HTTP 410', async () => {
    const s410 = await startFakeApiServer({ goneAsHttpStatus: true });
    const store = await createKubernetesDatastore({ server: s410.url });
    try {
      const { revision } = await store.list({ kind: 'IPPool' });
      await store.create({ apiVersion: 'tabby.dev/v1', kind: 'IPPool', metadata: { name: 'a' }, spec: {} });
      s410.compact();
      const seen: WatchEvent[] = [];
      for await (const ev of store.watch({ kind: 'IPPool', revision })) seen.push(ev);
      expect(seen).toEqual([{ type: 'gone', revision }]);
    } finally {
      await store.close();
      await s410.close();
    }
  });

  it('ends a watch with Unavailable when the API server goes away for good', async () => {
    const own = await startFakeApiServer();
    const store = await createKubernetesDatastore({ server: own.url, watchRetry: { attempts: 2, baseDelayMs: 20 } });
    try {
      const { revision } = await store.list({ kind: 'IPPool' });
      const it0 = store.watch({ kind: 'IPPool', revision })[Symbol.asyncIterator]();
      await store.create({ apiVersion: 'tabby.dev/v1', kind: 'IPPool', metadata: { name: 'a' }, spec: {} });
      let first = await it0.next();
      while (first.value?.type === 'bookmark') first = await it0.next();
      expect(first.value).toMatchObject({ type: 'added' });
      await own.close();
      let err: unknown;
      try {
        for (;;) if ((await it0.next()).done) break;
      } catch (e: unknown) {
        err = e;
      }
      expect(err).toMatchObject({ code: 'Unavailable' });
    } finally {
      await store.close();
    }
  });

  it('rejects kinds it cannot map with Invalid', async () => {
    const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'x' }, spec: {} } as Resource;
    await expect(ds.create(pod)).rejects.toSatisfy((e: unknown) => isDatastoreError(e, 'Invalid'));
  });

  it('reports Unavailable when the API server is unreachable', async () => {
    // A server of our own, already closed: its port refuses connections.
    const gone = await startFakeApiServer();
    await gone.close();
    const dead = await createKubernetesDatastore({ server: gone.url });
    await expect(dead.get({ kind: 'IPPool', name: 'x' })).rejects.toSatisfy((e: unknown) => isDatastoreError(e, 'Unavailable'));
    await dead.close();
  });
});
