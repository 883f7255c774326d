// Root test: service address advertisement in Kubernetes datastore mode, as Calico's confd
// route generator does it. Two tabby-nodes against the fake Kubernetes API server (reached
// through a forwarder in the fabric namespace, as in node-kubernetes.test.ts) peer over eBGP
// with a real BIRD 2 top-of-rack router in the fabric. BGPConfiguration `default` names service
// ranges: both nodes advertise the ranges; the /32s of an `externalTrafficPolicy: Local` Service
// come only from the node that hosts a ready endpoint, move with the endpoint and are withdrawn
// with the last one; addresses outside the ranges never appear; a bad Service is skipped with a
// log naming it while the agents carry on; a node labelled exclude-from-external-load-balancers
// advertises no service address.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Resource } from '@tabby/api';
import { createKubernetesDatastore, type KubernetesDatastore } from '@tabby/datastore';
import { requestStatus } from '@tabby/bgp';
import { BirdDaemon, kubeconfigFor, kubeRequest, missingRequirements, poll, run, titleWithSkip, startFakeApiServer, TestNet, UNIX_FORWARD, type FakeApiServer, type Proc } from '@tabby/testkit';
import { Fabric, type FabricNode } from '../src/fabric.js';
import { spawnTabbyNode, untilReady } from '../src/agent-proc.js';
import { TOR_AS, torConfig } from '../src/node-cluster.js';

const missing = missingRequirements('root', 'bird');
const API_PORT = 6443;
const RANGES = ['10.96.0.0/16', '192.0.2.0/24', '203.0.113.0/24'];
const SLICES = '/apis/discovery.k8s.io/v1/namespaces/shop/endpointslices';

const service = {
  metadata: { name: 'web', namespace: 'shop' },
  spec: { type: 'LoadBalancer', clusterIP: '10.96.0.50', clusterIPs: ['10.96.0.50'], externalIPs: ['192.0.2.7', '198.51.100.9'], externalTrafficPolicy: 'Local', ports: [{ port: 80 }] },
  // 100.64.9.9 is outside serviceLoadBalancerIPs: never advertised.
  status: { loadBalancer: { ingress: [{ ip: '203.0.113.5' }, { ip: '100.64.9.9' }] } },
};
const slice = (node: string, ready: boolean, svc = 'web'): Record<string, unknown> => ({
  metadata: { name: `${svc}-1`, namespace: 'shop', labels: { 'kubernetes.io/service-name': svc } },
  addressType: 'IPv4',
  endpoints: [{ addresses: ['10.247.0.9'], nodeName: node, conditions: { ready } }],
  ports: [{ port: 80 }],
});

