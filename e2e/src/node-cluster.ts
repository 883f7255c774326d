/**
 * A cluster as users deploy it, in network namespaces: a routed fabric (segments joined by the
 * fabric namespace, which also runs a BIRD "top of rack"), etcd, and one `tabby-node` process per
 * node namespace (datastore → IPAM → BGP speaker → felix). Pods are added as kubelet adds them:
 * the `tabby` CNI plugin runs from a CNI bin dir with Calico's configuration fields and hands
 * the call to its node's tabby-node over the node's `cni.sock` (`cniPlumber`, the default);
 * `standInPlumber` plumbs without the plugin.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Resource } from '@tabby/api';
import { installCniPlugins } from '@tabby/cni';
import { createEtcdDatastore, type Datastore } from '@tabby/datastore';
import { Ipam } from '@tabby/ipam';
import { requestLocal } from '@tabby/node';
import { BirdDaemon, run, startEtcd, TestNet, type EtcdServer, type Netns, type Proc } from '@tabby/testkit';
import { Fabric, type FabricNode } from './fabric.js';
import { addStandInPod } from './stand-in-pod.js';
import { pingOnce } from './probe.js';
import { spawnTabbyNode, untilReady } from './agent-proc.js';
import { checkNeighbourBudget } from './neighbour-budget.js';

export { TABBY_NODE } from './agent-proc.js';

export const CLUSTER_AS = 64512;
export const TOR_AS = 65000;

export interface ClusterPod {
  name: string;
  namespace: string;
  ip: string;
  /** Its IPv6 address, in a dual-stack cluster. */
  ip6?: string;
  netns: Netns;
  node: string;
}

export interface AgentNode extends FabricNode {
  agent: Proc;
  runDir: string;
  segment: number;
}

/** Adds a pod to a node the way kubelet + CNI would; returns its addresses. */
export type PodPlumber = (c: NodeCluster, node: AgentNode, pod: { namespace: string; name: string; netns: Netns; labels: Record<string, string> }) => Promise<{ ip: string; ip6?: string }>;

export interface NodeCluster {
  net: TestNet;
  /** Temporary directory of the run (node run dirs, CNI bin dir). */
  runRoot: string;
  fabric: Fabric;
  etcd: EtcdServer;
  store: Datastore;
  ipam: Ipam;
  tor: BirdDaemon;
  nodes: AgentNode[];
  pods: ClusterPod[];
  /** Dual stack (see NodeClusterOptions.ipv6). */
  ipv6: boolean;
  addPod(node: AgentNode, namespace: string, name: string, labels?: Record<string, string>): Promise<ClusterPod>;
  /** Removes a pod as kubelet does (CNI DEL through the tabby plugin) and deletes its namespace. */
  removePod(pod: ClusterPod): Promise<void>;
  /** Stops the node's tabby-node (SIGKILL: a crash; SIGTERM: a clean stop) and starts it again; resolves when it is ready. */
  restartAgent(node: AgentNode, signal?: 'SIGKILL' | 'SIGTERM', whileStopped?: () => Promise<void>): Promise<void>;
  status(node: AgentNode): Promise<NodeStatus>;
  ping(from: ClusterPod, to: string): Promise<boolean>;
  stop(): Promise<void>;
}

export interface NodeStatus {
  node: string;
  address: string;
  ready: boolean;
  bgp: { peers: Array<{ address: string; asn: number; state: string; type: string; prefixesReceived: number; prefixesAdvertised: number }> };
  /** Remote nodes routed over the fallback tunnel now (the agent's `fallback.nodes`, by name). */
  fallback: string[];
  /** The same nodes, each with the address families whose blocks take the tunnel. */
  fallbackFamilies: Record<string, number[]>;
}

export interface NodeClusterOptions {
  /**
   * Nodes per segment, e.g. [2, 1]: two on the first segment, one on the second. A full mesh on
   * one segment needs n² IPv4 neighbour entries from a table all namespaces share (~27 nodes per
   * segment at most with the default gc_thresh3: see neighbour-budget.ts); more is refused.
   */
  layout?: number[];
  /** Pool env for tabby-node (CALICO_IPV4POOL_*). */
  poolEnv?: Record<string, string>;
  plumber?: PodPlumber;
  /** Dual stack: an IPv6 pool, IPv6 node addresses autodetected, pods with both families. */
  ipv6?: boolean;
  /** How long each tabby-node may take to get ready, ms [60 s] (tens of agents starting at once on few cores need more). */
  readyTimeoutMs?: number;
  /** tabby-node's bgpFallbackTimeout, seconds [3]. */
  fallbackTimeout?: number;
  log?: (line: string) => void;
}

/** The stand-in plumber: veth and pod side, and the WorkloadEndpoint, with an IPAM address. */
export const standInPlumber: PodPlumber = async (c, node, pod) => ({ ip: await addStandInPod(c, node, { namespace: pod.namespace, name: pod.name, podNetns: pod.netns.name, labels: pod.labels }) });

