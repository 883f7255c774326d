/**
 * A policy lab for the real-kernel tests: one node namespace (forwarding on), pod namespaces
 * plumbed as Calico does (cali veth with proxy ARP, /32 route, pod default route via
 * 169.254.1.1), an "external" namespace behind the node (its default route), one netprobe.py server
 * listening on TCP/UDP 80 and 81 in every pod (and the external host), a PolicyDataplane
 * programming the node namespace, and a prober that probes many flows at once.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Netlink, withNetns } from '@tabby/netlink';
import { TestNet, poll, type Netns, type Proc } from '@tabby/testkit';
import { PolicyDataplane, namespaceProfile, netnsRunner, type IptablesBackend, type PolicyConfig, type PolicyEvent } from '@tabby/felix';
import { iface, wep } from './fixtures.js';
import { spawn } from 'node:child_process';

const PROBE = fileURLToPath(new URL('./netprobe.py', import.meta.url));
const RT_SCOPE_LINK = 253;

/** One pod of the lab. */
export interface LabPod {
  ns: string;
  pod: string;
  ip: string;
  netns: Netns;
  iface: string;
}

/** A flow to probe. */
export interface Probe {
  from: string;
  to: string;
  port: number;
  proto: 'tcp' | 'udp' | 'icmp';
  icmpType?: number;
  icmpCode?: number;
}

function sysctl(netns: string, key: string, value: string): void {
  if (!netns) throw new Error('no namespace');
  withNetns(netns, () => writeFileSync(`/proc/sys/${key.replaceAll('.', '/')}`, value));
}

/** See the module header. */
export class PolicyLab {
  readonly pods = new Map<string, LabPod>();
  server?: Proc;
  dp!: PolicyDataplane;
  /** The second node's dataplane, when the lab has pods on node2. */
  dp2?: PolicyDataplane;
  node2?: Netns;
  static readonly NODE1_IP = '192.168.50.1';
  static readonly NODE2_IP = '192.168.50.2';
  node!: Netns;
  ext?: Netns;
  static readonly EXT_IP = '172.31.0.2';
  /** Next probe source port (20000-59999, round robin; see netprobe.py). */
  private sport = 20000 + Math.floor(Math.random() * 40000);

  private constructor(readonly net: TestNet) {}

  /** Builds the lab; pods are `ns/pod` keys with their IPs and labels. */
  static async create(opts: { pods: { ns: string; pod: string; ip: string; node?: 'node1' | 'node2'; labels?: Record<string, string>; ports?: { name: string; protocol: string; port: number }[] }[]; backend: IptablesBackend; config?: Partial<PolicyConfig>; repairIntervalMs?: number; namespaces?: Record<string, Record<string, string>> }): Promise<PolicyLab> {
    const lab = new PolicyLab(new TestNet());
    try {
      lab.node = await lab.net.netns('n');
      sysctl(lab.node.name, 'net.ipv4.ip_forward', '1');
      if (opts.pods.some((p) => p.node === 'node2')) {
        // A second node behind a point-to-point link; each routes the other's pods via it.
        lab.node2 = await lab.net.netns('m');
        sysctl(lab.node2.name, 'net.ipv4.ip_forward', '1');
        await lab.net.veth(lab.node, 'fab0', lab.node2, 'fab0', `${PolicyLab.NODE1_IP}/24`, `${PolicyLab.NODE2_IP}/24`);
        await lab.node2.ip('route', 'add', 'default', 'via', PolicyLab.NODE1_IP, 'dev', 'fab0');
      }
      for (const p of opts.pods) await lab.plumb(p, p.node);
      lab.ext = await lab.net.netns('x');
      await lab.net.veth(lab.node, 'ext0', lab.ext, 'eth0', '172.31.0.1/24', `${PolicyLab.EXT_IP}/24`);
      // Proxy ARP answers only for destinations routed out of another interface: the node's
      // default route goes to the external host, as every real node has one.
      await lab.node.ip('route', 'add', 'default', 'via', PolicyLab.EXT_IP, 'dev', 'ext0');
      const served = [...lab.pods.values()].map((p) => p.netns.name);
      if (lab.ext) served.push(lab.ext.name);
      lab.server = await lab.serve(served);
      const mk = (nodeName: string, netns: string): PolicyDataplane =>
        new PolicyDataplane({ nodeName, backend: opts.backend, repairIntervalMs: opts.repairIntervalMs ?? 0, config: { ipv6Support: false, ...opts.config } }, { runner: netnsRunner(netns) });
      lab.dp = mk('node1', lab.node.name);
      if (lab.node2) lab.dp2 = mk('node2', lab.node2.name);
      const initial: PolicyEvent[] = [];
      for (const [ns, labels] of Object.entries(opts.namespaces ?? {})) initial.push({ type: 'profile-update', profile: namespaceProfile(ns, labels) });
      for (const p of opts.pods) initial.push({ type: 'endpoint-update', endpoint: wep(p.ns, p.pod, p.ip, p.labels ?? {}, { ...(p.ports ? { ports: p.ports } : {}), node: p.node ?? 'node1' }) });
      for (const d of lab.dataplanes()) {
        for (const e of initial) d.onEvent(e);
        await d.start();
      }
      return lab;
    } catch (e: unknown) {
      await lab.cleanup();
      throw e;
    }
  }