describe.skipIf(missing !== undefined)(titleWithSkip('tabby-node, Kubernetes mode: service addresses over BGP to a BIRD top-of-rack', missing), () => {
  const net = new TestNet();
  const dir = mkdtempSync(join(tmpdir(), 'tabby-node-svc-'));
  let api: FakeApiServer;
  let store: KubernetesDatastore;
  let fabric: Fabric;
  let nodes: FabricNode[];
  let tor: BirdDaemon;
  const agents: Proc[] = [];

  /** The best route per prefix at the ToR: the node (protocol) it came from. */
  const torRoutes = async (): Promise<Map<string, string[]>> => {
    const out = new Map<string, string[]>();
    for (const r of await tor.routes()) out.set(r.prefix, [...(out.get(r.prefix) ?? []), r.from].sort());
    return out;
  };
  const HOSTS = ['10.96.0.50/32', '192.0.2.7/32', '203.0.113.5/32'];
  /** Waits until the ToR has the service /32s from exactly `from`, the ranges (and probe's /32) from `ranges`. */
  const untilHostsFrom = (from: string[], what: string, ranges = ['ka', 'kb']): Promise<Map<string, string[]>> =>
    poll(async () => {
      const rs = await torRoutes();
      const probe = ranges.includes('kb') ? 'kb' : '';
      const ok = RANGES.every((p) => (rs.get(p) ?? []).join() === ranges.join()) && HOSTS.every((p) => (rs.get(p) ?? []).join() === from.join()) && (rs.get('10.96.0.60/32') ?? []).join() === probe;
      return ok && rs;
    }, { what, timeout: 60_000 });

  beforeAll(async () => {
    api = await startFakeApiServer({ socketPath: join(dir, 'api.sock') });
    store = await createKubernetesDatastore({ server: api.url });
    fabric = await Fabric.create(net, '10.209.0');
    nodes = [await fabric.addNode('ka', 1), await fabric.addNode('kb', 2)];
    const fwd = net.spawn(fabric.netns, process.execPath, [UNIX_FORWARD, fabric.gateway, String(API_PORT), join(dir, 'api.sock')]);
    await untilReady(fwd, 'API forwarder');
    const kubeconfig = join(dir, 'kubeconfig');
    writeFileSync(kubeconfig, kubeconfigFor(`http://${fabric.gateway}:${API_PORT}`));
    await store.create({
      apiVersion: 'tabby.dev/v1', kind: 'BGPConfiguration', metadata: { name: 'default' },
      spec: { serviceClusterIPs: [{ cidr: RANGES[0]! }], serviceExternalIPs: [{ cidr: RANGES[1]! }], serviceLoadBalancerIPs: [{ cidr: RANGES[2]! }] },
    } as Resource);
    await store.create({ apiVersion: 'tabby.dev/v1', kind: 'BGPPeer', metadata: { name: 'tor' }, spec: { peerIP: fabric.gateway, asNumber: TOR_AS } } as Resource);
    tor = await BirdDaemon.start({ ns: fabric.netns, net }, torConfig(fabric, nodes));
    await kubeRequest(api.url, 'POST', '/api/v1/namespaces', { metadata: { name: 'shop' } });
    const env = { ...process.env, CALICO_IPV4POOL_CIDR: '10.247.0.0/16', CALICO_IPV4POOL_IPIP: 'Never', CALICO_IPV4POOL_VXLAN: 'Never' };
    for (const n of nodes) {
      const args = ['--datastore-type', 'kubernetes', '--kubeconfig', kubeconfig, '--fallback-timeout', '2'];
      agents.push(spawnTabbyNode(net, n, { etcd: undefined, runDir: join(dir, n.name), env, args }));
    }
    for (const [i, p] of agents.entries()) await untilReady(p, `tabby-node on ${nodes[i]!.name}`);
  }, 180_000);

  afterAll(async () => {
    await tor?.stop();
    await store?.close();
    fabric?.close();
    await net.cleanup();
    await api?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('both nodes advertise the ranges; no /32 while the only endpoint is not ready', async () => {
    await kubeRequest(api.url, 'POST', '/api/v1/namespaces/shop/services', service);
    await kubeRequest(api.url, 'PUT', '/api/v1/namespaces/shop/services/web/status', service);
    await kubeRequest(api.url, 'POST', SLICES, slice('kb', false));
    // A second Local service whose slice comes after web's: once its /32 is seen, kb has seen web's slice too.
    const probe = { metadata: { name: 'probe', namespace: 'shop' }, spec: { type: 'ClusterIP', clusterIP: '10.96.0.60', externalTrafficPolicy: 'Local', ports: [{ port: 80 }] } };
    await kubeRequest(api.url, 'POST', '/api/v1/namespaces/shop/services', probe);
    await kubeRequest(api.url, 'POST', SLICES, slice('kb', true, 'probe'));
    const rs = await untilHostsFrom([], 'the service ranges from ka and kb, no /32 of web');
    expect(rs.get('10.96.0.60/32')).toEqual(['kb']);
  }, 90_000);

  it('the endpoint becomes ready on kb: kb alone advertises the /32s inside the ranges', async () => {
    await kubeRequest(api.url, 'PUT', `${SLICES}/web-1`, slice('kb', true));
    const rs = await untilHostsFrom(['kb'], 'the /32s of web from kb');
    // Outside the configured ranges: never advertised.
    expect(rs.has('198.51.100.9/32')).toBe(false);
    expect(rs.has('100.64.9.9/32')).toBe(false);
    const routes = (await tor.routes()).filter((r) => r.prefix === '10.96.0.50/32');
    expect(routes).toMatchObject([{ from: 'kb', attrs: { 'BGP.next_hop': nodes[1]!.ip } }]);
    // ka learns them over the mesh, but they stay out of its kernel (kube-proxy owns service
    // addresses): felix programs only pool routes.
    const learned = await poll(async () => {
      const r = await requestStatus<Array<{ prefix: string; nextHop: string }>>(join(dir, 'ka', 'bgp.sock'), { cmd: 'routes', prefix: '10.96.0.50/32' });
      return r.length > 0 && r;
    }, { what: 'ka learning 10.96.0.50/32 from kb', timeout: 30_000 });
    expect(learned[0]!.nextHop).toBe(nodes[1]!.ip);
    for (const dst of ['10.96.0.50/32', '192.0.2.7/32', '203.0.113.5/32', ...RANGES]) expect((await run('ip', ['-n', nodes[0]!.netns.name, 'route', 'show', 'exact', dst])).trim(), dst).toBe('');
  }, 90_000);

  it('the /32s move with the endpoint, and are withdrawn with the last one', async () => {
    await kubeRequest(api.url, 'PUT', `${SLICES}/web-1`, slice('ka', true));
    await untilHostsFrom(['ka'], 'the /32s of web from ka once the endpoint moved');
    await kubeRequest(api.url, 'DELETE', `${SLICES}/web-1`);
    await untilHostsFrom([], 'the /32s withdrawn, the ranges kept');
  }, 90_000);

  it('a Service that does not parse is skipped with a log naming it; the agents carry on', async () => {
    const bad = { metadata: { name: 'bad', namespace: 'shop' }, spec: { ...service.spec, clusterIP: '10.96.0.300', clusterIPs: ['10.96.0.300'] } };
    await kubeRequest(api.url, 'POST', '/api/v1/namespaces/shop/services', bad);
    for (const [i, a] of agents.entries()) {
      await poll(() => /Service skipped: spec\.clusterIP: \\?"10\.96\.0\.300\\?" is not an address/.test(a.output) && a.output.includes('"service":"shop/bad"'), { what: `the warning from ${nodes[i]!.name}` });
      expect(a.running).toBe(true);
    }
    await kubeRequest(api.url, 'POST', SLICES, slice('kb', true));
    await untilHostsFrom(['kb'], 'the /32s of web from kb again');
  }, 90_000);

  it('a node labelled exclude-from-external-load-balancers advertises no service address, ranges included', async () => {
    const label = async (value: string | undefined): Promise<void> => {
      const node = await kubeRequest<{ metadata: { labels?: Record<string, string> } }>(api.url, 'GET', '/api/v1/nodes/kb');
      const labels = { ...(node.metadata.labels ?? {}) };
      if (value === undefined) delete labels['node.kubernetes.io/exclude-from-external-load-balancers'];
      else labels['node.kubernetes.io/exclude-from-external-load-balancers'] = value;
      await kubeRequest(api.url, 'PUT', '/api/v1/nodes/kb', { ...node, metadata: { ...node.metadata, labels } });
    };
    await label('true');
    await untilHostsFrom([], 'nothing of the services from kb', ['ka']);
    await label(undefined);
    await untilHostsFrom(['kb'], 'the ranges and the /32s from kb again');
  }, 90_000);
});
