/**
 * tabby-node's Kubernetes view (kube-mode.ts → kube-source.ts → ResourceCache) against the fake
 * API server over real HTTP: the converted resources appear, follow label changes and
 * deletions, and survive a watch whose history is gone (410 → re-list).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCidr, type AnyResource, type NetworkPolicy, type Profile, type WorkloadEndpoint } from '@tabby/api';
import { kubeconfigFor, kubeRequest, poll, startFakeApiServer, type FakeApiServer } from '@tabby/testkit';
import { openKubeMode, type KubeMode } from '../src/kube-mode.js';
import { kubeServiceInputs, serviceRoutes } from '../src/service-routes.js';
import { ResourceCache, type CacheChange, type CacheSource } from '../src/resource-cache.js';

let api: FakeApiServer;
let mode: KubeMode;
let cache: ResourceCache;
let dir: string;
const ac = new AbortController();
const changes: CacheChange[] = [];
const warnings: string[] = [];
const warnDetails: Array<Record<string, unknown>> = [];
let podLists = 0;

const podBody = (name: string, labels: Record<string, string>, ip?: string): Record<string, unknown> => ({
  metadata: { name, namespace: 'shop', labels },
  spec: { nodeName: 'node-a', serviceAccountName: 'front', containers: [{ name: 'c' }] },
  status: ip ? { phase: 'Running', podIP: ip, podIPs: [{ ip }] } : { phase: 'Pending' },
});

const svcBody = (name: string, clusterIP: string, externalIPs: string[] = []): Record<string, unknown> => ({
  metadata: { name, namespace: 'shop' },
  spec: { type: 'LoadBalancer', clusterIP, clusterIPs: [clusterIP], externalIPs, externalTrafficPolicy: 'Local', ports: [{ port: 80 }] },
});
const sliceBody = (name: string, service: string, node: string, ready: boolean): Record<string, unknown> => ({
  metadata: { name, namespace: 'shop', labels: { 'kubernetes.io/service-name': service } },
  addressType: 'IPv4',
  endpoints: [{ addresses: ['10.65.0.1'], nodeName: node, conditions: { ready } }],
  ports: [{ port: 80 }],
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
  await kubeRequest(api.url, 'POST', '/api/v1/namespaces/shop/services', svcBody('web', '10.96.0.10'));
  await kubeRequest(api.url, 'POST', '/apis/discovery.k8s.io/v1/namespaces/shop/endpointslices', sliceBody('web-1', 'web', 'node-a', true));
  mode = await openKubeMode({ kubeconfig: join(dir, 'kubeconfig'), env: {} }, (m, d) => {
    warnings.push(m);
    warnDetails.push(d);
  });
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

  it('Services and EndpointSlices are listed and watched as they are; the service routes follow readiness', async () => {
    const routes = (): string[] => serviceRoutes({ nodeName: 'node-a', nodeLabels: {}, clusterRanges: [parseCidr('10.96.0.0/12')], externalRanges: [], loadBalancerRanges: [], ...kubeServiceInputs(cache) });
    expect(routes()).toEqual(['10.96.0.10/32']); // from the initial list
    await kubeRequest(api.url, 'PUT', '/apis/discovery.k8s.io/v1/namespaces/shop/endpointslices/web-1', sliceBody('web-1', 'web', 'node-a', false));
    await poll(() => routes().length === 0, { what: 'route withdrawn when the endpoint is not ready' });
    await kubeRequest(api.url, 'POST', '/api/v1/namespaces/shop/services', svcBody('api', '10.96.0.20'));
    await kubeRequest(api.url, 'POST', '/apis/discovery.k8s.io/v1/namespaces/shop/endpointslices', sliceBody('api-1', 'api', 'node-a', true));
    await poll(() => routes().join() === '10.96.0.20/32', { what: 'route of a watched service' });
    await kubeRequest(api.url, 'DELETE', '/apis/discovery.k8s.io/v1/namespaces/shop/endpointslices/api-1');
    await poll(() => routes().length === 0, { what: 'route withdrawn with the slice' });
  });

  it('a Service that does not parse is skipped with a warning naming it', async () => {
    await kubeRequest(api.url, 'POST', '/api/v1/namespaces/shop/services', svcBody('bad', '10.96.0.30', ['192.0.2.1', 'not-an-ip']));
    await poll(() => warnings.some((w) => w.startsWith('Service skipped')), { what: 'warning' });
    expect(warnings).toContain('Service skipped: spec.externalIPs[1]: "not-an-ip" is not an address');
    expect(warnDetails).toContainEqual({ service: 'shop/bad', field: 'spec.externalIPs[1]' });
    expect(kubeServiceInputs(cache).services.map((s) => s.metadata.name).sort()).toEqual(['api', 'web']);
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
