// Root test: route-reflector mode. One tabby-node reflector (no dataplane) and three nodes with
// the full mesh off; BGPPeers (as manifests/route-reflector.yaml has them) make the nodes clients
// of the reflector; pods ping across nodes over routes the reflector carried.
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
const RR_LABEL = 'tabby.dev/route-reflector';

describe.skipIf(!isRoot)('route reflector: clients learn each other’s blocks through a tabby-node reflector', () => {
  const net = new TestNet();
  let fabric: Fabric;
  let rr: FabricNode;
  let clients: FabricNode[];
  let etcd: EtcdServer;
  let store: Datastore;
  let ipam: Ipam;
  const procs: Proc[] = [];
  const pods = new Map<string, { ip: string; netns: Netns }>();
  const runDir = mkdtempSync(join(tmpdir(), 'tabby-rr-e2e-'));

  const spawn = (n: FabricNode, args: string[]): Proc => {
    const env = { ...process.env, CALICO_IPV4POOL_CIDR: '10.247.0.0/16', CALICO_IPV4POOL_IPIP: 'Never', CALICO_IPV4POOL_VXLAN: 'Never' };
    const p = spawnTabbyNode(net, n, { etcd: etcd.endpoint, runDir: join(runDir, n.name), env, args });
    procs.push(p);
    return p;
  };
  const ready = (name: string, p: Proc): Promise<void> => untilReady(p, `tabby-node on ${name}`);

  beforeAll(async () => {
    fabric = await Fabric.create(net, '10.203.0');
    rr = await fabric.addNode('rr', 10);
    clients = [await fabric.addNode('c1', 1), await fabric.addNode('c2', 2), await fabric.addNode('c3', 3)];
    etcd = await startEtcd();
    store = createEtcdDatastore({ endpoints: etcd.endpoint });
    ipam = new Ipam({ datastore: store });
    const docs: Resource[] = [
      { apiVersion: 'tabby.dev/v1', kind: 'BGPConfiguration', metadata: { name: 'default' }, spec: { nodeToNodeMeshEnabled: false } },
      { apiVersion: 'tabby.dev/v1', kind: 'BGPPeer', metadata: { name: 'peer-with-route-reflectors' }, spec: { nodeSelector: `!has(${RR_LABEL})`, peerSelector: `${RR_LABEL} == 'true'` } },
    ];
    for (const d of docs) await store.create(d);
    // The reflector's Node carries the label the selectors use (an operator sets it; here, first).
    await store.create({ apiVersion: 'tabby.dev/v1', kind: 'Node', metadata: { name: 'rr', labels: { [RR_LABEL]: 'true' } }, spec: {} } as Resource);
    const rrProc = spawn(rr, ['--route-reflector', '244.0.0.1', '--no-dataplane']);
    await ready('rr', rrProc);
    for (const c of clients) await ready(c.name, spawn(c, []));
    for (const n of clients) {
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

  it('the reflector peers with every client (and clients only with it), and clients route via each other', async () => {
    await poll(async () => {
      const st = await requestLocal<{ bgp: { peers: Array<{ address: string; state: string; type: string }> } }>(join(runDir, 'rr', 'node.sock'), { cmd: 'status' });
      return st.bgp.peers.filter((p) => p.state === 'Established' && p.type === 'route reflector client').length === 3;
    }, { what: 'three established clients on the reflector', timeout: 30_000 }).catch(async (e: unknown) => {
      const st = await requestLocal(join(runDir, 'rr', 'node.sock'), { cmd: 'status' });
      throw new Error(`${String(e)}\nreflector status: ${JSON.stringify(st)}\n${procs.map((p) => p.output).join('\n')}`);
    });
    const c1 = await requestLocal<{ bgp: { peers: Array<{ address: string }> } }>(join(runDir, 'c1', 'node.sock'), { cmd: 'status' });
    expect(c1.bgp.peers.map((p) => p.address)).toEqual([rr.ip]);
    const c3Ip = pods.get('c3')!.ip;
    const block = `${c3Ip.split('.').slice(0, 3).join('.')}.${Number(c3Ip.split('.')[3]) & ~63}/26`;
    await poll(async () => (await run('ip', ['-n', clients[0]!.netns.name, 'route', 'show', 'exact', block])).trim() === `${block} via ${clients[2]!.ip} dev eth0 proto 80`, { what: 'reflected route with the original next hop', timeout: 30_000 });
    for (const [from, to] of [['c1', 'c3'], ['c2', 'c1'], ['c3', 'c2']] as const) {
      await poll(async () => {
        try {
          await run('ping', ['-c', '1', '-W', '1', pods.get(to)!.ip], { netns: pods.get(from)!.netns.name });
          return true;
        } catch {
          return false;
        }
      }, { what: `ping ${from} → ${to}`, timeout: 20_000 });
    }
    // The reflector has no dataplane: no routes of ours in its namespace.
    expect((await run('ip', ['-n', rr.netns.name, 'route', 'show', 'proto', '80'])).trim()).toBe('');
  });
});
