/**
 * A small Tabby cluster in network namespaces, from what exists today: etcd as the datastore,
 * Calico-style YAML applied through @tabby/api validation, IPAM handing out pod addresses from
 * per-node blocks, pods plumbed through @tabby/netlink as the CNI plugin does (WorkloadEndpoints
 * in etcd), one `tabby-bgp` per node in a full iBGP mesh announcing the node's blocks (plus a
 * BIRD "top of rack" that learns them all), and one felix per node programming every route:
 * pod /32s, block blackholes, and the blocks learned over BGP (`<block> via <node> proto 80`).
 * Felix is fed from etcd and from the speaker's Loc-RIB over its status socket (what
 * `tabby-bgp routes -o json` prints) — tabby-node will embed both in one process.
 */
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { parseDocuments, type Resource } from '@tabby/api';
import { createEtcdDatastore, type Datastore } from '@tabby/datastore';
import { Ipam } from '@tabby/ipam';
import { requestStatus, type RouteReport, type StatusReport } from '@tabby/bgp';
import { Felix, NetlinkKernel, NetnsSysctl } from '@tabby/felix';
import { BirdDaemon, poll, startEtcd, tempDir, TestNet, type EtcdServer, type Netns, type Proc } from '@tabby/testkit';
import { Fabric, type FabricNode } from './fabric.js';
import { feedFromBgpStatus, feedFromDatastore } from './felix-feed.js';
import { plumbPod } from './pod.js';

/** The built daemon (bgp/dist), resolved from this file in src/ or dist/. */
export const TABBY_BGP = join(dirname(fileURLToPath(import.meta.url)), '../../bgp/dist/bin/tabby-bgp.js');

export const MESH_AS = 64512;
export const TOR_AS = 65000;

/** The pool every demo pod draws from, as an operator would write it for Calico. */
export const POOL_YAML = `apiVersion: projectcalico.org/v3
kind: IPPool
metadata:
  name: default-ipv4-ippool
spec:
  cidr: 10.244.0.0/16
  blockSize: 26
  ipipMode: Never
  vxlanMode: Never
  natOutgoing: true
  nodeSelector: all()
`;

export interface ClusterPod {
  name: string;
  namespace: string;
  ip: string;
  netns: Netns;
  iface: string;
}

export interface ClusterNode extends FabricNode {
  blocks: string[];
  pods: ClusterPod[];
  bgp: Proc;
  statusSocket: string;
  felix: Felix;
}

export interface Cluster {
  net: TestNet;
  fabric: Fabric;
  etcd: EtcdServer;
  store: Datastore;
  ipam: Ipam;
  nodes: ClusterNode[];
  tor: BirdDaemon;
  status(node: ClusterNode): Promise<StatusReport>;
  routes(node: ClusterNode): Promise<RouteReport[]>;
  /** Resolves when felix on each node has every other node's blocks in its kernel. */
  programRoutes(): Promise<void>;
  stop(): Promise<void>;
}

export interface ClusterOptions {
  nodes?: number;
  podsPerNode?: number;
  log?: (line: string) => void;
}

function torConfig(fabric: Fabric, nodes: FabricNode[]): string {
  return [
    `router id ${fabric.gateway};`,
    'protocol device {}',
    ...nodes.map(
      (n) => `protocol bgp ${n.name} { local ${fabric.gateway} as ${TOR_AS}; neighbor ${n.ip} as ${MESH_AS}; ipv4 { import all; export none; }; }`,
    ),
  ].join('\n');
}

function speakerConfig(node: FabricNode, all: FabricNode[], fabric: Fabric, blocks: string[], socket: string): Record<string, unknown> {
  const mesh = all.filter((n) => n.name !== node.name).map((n) => ({ address: n.ip, asn: MESH_AS, families: ['ipv4-unicast'] }));
  return {
    routerId: node.ip,
    asn: MESH_AS,
    listen: { address: node.ip, port: 179 },
    holdTime: 30,
    peers: [...mesh, { address: fabric.gateway, asn: TOR_AS, families: ['ipv4-unicast'] }],
    prefixes: blocks,
    statusSocket: socket,
  };
}