  /** Creates a pod namespace and plumbs it to the node (no endpoint event: the dataplane does not know it yet). */
  async plumb(p: { ns: string; pod: string; ip: string }, nodeName: 'node1' | 'node2' = 'node1'): Promise<LabPod> {
    const home = nodeName === 'node2' && this.node2 ? this.node2 : this.node;
    const other = home === this.node ? this.node2 : this.node;
    if (other) await other.ip('route', 'add', `${p.ip}/32`, 'via', other === this.node ? PolicyLab.NODE2_IP : PolicyLab.NODE1_IP, 'dev', 'fab0');
    const nl = await Netlink.open({ netns: home.name });
    try {
      const pn = await this.net.netns(`p${this.pods.size}`);
      const host = iface(p.ns, p.pod);
      await nl.links.add({ name: host, mac: 'ee:ee:ee:ee:ee:ee', info: { kind: 'veth', peer: { name: 'eth0', netns: { name: pn.name } } } });
      sysctl(home.name, `net.ipv4.conf.${host}.proxy_arp`, '1');
      sysctl(home.name, `net.ipv4.neigh.${host}.proxy_delay`, '0');
      await nl.links.setUp(host, true);
      const link = await nl.links.get(host);
      const pod = await Netlink.open({ netns: pn.name });
      try {
        const eth0 = await pod.links.get('eth0');
        await pod.addresses.add({ index: eth0.index, address: `${p.ip}/32` });
        await pod.links.setUp('eth0', true);
        await pod.routes.add({ dst: '169.254.1.1/32', oif: eth0.index, scope: RT_SCOPE_LINK });
        await pod.routes.add({ dst: '0.0.0.0/0', gateway: '169.254.1.1', oif: eth0.index });
      } finally {
        pod.close();
      }
      await nl.routes.add({ dst: `${p.ip}/32`, oif: link.index, scope: RT_SCOPE_LINK, protocol: 80 });
      const lp: LabPod = { ns: p.ns, pod: p.pod, ip: p.ip, netns: pn, iface: host };
      this.pods.set(`${p.ns}/${p.pod}`, lp);
      return lp;
    } finally {
      nl.close();
    }
  }

  /** Starts a netprobe server for these namespaces. */
  async serve(namespaces: string[]): Promise<Proc> {
    const server = this.net.spawn(this.node, '/usr/bin/python3', [PROBE, 'serve', ...namespaces]);
    await poll(() => server.output.includes('ready') || (!server.running && Promise.reject(new Error(server.output))), { what: 'netprobe server', timeout: 20_000 });
    return server;
  }

  /** Applies events and waits until the kernel holds the result. */
  async apply(...evs: PolicyEvent[]): Promise<void> {
    for (const d of this.dataplanes()) {
      for (const e of evs) d.onEvent(e);
      await d.flush();
    }
  }

  /** Every node's dataplane. */
  dataplanes(): PolicyDataplane[] {
    return [this.dp, ...(this.dp2 ? [this.dp2] : [])].filter((d): d is PolicyDataplane => d !== undefined);
  }

  ip(key: string): string {
    if (key === 'ext') return PolicyLab.EXT_IP;
    if (key === 'node') return '172.31.0.1';
    const p = this.pods.get(key);
    if (!p) throw new Error(`no pod ${key}`);
    return p.ip;
  }

  /** Probes flows at once; true = the flow got through. */
  async probe(probes: Probe[], timeoutS = 1.2): Promise<boolean[]> {
    const input = probes.map((p, i) => {
      const src = p.from === 'ext' ? this.ext?.name : this.pods.get(p.from)?.netns.name;
      if (!src) throw new Error(`no pod ${p.from}`);
      this.sport = this.sport >= 59999 ? 20000 : this.sport + 1;
      return { id: String(i), src, dst: this.ip(p.to), port: p.port, proto: p.proto, sport: this.sport, ...(p.icmpType !== undefined ? { icmpType: p.icmpType } : {}), ...(p.icmpCode !== undefined ? { icmpCode: p.icmpCode } : {}) };
    });
    const out = await new Promise<string>((resolve, reject) => {
      const child = spawn('ip', ['netns', 'exec', this.node.name, '/usr/bin/python3', PROBE, 'probe', String(timeoutS)], { stdio: ['pipe', 'pipe', 'pipe'] });
      let so = '';
      let se = '';
      child.stdout.on('data', (b: Buffer) => (so += b.toString()));
      child.stderr.on('data', (b: Buffer) => (se += b.toString()));
      child.on('error', reject);
      child.on('close', (code) => (code === 0 ? resolve(so) : reject(new Error(`netprobe probe exited ${code}: ${se}`))));
      child.stdin.end(JSON.stringify(input));
    });
    const res = JSON.parse(out) as Record<string, boolean>;
    return probes.map((_, i) => res[String(i)] === true);
  }

  async cleanup(): Promise<void> {
    for (const d of this.dataplanes()) await d.stop();
    await this.net.cleanup();
  }
}
