/**
 * The underlay of an end-to-end cluster: a "fabric" namespace holding a bridge, and node
 * namespaces attached to it by veth, each with an address on the fabric subnet and a default
 * route via the fabric's own address (so that proxy ARP on pod veths can answer, as on a real
 * node). Everything is created through @tabby/netlink inside namespaces of one TestNet.
 */
import { Netlink } from '@tabby/netlink';
import type { Netns, TestNet } from '@tabby/testkit';
import { nsSysctl } from './pod.js';

/** One node's namespace on the fabric. */
export interface FabricNode {
  name: string;
  netns: Netns;
  /** Underlay address, without length. */
  ip: string;
  nl: Netlink;
}

/** A bridged /24 segment in its own namespace. */
export class Fabric {
  private readonly nodes: FabricNode[] = [];

  private constructor(
    private readonly net: TestNet,
    readonly netns: Netns,
    private readonly nl: Netlink,
    /** First three octets of the /24, e.g. "10.200.0". */
    readonly subnet: string,
  ) {}

  /** The fabric's own address on the bridge (the nodes' default gateway). */
  get gateway(): string {
    return `${this.subnet}.254`;
  }

  /** Creates the fabric namespace with bridge `br0` carrying `<subnet>.254/24`. */
  static async create(net: TestNet, subnet = '10.200.0'): Promise<Fabric> {
    const ns = await net.netns('fab');
    const nl = await Netlink.open({ netns: ns.name });
    await nl.links.add({ name: 'br0', info: { kind: 'bridge' } });
    const br = await nl.links.get('br0');
    await nl.addresses.add({ index: br.index, address: `${subnet}.254/24` });
    await nl.links.setUp('br0', true);
    return new Fabric(net, ns, nl, subnet);
  }

  /** Adds a node namespace `<prefix><name>` with `eth0` at `<subnet>.<host>/24`, forwarding on. */
  async addNode(name: string, host: number): Promise<FabricNode> {
    const netns = await this.net.netns(name);
    const port = this.net.name(name).slice(-15);
    await this.nl.links.add({ name: port, info: { kind: 'veth', peer: { name: 'eth0', netns: { name: netns.name } } } });
    const br = await this.nl.links.get('br0');
    await this.nl.links.set({ name: port, master: br.index, up: true });
    const nl = await Netlink.open({ netns: netns.name });
    const eth0 = await nl.links.get('eth0');
    const ip = `${this.subnet}.${host}`;
    await nl.addresses.add({ index: eth0.index, address: `${ip}/24` });
    await nl.links.setUp('eth0', true);
    await nl.routes.add({ dst: '0.0.0.0/0', gateway: this.gateway });
    await nsSysctl(netns.name, 'net.ipv4.ip_forward', '1');
    const node = { name, netns, ip, nl };
    this.nodes.push(node);
    return node;
  }

  /** Closes the netlink sockets (the namespaces go with the TestNet's cleanup). */
  close(): void {
    for (const n of this.nodes) n.nl.close();
    this.nl.close();
  }
}