/** The CNI bin dir of a cluster: tabby, tabby-ipam and Debian's reference plugins (made on first use). */
function cniBin(c: NodeCluster): string {
  const bin = join(c.runRoot, 'cni-bin');
  if (!existsSync(bin)) {
    mkdirSync(bin, { recursive: true });
    installCniPlugins(bin);
    if (existsSync('/usr/lib/cni')) for (const p of readdirSync('/usr/lib/cni')) if (!existsSync(join(bin, p))) symlinkSync(join('/usr/lib/cni', p), join(bin, p));
  }
  return bin;
}

/**
 * Runs the `tabby` plugin as a container runtime does (CNI spec: CNI_* variables, the network
 * configuration on stdin, the result on stdout), inside the node's namespace as kubelet runs it.
 */
function runPlugin(c: NodeCluster, node: AgentNode, command: 'ADD' | 'DEL', podNetns: string, args: string): Promise<string> {
  const bin = cniBin(c);
  const conf = {
    cniVersion: '1.0.0', name: 'k8s-pod-network', type: 'tabby', log_level: 'warn', datastore_type: 'etcdv3', etcd_endpoints: c.etcd.endpoint,
    nodename: node.name, mtu: 1450, agent_socket: join(node.runDir, 'cni.sock'), ipam: { type: 'tabby-ipam', assign_ipv6: c.ipv6 ? 'true' : 'false' }, policy: { type: 'k8s' },
  };
  const env = {
    PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', CNI_COMMAND: command, CNI_CONTAINERID: podNetns, CNI_NETNS: `/var/run/netns/${podNetns}`,
    CNI_IFNAME: 'eth0', CNI_ARGS: args, CNI_PATH: bin,
  };
  return new Promise((resolve, reject) => {
    const child = execFile('ip', ['netns', 'exec', node.netns.name, join(bin, 'tabby')], { env, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`tabby ${command} on ${node.name} failed: ${stdout}${stderr}`));
      else resolve(stdout);
    });
    child.stdin?.end(JSON.stringify(conf));
  });
}

/** CNI_ARGS as kubelet passes them for a pod. */
const podArgs = (pod: { namespace: string; name: string; netns: Netns }): string => `IgnoreUnknown=1;K8S_POD_NAMESPACE=${pod.namespace};K8S_POD_NAME=${pod.name};K8S_POD_INFRA_CONTAINER_ID=${pod.netns.name}`;

/**
 * Kubelet's part: CNI ADD through the tabby plugin (which hands it to the node's tabby-node), then
 * the pod's labels on its WorkloadEndpoint, as `calicoctl label workloadendpoints` sets them when
 * no Kubernetes API supplies pod labels.
 */
export const cniPlumber: PodPlumber = async (c, node, pod) => {
  const out = await runPlugin(c, node, 'ADD', pod.netns.name, podArgs(pod));
  const result = JSON.parse(out) as { ips?: Array<{ address: string }> };
  const ips = (result.ips ?? []).map((a) => a.address.split('/')[0]!);
  const ip = ips.find((a) => !a.includes(':'));
  const ip6 = ips.find((a) => a.includes(':'));
  if (!ip || (c.ipv6 && !ip6)) throw new Error(`tabby ADD on ${node.name}: no ${ip ? 'IPv6 ' : ''}address in the result: ${out}`);
  if (Object.keys(pod.labels).length > 0) {
    const wep = (await c.store.list<Resource<'WorkloadEndpoint', { pod?: string }>>({ kind: 'WorkloadEndpoint', namespace: pod.namespace })).items.find((w) => w.spec.pod === pod.name);
    if (!wep) throw new Error(`no WorkloadEndpoint for ${pod.namespace}/${pod.name} after ADD`);
    await c.store.update({ ...wep, metadata: { ...wep.metadata, labels: { ...(wep.metadata.labels ?? {}), ...pod.labels } } });
  }
  return { ip, ip6 };
};

/** BIRD's configuration as the top-of-rack router in the fabric: eBGP with every node, import all, export none. */
export function torConfig(fabric: Fabric, nodes: FabricNode[]): string {
  return [
    `router id ${fabric.gateway};`,
    'protocol device {}',
    ...nodes.map((n) => `protocol bgp ${n.name} { local as ${TOR_AS}; neighbor ${n.ip} as ${CLUSTER_AS}; multihop; ipv4 { import all; export none; }; }`),
  ].join('\n');
}

