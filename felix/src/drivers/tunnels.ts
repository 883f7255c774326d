/**
 * The tunnel-device driver: `vxlan.calico` and `vxlan-v6.calico` (VNI, UDP port, source address
 * and parent device of the device's family, VTEP MAC, MTU, VTEP address /32 or /128, up) and
 * `tunl0` (IPIP: MTU, tunnel address /32, up), plus the VXLAN peers' permanent ARP (IPv4) or NDP
 * (IPv6) entries and FDB entries on each VXLAN device.
 *
 * Invariants:
 * - A device that already matches is left alone (a restart does not flap it); one whose
 *   immutable parameters differ (VNI, port, source, parent) is deleted and recreated; MTU,
 *   state and addresses are changed in place.
 * - A VXLAN device is deleted when nothing needs it. tunl0 is the kernel's fallback device of the
 *   ipip module and cannot be deleted: when unneeded it is set down and its address removed.
 * - On a kernel without the ipip module, creating tunl0 fails with EOPNOTSUPP: reported (log,
 *   metric, health) and retried with backoff by the caller, never silently ignored.
 * - Only entries on the VXLAN devices are touched: every permanent neighbour and FDB entry
 *   there is ours. Addresses the kernel gives a device itself (IPv6 link-local) are left alone.
 */
import type { Address, Link, Neigh, Request } from '@tabby/netlink';
import { IPIP_DEVICE, VXLAN_DEVICE, VXLAN_V6_DEVICE, type DesiredState } from '../graph/desired.js';
import type { Kernel } from '../kernel/kernel.js';

const NUD_PERMANENT = 0x80;
const NTF_SELF = 0x02;
/** Scope of the addresses we put on tunnel devices; the kernel's own (link-local) are not ours. */
const RT_SCOPE_UNIVERSE = 0;

/** The part of the desired state this driver applies. */
export type TunnelState = Pick<DesiredState, 'ipip' | 'vxlan' | 'vxlanPeers' | 'vxlanV6' | 'vxlanPeersV6'>;

/** The two VXLAN families: device name and the state fields of each. */
const VXLAN_FAMILIES = [
  { family: 4, name: VXLAN_DEVICE, device: (t: TunnelState) => t.vxlan, peers: (t: TunnelState) => t.vxlanPeers },
  { family: 6, name: VXLAN_V6_DEVICE, device: (t: TunnelState) => t.vxlanV6, peers: (t: TunnelState) => t.vxlanPeersV6 },
] as const;

/** A failed step of a tunnel apply, for logs and metrics. */
export interface TunnelFailure {
  what: string;
  error: string;
  errnoName?: string;
}

/** Applies tunnel devices and VXLAN peers. Stateless between calls: it reads back each time. */
export class TunnelDriver {
  constructor(private readonly k: Kernel) {}

  /** True when a device exists that the desired state no longer wants (a removal is pending). */
  static removalPending(links: readonly Link[], want: TunnelState): boolean {
    if (!want.ipip && links.some((l) => l.name === IPIP_DEVICE && l.up)) return true;
    return VXLAN_FAMILIES.some((f) => !f.device(want) && links.some((l) => l.name === f.name));
  }

  /**
   * Converges the devices; returns what failed (empty when all is in place). `links` is the
   * caller's fresh read of the links, when it has one.
   */
  async apply(want: TunnelState, links?: Link[], opts: { removals?: boolean } = {}): Promise<TunnelFailure[]> {
    const failures: TunnelFailure[] = [];
    const removals = opts.removals ?? true; // felix removes devices only after routes moved off them
    links ??= await this.k.listLinks();
    const present = links.some((l) => l.name === VXLAN_DEVICE || l.name === VXLAN_V6_DEVICE || l.name === IPIP_DEVICE);
    if (!want.ipip && !want.vxlan && !want.vxlanV6 && !present) return failures; // nothing wanted, nothing to remove
    const addrs = { 4: await this.k.listAddresses(4), 6: await this.k.listAddresses(6) };
    for (const f of VXLAN_FAMILIES) {
      const dev = f.device(want);
      if (await this.vxlanDevice(links, f.name, addrs[f.family], dev, removals, failures)) links = await this.k.listLinks();
      const vx = links.find((l) => l.name === f.name);
      if (vx && dev) {
        await this.addresses(vx, addrs[f.family], dev.address, failures);
        await this.peers(vx.index, f.family, f.peers(want), failures);
      }
    }
    await this.ipipDevice(links, addrs[4], want.ipip, removals, failures);
    return failures;
  }

  private async run(reqs: Request[], what: string, failures: TunnelFailure[]): Promise<boolean> {
    if (reqs.length === 0) return true;
    const res = await this.k.batch(reqs);
    for (const f of res.failed) failures.push({ what: `${what}: ${f.request.kind}.${f.request.op}`, error: f.error.message, errnoName: f.error.errnoName });
    return res.failed.length === 0;
  }

