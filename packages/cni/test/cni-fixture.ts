/**
 * A node for CNI tests, driven by the CNI project's own client (`cnitool`, built by
 * ../shared/tools/cnitool): a node network namespace with an address of its own (nd0), real
 * etcd with an IPPool per family and the Node resource, a CNI bin dir with `tabby`,
 * `tabby-ipam` and Debian's reference plugins, and a conflist dir. cnitool runs inside the
 * node namespace (as kubelet runs plugins in the host's), with /var/lib/cni bound to a
 * temporary directory in that command's private mount namespace (ip netns exec unshares it).
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { API_VERSION } from '@tabby/api';
import { createEtcdDatastore, type Datastore } from '@tabby/datastore';
import { poll, startEtcd, TestNet, type EtcdServer, type Netns } from '@tabby/testkit';
import { installCniPlugins } from '../src/install.js';

/** The CNI project's cnitool (TABBY_CNITOOL overrides). */
export const CNITOOL = process.env.TABBY_CNITOOL ?? fileURLToPath(new URL('../../../../shared/tools/cnitool', import.meta.url));
export const NODE_NAME = 'node1';
export const NODE_V4 = '172.31.0.1';
export const NODE_V6 = 'fd00:31::1';

/** The result of one cnitool run. */
export interface ToolRun {
  code: number;
  stdout: string;
  stderr: string;
}

export { pool } from './pool.js';

/** The test node. */
export class CniNode {
  net!: TestNet;
  node!: Netns;
  etcd!: EtcdServer;
  ds!: Datastore;
  dir!: string;
  private podCount = 0;

  get binDir(): string {
    return join(this.dir, 'bin');
  }

  get confDir(): string {
    return join(this.dir, 'net.d');
  }

  async start(): Promise<void> {
    this.net = new TestNet();
    this.dir = mkdtempSync(join(tmpdir(), 'tabby-cni-'));
    mkdirSync(join(this.dir, 'cache'));
    mkdirSync(this.confDir);
    installCniPlugins(this.binDir);
    for (const p of readdirSync('/usr/lib/cni')) symlinkSync(join('/usr/lib/cni', p), join(this.binDir, p));
    // The mount point cnitool's cache is bound over (inside each call's private mount namespace).
    if (!existsSync('/var/lib/cni')) mkdirSync('/var/lib/cni', { recursive: true });
    this.etcd = await startEtcd();
    this.ds = createEtcdDatastore({ endpoints: this.etcd.endpoint });
    await this.ds.create({ apiVersion: API_VERSION, kind: 'Node', metadata: { name: NODE_NAME }, spec: {} });
    this.node = await this.net.netns('node');
    // The node's own address, on a veth to a "fabric" namespace (the kernel has no dummy module).
    const fabric = await this.net.netns('fab');
    await this.net.veth(this.node, 'nd0', fabric, 'fab0', `${NODE_V4}/24`, '172.31.0.254/24');
    await this.node.ip('-6', 'addr', 'add', `${NODE_V6}/64`, 'dev', 'nd0', 'nodad');
    // A default route, as every node has: proxy ARP for 169.254.1.1 answers only when the node
    // routes that address out of another interface.
    await this.node.ip('route', 'add', 'default', 'via', '172.31.0.254');
    await this.node.exec('sysctl', '-qw', 'net.ipv4.ip_forward=1', 'net.ipv6.conf.all.forwarding=1');
  }

  async stop(): Promise<void> {
    await this.ds?.close();
    await this.net?.cleanup();
    await this.etcd?.stop();
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
  }

  /** What the agent printed (its log at level info: one "ADD done" line per ADD it ran). */
  agentOutput = (): string => '';

  /** Starts `tabby-cni-agent` in the node namespace; returns its socket path. */
  async startAgent(): Promise<string> {
    const socket = join(this.dir, 'agent.sock');
    const bin = fileURLToPath(new URL('../dist/bin/tabby-cni-agent.js', import.meta.url));
    const proc = this.net.spawn(this.node, process.execPath, [bin, '--socket', socket, '--etcd-endpoints', this.etcd.endpoint, '--nodename', NODE_NAME, '--log-level', 'info'], { maxOutput: 64 << 20 });
    this.agentOutput = () => proc.output;
    await poll(() => {
      if (!proc.running) throw new Error(`tabby-cni-agent exited: ${proc.output}`);
      return proc.output.includes('listening');
    }, { timeout: 30_000, what: 'tabby-cni-agent to listen' });
    return socket;
  }

