/**
 * The underlay of an end-to-end cluster: a "fabric" namespace holding one bridge per segment
 * (a /24 and a /64 each) and routing between them, and node namespaces attached to a segment by
 * veth, each with an address of both families on its segment and default routes via the
 * fabric's own addresses there (so that proxy ARP on pod veths can answer, as on a real node).
 * Everything is created inside namespaces of one TestNet.
 */
import { Netlink } from '@tabby/netlink';
import { run, type Netns, type TestNet } from '@tabby/testkit';
import { nsSysctl } from './pod.js';

/** One node's namespace on the fabric. */
export interface FabricNode {
  name: string;
  netns: Netns;
  /** Underlay address, without length. */
  ip: string;
  /** Underlay IPv6 address, without length. */
  ip6: string;
  nl: Netlink;
}

/** Bridged /24 segments in one namespace that routes between them. */
export class Fabric {
  private readonly nodes: FabricNode[] = [];

  private constructor(
    private readonly net: TestNet,
    readonly netns: Netns,
    private readonly nl: Netlink,
    /** First three octets of each segment's /24, e.g. "10.200.0"; segment i is bridge `br<i>`. */
    readonly subnets: string[],
  ) {}

  /** First segment's prefix (e.g. "10.200.0"). */
  get subnet(): string {
    return this.subnets[0]!;
  }

  /** The fabric's own address on the first segment (its nodes' default gateway). */
  get gateway(): string {
    return this.gatewayOf(0);
  }

  /** Segment `i`'s IPv6 /64 without its length, in canonical form with a host: "10.200.0" → "fd10:200:1:" (+ ":5"). */
  subnet6Of(i: number): string {
    const [a, b, c] = this.subnets[i]!.split('.').map(Number) as [number, number, number];
    return `fd${String(a % 100).padStart(2, '0')}:${b}:${c + 1}:`;
  }

  /** The fabric's own address on segment `i`. */
  gatewayOf(i: number): string {
    return `${this.subnets[i]}.254`;
  }

  /** Creates the fabric namespace with bridge `br<i>` carrying `<subnet i>.254/24`, forwarding on. */
  static async create(net: TestNet, subnets: string | string[] = '10.200.0'): Promise<Fabric> {
    const list = typeof subnets === 'string' ? [subnets] : subnets;
    const ns = await net.netns('fab');
    const nl = await Netlink.open({ netns: ns.name });
    for (const [i, subnet] of list.entries()) {
      await nl.links.add({ name: `br${i}`, info: { kind: 'bridge' } });
      const br = await nl.links.get(`br${i}`);
      await nl.addresses.add({ index: br.index, address: `${subnet}.254/24` });
      await nl.links.setUp(`br${i}`, true);
    }
    const fabric = new Fabric(net, ns, nl, list);
    for (const i of list.keys()) await ns.ip('addr', 'add', `${fabric.subnet6Of(i)}:254/64`, 'dev', `br${i}`, 'nodad');
    if (list.length > 1) {
      await nsSysctl(ns.name, 'net.ipv4.ip_forward', '1');
      await nsSysctl(ns.name, 'net.ipv6.conf.all.forwarding', '1');
    }
    return fabric;
  }

  /**
   * Adds a node namespace `<prefix><name>` with `eth0` at `<subnet>.<host>/24` on `segment`,
   * forwarding on.
   */
  async addNode(name: string, host: number, segment = 0): Promise<FabricNode> {
    const netns = await this.net.netns(name);
    const port = this.net.name(name).slice(-15);
    await this.nl.links.add({ name: port, info: { kind: 'veth', peer: { name: 'eth0', netns: { name: netns.name } } } });
    const br = await this.nl.links.get(`br${segment}`);
    await this.nl.links.set({ name: port, master: br.index, up: true });
    const nl = await Netlink.open({ netns: netns.name });
    const eth0 = await nl.links.get('eth0');
    const ip = `${this.subnets[segment]}.${host}`;
    await nl.addresses.add({ index: eth0.index, address: `${ip}/24` });
    await nl.links.setUp('eth0', true);
    await nl.routes.add({ dst: '0.0.0.0/0', gateway: this.gatewayOf(segment) });
    const ip6 = `${this.subnet6Of(segment)}:${host}`;
    await netns.ip('addr', 'add', `${ip6}/64`, 'dev', 'eth0', 'nodad');
    await netns.ip('-6', 'route', 'add', 'default', 'via', `${this.subnet6Of(segment)}:254`);
    await nsSysctl(netns.name, 'net.ipv4.ip_forward', '1');
    await nsSysctl(netns.name, 'net.ipv6.conf.all.forwarding', '1');
    const node = { name, netns, ip, ip6, nl };
    this.nodes.push(node);
    return node;
  }

  /**
   * Makes the router drop (or forward again) BGP, TCP port 179, between segments, over IPv4 and
   * IPv6 — routed traffic only: frames bridged within a segment and sessions with the fabric's
   * own speaker (the ToR) are not affected.
   */
  async blockBgp(blocked: boolean): Promise<void> {
    const op = blocked ? '-I' : '-D';
    for (const [i] of this.subnets.entries()) {
      for (const tool of ['iptables', 'ip6tables']) {
        for (const port of ['--dport', '--sport']) await run(tool, [op, 'FORWARD', '-i', `br${i}`, '!', '-o', `br${i}`, '-p', 'tcp', port, '179', '-j', 'DROP'], { netns: this.netns.name });
      }
    }
  }

  /**
   * Makes node `b` drop (or accept again) BGP, TCP port 179, from node `a`, over IPv4 and IPv6
   * (or the families given): one blocked link within a segment (a firewall on the node, as a
   * misconfigured host firewall would).
   */
  static async blockBgpBetween(a: FabricNode, b: FabricNode, blocked: boolean, families: ReadonlyArray<4 | 6> = [4, 6]): Promise<void> {
    const op = blocked ? '-I' : '-D';
    const tools = ([[4, 'iptables', a.ip], [6, 'ip6tables', a.ip6]] as const).filter(([f]) => families.includes(f));
    for (const [, tool, src] of tools) {
      for (const port of ['--dport', '--sport']) await run(tool, [op, 'INPUT', '-s', src, '-p', 'tcp', port, '179', '-j', 'DROP'], { netns: b.netns.name });
    }
  }

  /** Closes the netlink sockets (the namespaces go with the TestNet's cleanup). */
  close(): void {
    for (const n of this.nodes) n.nl.close();
    this.nl.close();
  }
}
