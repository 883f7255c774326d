/**
 * tabby-node's Kubernetes view (kube-mode.ts → kube-source.ts → ResourceCache) against the fake
 * API server over real HTTP: the converted resources appear, follow label changes and
 * deletions, and survive a watch whose history is gone (410 → re-list).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AnyResource, NetworkPolicy, Profile, WorkloadEndpoint } from '@tabby/api';
import { kubeconfigFor, kubeRequest, poll, startFakeApiServer, type FakeApiServer } from '@tabby/testkit';
import { openKubeMode, type KubeMode } from '../src/kube-mode.js';
import { ResourceCache, type CacheChange, type CacheSource } from '../src/resource-cache.js';

let api: FakeApiServer;
let mode: KubeMode;
let cache: ResourceCache;
let dir: string;
const ac = new AbortController();
const changes: CacheChange[] = [];
const warnings: string[] = [];
let podLists = 0;

const podBody = (name: string, labels: Record<string, string>, ip?: string): Record<string, unknown> => ({
  metadata: { name, namespace: 'shop', labels },
  spec: { nodeName: 'node-a', serviceAccountName: 'front', containers: [{ name: 'c' }] },
  status: ip ? { phase: 'Running', podIP: ip, podIPs: [{ ip }] } : { phase: 'Pending' },
});

const wep = (pod: string): WorkloadEndpoint | undefined =>
  cache.list<WorkloadEndpoint>('WorkloadEndpoint').find((w) => w.spec.pod === pod);

beforeAll(async () => {
  api = await startFakeApiServer();
  dir = mkdtempSync(join(tmpdir(), 'tabby-kube-'));
  writeFileSync(join(dir, 'kubeconfig'), kubeconfigFor(api.url));
  await kubeRequest(api.url, 'POST', '/api/v1/namespaces', { metadata: { name: 'shop', labels: { team: 'red' } } });
  await kubeRequest(api.url, 'POST', '/api/v1/namespaces/shop/serviceaccounts', { metadata: { name: 'front', labels: { tier: 'web' } } });
  await kubeRequest(api.url, 'POST', '/api/v1/namespaces/shop/pods', podBody('a', { app: 'a' }, '10.65.0.1'));
  await kubeRequest(api.url, 'POST', '/apis/networking.k8s.io/v1/namespaces/shop/networkpolicies', {
    metadata: { name: 'only-b' },
    spec: { podSelector: { matchLabels: { app: 'a' } }, ingress: [{ from: [{ podSelector: { matchLabels: { app: 'b' } } }], ports: [{ port: 80 }] }] },
  });
  mode = await openKubeMode({ kubeconfig: join(dir, 'kubeconfig'), env: {} }, (m) => warnings.push(m));
  const src = mode.view.source;
  const counted: CacheSource = {
    list: (o) => {
      if (o.kind === 'KubernetesPod') podLists++;
      return src.list(o);
    },
    watch: (o) => src.watch(o),
  };
  cache = new ResourceCache(counted, (ch) => changes.push(...ch), () => undefined, mode.view.kinds);
  cache.start(ac.signal);
  await cache.ready;
});

afterAll(async () => {
  ac.abort();
  await mode?.store.close();
  await api?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('Kubernetes mode view', () => {
  it('lists pods as endpoints, namespaces and service accounts as profiles, k8s policies as knp.default.*', () => {
    expect(wep('a')?.metadata.labels).toMatchObject({ app: 'a', 'projectcalico.org/orchestrator': 'k8s', 'projectcalico.org/serviceaccount': 'front' });
    expect(wep('a')?.spec.ipNetworks).toEqual(['10.65.0.1/32']);
    const profiles = cache.list<Profile>('Profile').map((p) => [p.metadata.name, p.spec.labelsToApply]);
    expect(profiles).toContainEqual(['kns.shop', { 'pcns.projectcalico.org/name': 'shop', 'pcns.team': 'red' }]);
    expect(profiles).toContainEqual(['ksa.shop.front', { 'pcsa.projectcalico.org/name': 'front', 'pcsa.tier': 'web' }]);
    const [p] = cache.list<NetworkPolicy>('NetworkPolicy');
    expect(p?.metadata).toEqual({ name: 'knp.default.only-b', namespace: 'shop' });
    expect(p?.spec.selector).toBe("projectcalico.org/orchestrator == 'k8s' && app == 'a'");
  });

  it('a pod gets its endpoint when it gets an address; label changes and deletion follow', async () => {
    await kubeRequest(api.url, 'POST', '/api/v1/namespaces/shop/pods', podBody('b', { app: 'x' }));
    await new Promise((r) => setImmediate(r));
    expect(wep('b')).toBeUndefined();
    await kubeRequest(api.url, 'PUT', '/api/v1/namespaces/shop/pods/b/status', podBody('b', { app: 'x' }, '10.65.0.2'));
    await poll(() => wep('b')?.spec.ipNetworks[0] === '10.65.0.2/32');
    await kubeRequest(api.url, 'PUT', '/api/v1/namespaces/shop/pods/b', podBody('b', { app: 'b' }, '10.65.0.2'));
    await poll(() => wep('b')?.metadata.labels?.app === 'b');
    const before = changes.length;
    await kubeRequest(api.url, 'DELETE', '/api/v1/namespaces/shop/pods/b');
    await poll(() => wep('b') === undefined);
    // The deletion reports the endpoint as last known (felix needs its addresses to remove routes).
    const del = changes.slice(before).find((c) => c.deleted && c.resource.kind === 'WorkloadEndpoint');
    expect((del?.resource as AnyResource & WorkloadEndpoint).spec.ipNetworks).toEqual(['10.65.0.2/32']);
  });

  it('namespace labels and policy changes are watched', async () => {
    await kubeRequest(api.url, 'PUT', '/api/v1/namespaces/shop', { metadata: { name: 'shop', labels: { team: 'blue' } } });
    await poll(() => cache.list<Profile>('Profile').find((p) => p.metadata.name === 'kns.shop')?.spec.labelsToApply?.['pcns.team'] === 'blue');
    await kubeRequest(api.url, 'DELETE', '/apis/networking.k8s.io/v1/namespaces/shop/networkpolicies/only-b');
    await poll(() => cache.list('NetworkPolicy').length === 0);
  });

  it('a policy that cannot be converted is skipped with a warning, not applied half-way', async () => {
    await kubeRequest(api.url, 'POST', '/apis/networking.k8s.io/v1/namespaces/shop/networkpolicies', {
      metadata: { name: 'bad' },
      spec: { podSelector: { matchLabels: { app: "it's" } } },
    });
    await poll(() => warnings.some((w) => w.includes('skipped')));
    expect(cache.list('NetworkPolicy')).toEqual([]);
  });

  it('history gone (410): the cache re-lists and misses nothing', async () => {
    const lists = podLists;
    api.dropWatches(); // the watch reconnects from its last resourceVersion...
    api.compact(); // ...which is now too old: 410 → re-list
    await kubeRequest(api.url, 'POST', '/api/v1/namespaces/shop/pods', podBody('c', { app: 'c' }, '10.65.0.3'));
    await kubeRequest(api.url, 'POST', '/api/v1/namespaces/shop/pods', podBody('d', { app: 'd' }, '10.65.0.4'));
    await poll(() => wep('c') !== undefined && wep('d') !== undefined);
    await poll(() => podLists > lists);
    expect(wep('a')).toBeDefined();
  });
});