  /** A new pod namespace. */
  async pod(): Promise<Netns> {
    return this.net.netns(`p${this.podCount++}`);
  }

  /** The tabby plugin entry of a conflist. */
  tabbyConf(ipam: Record<string, unknown> = {}, extra: Record<string, unknown> = {}): Record<string, unknown> {
    return {
      type: 'tabby', log_level: 'warn', datastore_type: 'etcdv3', etcd_endpoints: this.etcd.endpoint,
      nodename: NODE_NAME, mtu: 1450, agent_socket: join(this.dir, 'no-agent.sock'),
      ipam: { type: 'tabby-ipam', assign_ipv4: 'true', assign_ipv6: 'false', ...ipam }, policy: { type: 'k8s' }, ...extra,
    };
  }

  /** Writes `<name>.conflist`. */
  writeConflist(name: string, plugins: Record<string, unknown>[], cniVersion = '1.0.0'): void {
    writeFileSync(join(this.confDir, `${name}.conflist`), JSON.stringify({ cniVersion, name, plugins }, null, 2));
  }

  /** Runs cnitool inside the node namespace. */
  cnitool(cmd: 'add' | 'check' | 'del', network: string, netnsPath: string, env: Record<string, string> = {}): Promise<ToolRun> {
    const script = `mount --bind "$CACHE" /var/lib/cni && exec "$CNITOOL" "$@"`;
    const args = ['netns', 'exec', this.node.name, 'sh', '-c', script, 'sh', cmd, network, netnsPath];
    const fullEnv = {
      PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', CACHE: join(this.dir, 'cache'), CNITOOL,
      NETCONFPATH: this.confDir, CNI_PATH: this.binDir, CNI_IFNAME: 'eth0', ...env,
    };
    return new Promise((res) => {
      execFile('ip', args, { env: fullEnv, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
        res({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
      });
    });
  }

  /** Calls a plugin binary directly (commands cnitool lacks: GC, STATUS, VERSION). */
  plugin(name: string, env: Record<string, string>, stdin: string): Promise<ToolRun> {
    return new Promise((res) => {
      const child = execFile('ip', ['netns', 'exec', this.node.name, join(this.binDir, name)], { env: { PATH: process.env.PATH, CNI_PATH: this.binDir, ...env } }, (err, stdout, stderr) => {
        res({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
      });
      child.stdin?.end(stdin);
    });
  }

  /** cali* links in the node namespace. */
  async caliLinks(): Promise<string[]> {
    const out = await this.node.ip('-o', 'link', 'show');
    return [...out.matchAll(/^\d+: (cali[0-9a-f]+)[@:]/gm)].map((m) => m[1]!);
  }

  /** Routes with protocol 80 in the node namespace (both families). */
  async tabbyRoutes(): Promise<string[]> {
    const v4 = await this.node.ip('-4', 'route', 'show', 'proto', '80');
    const v6 = await this.node.ip('-6', 'route', 'show', 'proto', '80');
    return [...v4.split('\n'), ...v6.split('\n')].filter((l) => l.trim() !== '');
  }

  /** Addresses allocated in every IPAM block. */
  async allocatedCount(): Promise<number> {
    const blocks = await this.ds.list<{ apiVersion: string; kind: string; metadata: { name: string }; spec: { allocations: (number | null)[] } }>({ kind: 'IPAMBlock' });
    return blocks.items.reduce((n, b) => n + b.spec.allocations.filter((a) => a !== null).length, 0);
  }

  async handles(): Promise<string[]> {
    return (await this.ds.list({ kind: 'IPAMHandle' })).items.map((h) => h.metadata.name);
  }

  async endpoints(): Promise<string[]> {
    return (await this.ds.list({ kind: 'WorkloadEndpoint' })).items.map((h) => `${h.metadata.namespace}/${h.metadata.name}`);
  }
}

/** `K8S_POD_NAMESPACE=..;K8S_POD_NAME=..` as kubelet passes them. */
export function podArgs(namespace: string, name: string): string {
  return `IgnoreUnknown=1;K8S_POD_NAMESPACE=${namespace};K8S_POD_NAME=${name};K8S_POD_INFRA_CONTAINER_ID=x`;
}
