// Root test: tabby-node on three node namespaces with a real etcd — registration, default pool,
// tunnel addresses, in-process BGP mesh feeding felix, pods pinging over BGP routes, and the
// automatic fallback to VXLAN for a pair of nodes whose BGP is blocked.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Resource } from '@tabby/api';
import { createEtcdDatastore, type Datastore } from '@tabby/datastore';
import { Ipam } from '@tabby/ipam';
import { requestLocal } from '@tabby/node';
import { poll, run, startEtcd, TestNet, type EtcdServer, type Netns, type Proc } from '@tabby/testkit';
import { Fabric, type FabricNode } from '../src/fabric.js';
import { addStandInPod } from '../src/stand-in-pod.js';
import { spawnTabbyNode, untilReady } from '../src/agent-proc.js';

const isRoot = process.getuid?.() === 0;

interface Pod {
  ip: string;
  netns: Netns;
}

describe.skipIf(!isRoot)('tabby-node: BGP mesh, felix, and the automatic VXLAN fallback', () => {
  const net = new TestNet();
  let fabric: Fabric;
  let nodes: FabricNode[];
  let etcd: EtcdServer;
  let store: Datastore;
  let ipam: Ipam;
  const agents = new Map<string, Proc>();
  const pods = new Map<string, Pod>();
  const runDir = mkdtempSync(join(tmpdir(), 'tabby-node-e2e-'));

  const route = async (n: FabricNode, dst: string): Promise<string> => (await run('ip', ['-n', n.netns.name, 'route', 'show', 'exact', dst])).trim();
  const blockOf = (ip: string): string => `${ip.split('.').slice(0, 3).join('.')}.${Number(ip.split('.')[3]) & ~63}/26`;
  const ping = async (from: Pod, to: string): Promise<boolean> => {
    try {
      await run('ping', ['-c', '1', '-W', '1', to], { netns: from.netns.name });
      return true;
    } catch {
      return false;
    }
  };

  beforeAll(async () => {
    fabric = await Fabric.create(net, '10.202.0');
    nodes = [await fabric.addNode('na', 1), await fabric.addNode('nb', 2), await fabric.addNode('nc', 3)];
    etcd = await startEtcd();
    store = createEtcdDatastore({ endpoints: etcd.endpoint });
    ipam = new Ipam({ datastore: store });
    // BGP between na and nc is blocked from the start: their sessions never establish.
    await run('iptables', ['-A', 'INPUT', '-p', 'tcp', '--dport', '179', '-s', nodes[0]!.ip, '-j', 'DROP'], { netns: nodes[2]!.netns.name });
    await run('iptables', ['-A', 'INPUT', '-p', 'tcp', '--sport', '179', '-s', nodes[0]!.ip, '-j', 'DROP'], { netns: nodes[2]!.netns.name });
    const env = { ...process.env, CALICO_IPV4POOL_CIDR: '10.246.0.0/16', CALICO_IPV4POOL_IPIP: 'Never', CALICO_IPV4POOL_VXLAN: 'Never' };
    for (const n of nodes) agents.set(n.name, spawnTabbyNode(net, n, { etcd: etcd.endpoint, runDir: join(runDir, n.name), env, args: ['--fallback-timeout', '2'] }));
    for (const [name, p] of agents) await untilReady(p, `tabby-node on ${name}`);
    for (const n of nodes) {
      const name = `${n.name}-pod`;
      const podNs = await net.netns(`${n.name}p`);
      const ip = await addStandInPod({ store, ipam }, n, { namespace: 'default', name, podNetns: podNs.name });
      pods.set(n.name, { ip, netns: podNs });
    }
  }, 180_000);

  afterAll(async () => {
    await ipam?.idle();
    await store?.close();
    fabric?.close();
    await net.cleanup();
    await etcd?.stop();
    rmSync(runDir, { recursive: true, force: true });
  });

  it('registers each Node with its address, VTEP address and MAC, and creates the default pool once', async () => {
    const pools = (await store.list({ kind: 'IPPool' })).items;
    expect(pools.map((p) => p.metadata.name)).toEqual(['default-ipv4-ippool']);
    const node = await store.get<Resource<'Node', { bgp?: { ipv4Address?: string }; ipv4VXLANTunnelAddr?: string; vxlanTunnelMACAddr?: string }>>({ kind: 'Node', name: 'na' });
    expect(node.spec.bgp?.ipv4Address).toBe('10.202.0.1/24');
    expect(node.spec.ipv4VXLANTunnelAddr).toMatch(/^10\.246\./);
    expect(node.spec.vxlanTunnelMACAddr).toMatch(/^66:/);
  });

  it('pods reach each other over BGP-learned routes where BGP works', async () => {
    const [na, nb] = nodes as [FabricNode, FabricNode];
    await poll(async () => (await route(na, blockOf(pods.get('nb')!.ip))) === `${blockOf(pods.get('nb')!.ip)} via 10.202.0.2 dev eth0 proto 80`, { what: 'BGP route a → b', timeout: 30_000 });
    await poll(() => ping(pods.get('na')!, pods.get('nb')!.ip), { what: 'ping a → b', timeout: 20_000 });
    await poll(() => ping(pods.get('nb')!, pods.get('nc')!.ip), { what: 'ping b → c', timeout: 20_000 });
    const status = await requestLocal<{ bgp: { peers: Array<{ address: string; state: string }> } }>(join(runDir, 'nb', 'node.sock'), { cmd: 'status' });
    expect(status.bgp.peers.filter((p) => p.state === 'Established').map((p) => p.address).sort()).toEqual(['10.202.0.1', '10.202.0.3']);
    expect(nb.name).toBe('nb');
  });

  it('nodes whose BGP is blocked reach each other over VXLAN from the datastore, after the fallback timeout', async () => {
    const [na, , nc] = nodes as [FabricNode, FabricNode, FabricNode];
    const cBlock = blockOf(pods.get('nc')!.ip);
    await poll(async () => (await route(na, cBlock)).includes('dev vxlan.calico'), { what: 'a → c over vxlan', timeout: 30_000 });
    await poll(async () => (await route(nc, blockOf(pods.get('na')!.ip))).includes('dev vxlan.calico'), { what: 'c → a over vxlan', timeout: 30_000 });
    await poll(() => ping(pods.get('na')!, pods.get('nc')!.ip), { what: 'ping a → c over the fallback', timeout: 20_000 });
  });

  it('serves /readiness and Prometheus /metrics on the health port: sessions by state, the fallback, felix and the datastore', async () => {
    const na = nodes[0]!;
    const curl = async (path: string): Promise<string> => run('curl', ['-sS', '--max-time', '5', `http://127.0.0.1:9099${path}`], { netns: na.netns.name });
    const ready = JSON.parse(await curl('/readiness')) as { ok: boolean; checks: Record<string, boolean> };
    expect(ready).toEqual({ ok: true, checks: { running: true, felix: true, pollLoop: true, datastoreSynced: true, bgpConfigured: true, dataplaneProgrammed: true } });
    expect(JSON.parse(await curl('/liveness'))).toMatchObject({ ok: true });
    const metrics = await curl('/metrics');
    expect(metrics).toMatch(/^tabby_bgp_sessions\{state="Established"\} 1$/m); // nb; nc is blocked
    expect(metrics).toMatch(/^tabby_node_fallback_nodes 1$/m);
    expect(metrics).toMatch(/^tabby_bgp_prefixes\{peer="10\.202\.0\.2",kind="received"\} [1-9]/m);
    expect(metrics).toMatch(/^tabby_felix_apply_seconds_count\{kind="full"\} [1-9]/m);
    expect(metrics).toMatch(/^tabby_datastore_watch_events_total\{kind="WorkloadEndpoint",type="added"\} [1-9]/m);
  });

  it('when BGP is unblocked, the routes go back to BGP after the hold, without losing a packet', async () => {
    const [na, , nc] = nodes as [FabricNode, FabricNode, FabricNode];
    const pinger = net.spawn(pods.get('na')!.netns, 'ping', ['-i', '0.05', '-c', '400', '-W', '1', pods.get('nc')!.ip]);
    await poll(() => /icmp_seq=5 /.test(pinger.output), { what: 'ping running', timeout: 10_000 });
    await run('iptables', ['-F', 'INPUT'], { netns: nc.netns.name });
    const cBlock = blockOf(pods.get('nc')!.ip);
    await poll(async () => (await route(na, cBlock)) === `${cBlock} via 10.202.0.3 dev eth0 proto 80`, { what: 'a → c back on BGP', timeout: 90_000, interval: 500 });
    await pinger.exited;
    expect(pinger.output).toMatch(/400 packets transmitted, 400 received, 0% packet loss/);
  }, 120_000);
});
