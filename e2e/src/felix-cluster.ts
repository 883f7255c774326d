/**
 * A cluster whose routing is done by felix: two underlay segments joined by the fabric's router,
 * three nodes (two on the first segment, one on the second), etcd, one pool, IPAM-allocated pod
 * addresses and VTEP addresses, pods plumbed as the CNI plugin does (veth and pod side only),
 * WorkloadEndpoints in etcd, and one `felix-node` process per node fed from etcd.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Resource } from '@tabby/api';
import { createEtcdDatastore, type Datastore } from '@tabby/datastore';
import { Ipam } from '@tabby/ipam';
import { run, startEtcd, TestNet, type EtcdServer, type Netns, type Proc } from '@tabby/testkit';
import { Fabric, type FabricNode } from './fabric.js';
import { plumbPod } from './pod.js';
import { untilReady } from './agent-proc.js';

/** The built felix-node runner (e2e/dist/bin), resolved from this file in src/ or dist/. */
export const FELIX_NODE = join(dirname(fileURLToPath(import.meta.url)), '../dist/bin/felix-node.js');

export interface FelixPod {
  name: string;
  ip: string;
  netns: Netns;
  iface: string;
}

export interface FelixClusterNode extends FabricNode {
  pods: FelixPod[];
  felix: Proc | undefined;
}

export interface FelixCluster {
  net: TestNet;
  fabric: Fabric;
  etcd: EtcdServer;
  store: Datastore;
  ipam: Ipam;
  nodes: FelixClusterNode[];
  /** Sets the pool's encapsulation modes. */
  setModes(ipip: string, vxlan: string): Promise<void>;
  /** Starts (or restarts) felix on a node and waits for it to be ready. */
  startFelix(node: FelixClusterNode, extraArgs?: string[]): Promise<void>;
  /** True when one ping from `from` to `to` is answered. */
  ping(from: FelixPod, to: string): Promise<boolean>;
  stop(): Promise<void>;
}

export const FELIX_POOL = '10.245.0.0/16';

/** Builds the cluster; everything is removed by `stop()`, or at once when building fails. */
export async function startFelixCluster(opts: { vxlanMode?: string; ipipMode?: string; podsPerNode?: number } = {}): Promise<FelixCluster> {
  const net = new TestNet();
  const stack: Array<() => Promise<void> | void> = [() => net.cleanup()];
  const unwind = async (): Promise<void> => {
    for (const f of stack.splice(0).reverse()) await f();
  };
  try {
    const fabric = await Fabric.create(net, ['10.201.0', '10.201.1']);
    stack.push(() => fabric.close());
    const fnodes = [await fabric.addNode('fa', 1, 0), await fabric.addNode('fb', 2, 0), await fabric.addNode('fc', 3, 1)];
    const etcd = await startEtcd();
    stack.push(() => etcd.stop());
    const store = createEtcdDatastore({ endpoints: etcd.endpoint });
    stack.push(() => store.close());
    const pool: Resource = {
      apiVersion: 'tabby.dev/v1', kind: 'IPPool', metadata: { name: 'pool' },
      spec: { cidr: FELIX_POOL, blockSize: 26, ipipMode: opts.ipipMode ?? 'Never', vxlanMode: opts.vxlanMode ?? 'Always', natOutgoing: false, disabled: false, disableBGPExport: false, nodeSelector: 'all()', allowedUses: ['Workload', 'Tunnel'] },
    };
    await store.create(pool);
    for (const n of fnodes) {
      await store.create({ apiVersion: 'tabby.dev/v1', kind: 'Node', metadata: { name: n.name }, spec: { bgp: { ipv4Address: `${n.ip}/24` } } } as Resource);
    }
    const ipam = new Ipam({ datastore: store });
    stack.push(() => ipam.idle());
    const nodes: FelixClusterNode[] = [];
    for (const n of fnodes) {
      const vtep = await ipam.tunnelAddress(n.name, 'vxlan');
      const node = await store.get<Resource<'Node', Record<string, unknown>>>({ kind: 'Node', name: n.name });
      await store.update({ ...node, spec: { ...node.spec, ipv4VXLANTunnelAddr: vtep } });
      const pods: FelixPod[] = [];
      for (let p = 1; p <= (opts.podsPerNode ?? 1); p++) {
        const name = `${n.name}-pod${p}`;
        const { ipv4 } = await ipam.autoAssign({ handle: `k8s-pod-network.${name}`, node: n.name, num4: 1, attrs: { namespace: 'default', pod: name } });
        const ip = ipv4[0]!;
        const podNs = await net.netns(`${n.name}p${p}`);
        const iface = await plumbPod(n.nl, { namespace: 'default', name, ip, nodeNetns: n.netns.name, podNetns: podNs.name });
        await store.create({
          apiVersion: 'tabby.dev/v1', kind: 'WorkloadEndpoint', metadata: { name: `${n.name}-k8s-${name}-eth0`, namespace: 'default', labels: { app: name } },
          spec: { node: n.name, orchestrator: 'k8s', pod: name, endpoint: 'eth0', interfaceName: iface, ipNetworks: [`${ip}/32`], mac: 'ee:ee:ee:ee:ee:ee', profiles: ['kns.default'] },
        } as Resource);
        pods.push({ name, ip, netns: podNs, iface });
      }
      nodes.push({ ...n, pods, felix: undefined });
    }

    const startFelix = async (node: FelixClusterNode, extraArgs: string[] = []): Promise<void> => {
      const proc = net.spawn(node.netns, process.execPath, [FELIX_NODE, '--node', node.name, '--netns', node.netns.name, '--etcd', etcd.endpoint, ...extraArgs]);
      node.felix = proc;
      await untilReady(proc, `felix-node on ${node.name}`, 30_000);
    };
    for (const n of nodes) await startFelix(n);

    const setModes = async (ipip: string, vxlan: string): Promise<void> => {
      const cur = await store.get<Resource<'IPPool', Record<string, unknown>>>({ kind: 'IPPool', name: 'pool' });
      await store.update({ ...cur, spec: { ...cur.spec, ipipMode: ipip, vxlanMode: vxlan } });
    };
    const ping = async (from: FelixPod, to: string): Promise<boolean> => {
      try {
        await run('ping', ['-c', '1', '-W', '1', to], { netns: from.netns.name });
        return true;
      } catch {
        return false;
      }
    };
    return { net, fabric, etcd, store, ipam, nodes, setModes, startFelix, ping, stop: unwind };
  } catch (e: unknown) {
    await unwind();
    throw e;
  }
}
