// Root test: route-reflector mode. Two tabby-node reflectors (no dataplane, one cluster ID) and
// eight nodes with the full mesh off; BGPPeers (as manifests/route-reflector.yaml has them) make
// the nodes clients of both reflectors; pods ping across nodes over routes the reflectors
// carried, and keep doing so, without loss, when one reflector stops.
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
import { blockOf, ContinuousPing, pingOnce, routeTo } from '../src/probe.js';
import { spawnTabbyNode, untilReady } from '../src/agent-proc.js';

const isRoot = process.getuid?.() === 0;
const RR_LABEL = 'tabby.dev/route-reflector';

describe.skipIf(!isRoot)('route reflectors: clients learn each other’s blocks through two tabby-node reflectors', () => {
  const net = new TestNet();
  let fabric: Fabric;
  let rrs: FabricNode[];
  let clients: FabricNode[];
  let etcd: EtcdServer;
  let store: Datastore;
  let ipam: Ipam;
  const procs = new Map<string, Proc>();
  const pods = new Map<string, { ip: string; netns: Netns }>();
  const runDir = mkdtempSync(join(tmpdir(), 'tabby-rr-e2e-'));

  const spawn = (n: FabricNode, args: string[]): Proc => {
    const env = { ...process.env, CALICO_IPV4POOL_CIDR: '10.247.0.0/16', CALICO_IPV4POOL_IPIP: 'Never', CALICO_IPV4POOL_VXLAN: 'Never' };
    const p = spawnTabbyNode(net, n, { etcd: etcd.endpoint, runDir: join(runDir, n.name), env, args });
    procs.set(n.name, p);
    return p;
  };
  const ready = (name: string, p: Proc): Promise<void> => untilReady(p, `tabby-node on ${name}`);

  beforeAll(async () => {
    fabric = await Fabric.create(net, '10.203.0');
    rrs = [await fabric.addNode('rr1', 101), await fabric.addNode('rr2', 102)];
    clients = [];
    for (let i = 1; i <= 8; i++) clients.push(await fabric.addNode(`c${i}`, i));
    etcd = await startEtcd();
    store = createEtcdDatastore({ endpoints: etcd.endpoint });
    ipam = new Ipam({ datastore: store });
    const docs: Resource[] = [
      { apiVersion: 'tabby.dev/v1', kind: 'BGPConfiguration', metadata: { name: 'default' }, spec: { nodeToNodeMeshEnabled: false } },
      { apiVersion: 'tabby.dev/v1', kind: 'BGPPeer', metadata: { name: 'peer-with-route-reflectors' }, spec: { nodeSelector: `!has(${RR_LABEL})`, peerSelector: `${RR_LABEL} == 'true'` } },
    ];
    for (const d of docs) await store.create(d);
    // The reflectors' Nodes carry the label the selectors use (an operator sets it; here, first).
    for (const rr of rrs) await store.create({ apiVersion: 'tabby.dev/v1', kind: 'Node', metadata: { name: rr.name, labels: { [RR_LABEL]: 'true' } }, spec: {} } as Resource);
    for (const rr of rrs) spawn(rr, ['--route-reflector', '244.0.0.1', '--no-dataplane']);
    for (const c of clients) spawn(c, []);
    for (const [name, p] of procs) await ready(name, p);
    await Promise.all(clients.map(async (n) => {
      const name = `${n.name}-pod`;
      const podNs = await net.netns(`${n.name}p`);
      const ip = await addStandInPod({ store, ipam }, n, { namespace: 'default', name, podNetns: podNs.name });
      pods.set(n.name, { ip, netns: podNs });
    }));
  }, 240_000);

  afterAll(async () => {
    await ipam?.idle();
    await store?.close();
    fabric?.close();
    await net.cleanup();
    await etcd?.stop();
    rmSync(runDir, { recursive: true, force: true });
  });

  it('each reflector peers with every client (and clients only with the reflectors), and clients route via each other', async () => {
    for (const rr of rrs) {
      await poll(async () => {
        const st = await requestLocal<{ bgp: { peers: Array<{ address: string; state: string; type: string }> } }>(join(runDir, rr.name, 'node.sock'), { cmd: 'status' });
        return st.bgp.peers.filter((p) => p.state === 'Established' && p.type === 'route reflector client').length === 8;
      }, { what: `eight established clients on ${rr.name}`, timeout: 60_000 }).catch(async (e: unknown) => {
        const st = await requestLocal(join(runDir, rr.name, 'node.sock'), { cmd: 'status' });
        throw new Error(`${String(e)}\nreflector status: ${JSON.stringify(st)}\n${[...procs.values()].map((p) => p.output).join('\n')}`);
      });
    }
    const c1 = await requestLocal<{ bgp: { peers: Array<{ address: string }> } }>(join(runDir, 'c1', 'node.sock'), { cmd: 'status' });
    expect(c1.bgp.peers.map((p) => p.address).sort()).toEqual(rrs.map((r) => r.ip).sort());
    const c8 = clients[7]!;
    const block = blockOf(pods.get('c8')!.ip);
    await poll(async () => (await routeTo(clients[0]!, block)) === `${block} via ${c8.ip} dev eth0 proto 80`, { what: 'reflected route with the original next hop', timeout: 30_000 });
    await Promise.all(clients.map((from, i) => {
      const to = clients[(i + 1) % clients.length]!;
      return poll(() => pingOnce(pods.get(from.name)!, pods.get(to.name)!.ip), { what: `ping ${from.name} → ${to.name}`, timeout: 30_000 });
    }));
    // The reflectors have no dataplane: no routes of ours in their namespaces.
    for (const rr of rrs) expect((await run('ip', ['-n', rr.netns.name, 'route', 'show', 'proto', '80'])).trim()).toBe('');
  }, 120_000);

  it('one reflector stops: the other carries the routes, pings lose nothing', async () => {
    const pinger = new ContinuousPing(net, pods.get('c1')!, pods.get('c8')!.ip);
    await poll(() => pinger.replies > 5, { what: 'ping running', timeout: 10_000 });
    await procs.get('rr1')!.stop('SIGTERM');
    await poll(async () => {
      const st = await requestLocal<{ bgp: { peers: Array<{ address: string; state: string }> } }>(join(runDir, 'c1', 'node.sock'), { cmd: 'status' });
      return st.bgp.peers.find((p) => p.address === rrs[0]!.ip)?.state !== 'Established';
    }, { what: 'c1 sees rr1 gone', timeout: 30_000 });
    const c1Before = pinger.replies;
    await poll(() => pinger.replies > c1Before + 20, { what: 'pings go on after rr1 stopped', timeout: 30_000 });
    const block = blockOf(pods.get('c8')!.ip);
    expect(await routeTo(clients[0]!, block)).toBe(`${block} via ${clients[7]!.ip} dev eth0 proto 80`);
    expect((await pinger.stop()).lost).toEqual([]);
  }, 90_000);
});