/** Builds and starts the cluster; on failure everything created so far is removed. */
export async function startCluster(opts: ClusterOptions = {}): Promise<Cluster> {
  const log = opts.log ?? (() => {});
  const net = new TestNet();
  const stack: Array<() => Promise<void> | void> = [() => net.cleanup()];
  const unwind = async (): Promise<void> => {
    for (const f of stack.splice(0).reverse()) await f();
  };
  try {
    const fabric = await Fabric.create(net);
    stack.push(() => fabric.close());
    const fnodes: FabricNode[] = [];
    for (let i = 1; i <= (opts.nodes ?? 3); i++) fnodes.push(await fabric.addNode(`node${i}`, i));
    log(`fabric ${fabric.netns.name}: bridge with ${fnodes.length} nodes (${fnodes.map((n) => n.ip).join(', ')}), ToR at ${fabric.gateway}`);

    const etcd = await startEtcd();
    stack.push(() => etcd.stop());
    const store = createEtcdDatastore({ endpoints: etcd.endpoint });
    stack.push(() => store.close());
    log(`etcd on ${etcd.endpoint}`);

    for (const r of parseDocuments(POOL_YAML, 'pool.yaml')) await store.create(r);
    for (const n of fnodes) {
      const node: Resource = { apiVersion: 'tabby.dev/v1', kind: 'Node', metadata: { name: n.name, labels: { 'kubernetes.io/hostname': n.name } }, spec: { bgp: { ipv4Address: `${n.ip}/24` } } };
      await store.create(node);
    }
    log(`applied IPPool default-ipv4-ippool (10.244.0.0/16, blockSize 26) and ${fnodes.length} Node resources`);

    const ipam = new Ipam({ datastore: store });
    stack.push(() => ipam.idle());
    const nodes: ClusterNode[] = [];
    for (const n of fnodes) {
      const pods: ClusterPod[] = [];
      for (let p = 1; p <= (opts.podsPerNode ?? 2); p++) {
        const name = `${n.name}-pod${p}`;
        const { ipv4 } = await ipam.autoAssign({ handle: `k8s-pod-network.${name}`, node: n.name, num4: 1, attrs: { namespace: 'default', pod: name } });
        const podNs = await net.netns(`${n.name.slice(-1)}p${p}`);
        const iface = await plumbPod(n.nl, { namespace: 'default', name, ip: ipv4[0]!, nodeNetns: n.netns.name, podNetns: podNs.name });
        await store.create({
          apiVersion: 'tabby.dev/v1', kind: 'WorkloadEndpoint', metadata: { name: `${n.name}-k8s-${name}-eth0`, namespace: 'default', labels: { app: name } },
          spec: { node: n.name, orchestrator: 'k8s', pod: name, endpoint: 'eth0', interfaceName: iface, ipNetworks: [`${ipv4[0]!}/32`], mac: 'ee:ee:ee:ee:ee:ee', profiles: ['kns.default'] },
        } as Resource);
        pods.push({ name, namespace: 'default', ip: ipv4[0]!, netns: podNs, iface });
      }
      const blocks = await ipam.blocksForNode(n.name);
      nodes.push({ ...n, blocks, pods, bgp: undefined as unknown as Proc, statusSocket: '', felix: undefined as unknown as Felix });
      log(`${n.name}: block ${blocks.join(', ')}; pods ${pods.map((p) => `${p.name}=${p.ip} (${p.iface})`).join(', ')}`);
    }

    const tor = await BirdDaemon.start({ ns: fabric.netns, net }, torConfig(fabric, fnodes));
    stack.push(() => tor.stop());
    for (const n of nodes) {
      const dir = tempDir('tabby-demo-');
      stack.push(() => dir.remove());
      n.statusSocket = join(dir.dir, 'status.sock');
      const file = join(dir.dir, 'tabby-bgp.yaml');
      writeFileSync(file, stringify(speakerConfig(n, fnodes, fabric, n.blocks, n.statusSocket)));
      n.bgp = net.spawn(n.netns, process.execPath, [TABBY_BGP, '--config', file, '--log-level', 'warn']);
    }
    log(`started tabby-bgp on ${nodes.length} nodes (AS ${MESH_AS}, full mesh) and BIRD ${'2'} as ToR (AS ${TOR_AS})`);

    const feeds = new AbortController();
    stack.push(() => feeds.abort());
    for (const n of nodes) {
      const kernel = await NetlinkKernel.open(n.netns.name);
      stack.push(() => kernel.close());
      n.felix = new Felix({ kernel, sysctl: new NetnsSysctl(n.netns.name) }, { nodeName: n.name });
      n.felix.start();
      stack.push(() => n.felix.stop());
      await feedFromDatastore(store, n.felix, n.name, feeds.signal);
      await feedFromBgpStatus(n.statusSocket, n.felix, feeds.signal);
      n.felix.apply([{ type: 'in-sync' }]);
    }
    log(`started felix on ${nodes.length} nodes, fed from etcd and each speaker's routes`);

    const status = (n: ClusterNode): Promise<StatusReport> => requestStatus<StatusReport>(n.statusSocket, { cmd: 'status' });
    const routes = (n: ClusterNode): Promise<RouteReport[]> => requestStatus<RouteReport[]>(n.statusSocket, { cmd: 'routes' });

    const programRoutes = async (): Promise<void> => {
      for (const n of nodes) {
        const want = nodes.filter((o) => o !== n).flatMap((o) => o.blocks);
        await poll(
          async () => {
            if (!n.bgp.running) throw new Error(`tabby-bgp on ${n.name} exited: ${n.bgp.output}`);
            const kernel = await n.nl.routes.dump({ family: 4, protocol: 80 });
            return want.every((b) => kernel.some((r) => r.dst === b && r.gateway)) && n.pods.every((p) => kernel.some((r) => r.dst === `${p.ip}/32`));
          },
          { timeout: 60_000, what: `felix on ${n.name} to program ${want.join(', ')} learned over BGP` },
        );
      }
    };

    return {
      net,
      fabric,
      etcd,
      store,
      ipam,
      nodes,
      tor,
      status,
      routes,
      programRoutes,
      stop: unwind,
    };
  } catch (e: unknown) {
    await unwind();
    throw e;
  }
}