/** Builds and starts the cluster; on failure everything created so far is removed. */
export async function startNodeCluster(opts: NodeClusterOptions = {}): Promise<NodeCluster> {
  const log = opts.log ?? (() => {});
  const layout = opts.layout ?? [2, 1];
  checkNeighbourBudget(layout); // before anything is created: a layout the kernel cannot carry fails here, clearly
  const net = new TestNet();
  const runRoot = mkdtempSync(join(tmpdir(), 'tabby-cluster-'));
  const stack: Array<() => Promise<void> | void> = [() => rmSync(runRoot, { recursive: true, force: true }), () => net.cleanup()];
  const unwind = async (): Promise<void> => {
    for (const f of stack.splice(0).reverse()) await f();
  };
  try {
    const fabric = await Fabric.create(net, layout.map((_, i) => `10.210.${i}`));
    stack.push(() => fabric.close());
    const fnodes: Array<FabricNode & { segment: number }> = [];
    let host = 1;
    for (const [seg, count] of layout.entries()) for (let i = 0; i < count; i++) fnodes.push({ ...(await fabric.addNode(`node${host}`, host++, seg)), segment: seg });
    log(`fabric ${fabric.netns.name}: ${layout.length} routed segment(s) ${fabric.subnets.map((s) => `${s}.0/24`).join(', ')}; nodes ${fnodes.map((n) => `${n.name}=${n.ip}`).join(', ')}`);
    const etcd = await startEtcd();
    stack.push(() => etcd.stop());
    const store = createEtcdDatastore({ endpoints: etcd.endpoint });
    stack.push(() => store.close());
    const ipam = new Ipam({ datastore: store });
    stack.push(() => ipam.idle());
    log(`etcd on ${etcd.endpoint} (auto-compaction on)`);
    await store.create({ apiVersion: 'tabby.dev/v1', kind: 'BGPPeer', metadata: { name: 'tor' }, spec: { peerIP: fabric.gateway, asNumber: TOR_AS } } as Resource);
    const tor = await BirdDaemon.start({ ns: fabric.netns, net }, torConfig(fabric, fnodes));
    stack.push(() => tor.stop());
    log(`BIRD top-of-rack in the fabric (AS ${TOR_AS}); BGPPeer "tor" makes every node peer with it`);

    const v6 = opts.ipv6 ? { IP6: 'autodetect', CALICO_IPV6POOL_CIDR: 'fd00:248::/112' } : {};
    const env = { ...process.env, CALICO_IPV4POOL_CIDR: '10.248.0.0/16', CALICO_IPV4POOL_IPIP: 'Never', CALICO_IPV4POOL_VXLAN: 'CrossSubnet', ...v6, ...opts.poolEnv };
    const spawn = (n: FabricNode, runDir: string): Proc => spawnTabbyNode(net, n, { etcd: etcd.endpoint, runDir, env, args: ['--fallback-timeout', String(opts.fallbackTimeout ?? 3)] });
    const nodes: AgentNode[] = fnodes.map((n) => ({ ...n, agent: spawn(n, join(runRoot, n.name)), runDir: join(runRoot, n.name) }));
    for (const n of nodes) await untilReady(n.agent, `tabby-node on ${n.name}`, opts.readyTimeoutMs);
    log(`tabby-node running on ${nodes.length} nodes (default pool ${env.CALICO_IPV4POOL_CIDR}, vxlanMode ${env.CALICO_IPV4POOL_VXLAN})`);

    const plumber = opts.plumber ?? cniPlumber;
    const pods: ClusterPod[] = [];
    let made = 0;
    const c: NodeCluster = {
      net, runRoot, fabric, etcd, store, ipam, tor, nodes, pods, ipv6: opts.ipv6 ?? false,
      async addPod(node, namespace, name, labels = {}) {
        const netns = await net.netns(`p${made++}${name.slice(0, 4)}`);
        const pod = { name, namespace, ...(await plumber(c, node, { namespace, name, netns, labels })), netns, node: node.name };
        pods.push(pod);
        return pod;
      },
      async removePod(pod) {
        const node = nodes.find((n) => n.name === pod.node);
        if (!node) throw new Error(`pod ${pod.namespace}/${pod.name}: no node ${pod.node} in the cluster`);
        await runPlugin(c, node, 'DEL', pod.netns.name, podArgs(pod));
        await run('ip', ['netns', 'del', pod.netns.name]);
        pods.splice(pods.indexOf(pod), 1);
      },
      async restartAgent(node, signal = 'SIGKILL', whileStopped) {
        await node.agent.stop(signal, 5000);
        await whileStopped?.();
        node.agent = spawn(node, node.runDir);
        await untilReady(node.agent, `tabby-node on ${node.name} (restarted)`);
      },
      status: async (node) => {
        const st = await requestLocal<Omit<NodeStatus, 'fallback' | 'fallbackFamilies'> & { fallback: { nodes: { node: string; families: number[] }[] } }>(join(node.runDir, 'node.sock'), { cmd: 'status' });
        return { ...st, fallback: st.fallback.nodes.map((n) => n.node), fallbackFamilies: Object.fromEntries(st.fallback.nodes.map((n) => [n.node, n.families])) };
      },
      ping: pingOnce,
      stop: unwind,
    };
    return c;
  } catch (e: unknown) {
    await unwind();
    throw e;
  }
}