  /** Creates, recreates, changes or deletes one VXLAN device; true when the link set changed. */
  private async vxlanDevice(links: Link[], name: string, addrs: Address[], want: TunnelState['vxlan'], removals: boolean, failures: TunnelFailure[]): Promise<boolean> {
    const have = links.find((l) => l.name === name);
    if (!want) {
      if (have && removals) await this.run([{ kind: 'link', op: 'del', link: { index: have.index } }], `delete ${name}`, failures);
      return have !== undefined && removals;
    }
    const parent = addrs.find((a) => a.address.split('/')[0] === want.local)?.index;
    if (parent === undefined) {
      failures.push({ what: name, error: `no interface holds the node address ${want.local}` });
      return false;
    }
    const x = have?.vxlan;
    const same = have && have.kind === 'vxlan' && x?.vni === want.vni && x.port === want.port && x.local === want.local && x.dev === parent && have.mac === want.mac;
    if (have && same) {
      if (have.mtu !== want.mtu || !have.up) await this.run([{ kind: 'link', op: 'set', link: { index: have.index, mtu: want.mtu, up: true } }], `configure ${name}`, failures);
      return false;
    }
    const reqs: Request[] = [];
    if (have) reqs.push({ kind: 'link', op: 'del', link: { index: have.index } });
    reqs.push({ kind: 'link', op: 'add', link: { name, mtu: want.mtu, mac: want.mac, up: true, info: { kind: 'vxlan', vni: want.vni, port: want.port, local: want.local, dev: parent, learning: false } } });
    await this.run(reqs, `create ${name}`, failures);
    return true;
  }

  private async ipipDevice(links: Link[], v4: Address[], want: TunnelState['ipip'], removals: boolean, failures: TunnelFailure[]): Promise<void> {
    let have = links.find((l) => l.name === IPIP_DEVICE);
    if (!want) {
      if (!have || !removals) return;
      const reqs: Request[] = v4.filter((a) => a.index === have!.index).map((a) => ({ kind: 'address', op: 'del', address: { index: a.index, address: a.address } }) as Request);
      if (have.up) reqs.push({ kind: 'link', op: 'set', link: { index: have.index, up: false } });
      await this.run(reqs, 'retire tunl0', failures);
      return;
    }
    if (!have) {
      // Adding any ipip link loads the module, whose fallback device is tunl0 itself.
      const ok = await this.run([{ kind: 'link', op: 'add', link: { name: IPIP_DEVICE, up: true, mtu: want.mtu, info: { kind: 'ipip' } } }], 'create tunl0', failures);
      if (!ok) return;
      have = (await this.k.listLinks()).find((l) => l.name === IPIP_DEVICE);
      if (!have) return;
    }
    if (have.mtu !== want.mtu || !have.up) await this.run([{ kind: 'link', op: 'set', link: { index: have.index, mtu: want.mtu, up: true } }], 'configure tunl0', failures);
    if (want.address) await this.addresses(have, v4, want.address, failures);
  }

  /** Exactly `address`/32 (IPv6: /128) on the device, besides what the kernel adds itself. */
  private async addresses(dev: Link, addrs: Address[], address: string, failures: TunnelFailure[]): Promise<void> {
    const mine = addrs.filter((a) => a.index === dev.index && a.scope === RT_SCOPE_UNIVERSE);
    const want = `${address}/${address.includes(':') ? 128 : 32}`;
    const reqs: Request[] = mine.filter((a) => a.address !== want).map((a) => ({ kind: 'address', op: 'del', address: { index: dev.index, address: a.address } }));
    if (!mine.some((a) => a.address === want)) reqs.push({ kind: 'address', op: 'add', address: { index: dev.index, address: want } });
    await this.run(reqs, `address of ${dev.name}`, failures);
  }

  /** Permanent ARP / NDP (VTEP → MAC) and FDB (MAC → node) entries for every peer, nothing else. */
  private async peers(index: number, family: 4 | 6, peers: TunnelState['vxlanPeers'], failures: TunnelFailure[]): Promise<void> {
    const [arp, fdb] = await Promise.all([this.k.listNeighbours(family, index), this.k.listNeighbours('bridge', index)]);
    const reqs: Request[] = [];
    const wantArp = new Map<string, string>();
    const wantFdb = new Map<string, string>();
    for (const p of peers.values()) {
      wantArp.set(p.vtep, p.mac);
      wantFdb.set(p.mac, p.nodeIp);
    }
    for (const [dst, mac] of wantArp) {
      if (!arp.some((n) => n.dst === dst && n.lladdr === mac && permanent(n))) reqs.push({ kind: 'neigh', op: 'replace', neigh: { family, index, dst, lladdr: mac, state: NUD_PERMANENT } });
    }
    for (const [mac, dst] of wantFdb) {
      if (!fdb.some((n) => n.lladdr === mac && n.dst === dst && permanent(n))) reqs.push({ kind: 'neigh', op: 'replace', neigh: { family: 'bridge', index, lladdr: mac, dst, state: NUD_PERMANENT, flags: NTF_SELF } });
    }
    for (const n of arp) if (n.dst && wantArp.get(n.dst) !== n.lladdr && permanent(n)) reqs.push({ kind: 'neigh', op: 'del', neigh: { family, index, dst: n.dst } });
    for (const n of fdb) if (n.lladdr && n.dst && wantFdb.get(n.lladdr) !== n.dst && permanent(n)) reqs.push({ kind: 'neigh', op: 'del', neigh: { family: 'bridge', index, lladdr: n.lladdr, dst: n.dst, flags: NTF_SELF } });
    await this.run(reqs, `vxlan peers (IPv${family})`, failures);
  }
}

function permanent(n: Neigh): boolean {
  return (n.state & NUD_PERMANENT) !== 0;
}
