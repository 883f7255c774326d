/**
 * Felix's routing calculation graph: events in, desired kernel state out. Pure: no I/O, and
 * time is an argument (`flush(now)`), so the hysteresis of the BGP fallback is testable.
 *
 * Invariants:
 * - The state depends only on the last event per key, never on the order of events with
 *   different keys (a property test replays event lists in permuted orders).
 * - Every destination has at most one route, chosen in this order: a local workload's /32
 *   (/128); a blackhole for a block affine to this node; a remote route (BGP best path for
 *   IPIP / no-encap pools, datastore-derived for VXLAN pools and for nodes in BGP fallback).
 * - Changes are incremental: an event marks the destinations it can affect, and `flush`
 *   recomputes only those. `desired()` is the full snapshot the drivers resync against.
 *
 * Both families: IPv6 blocks take vxlan-v6.calico as IPv4 ones take vxlan.calico (pool modes and
 * the fallback alike). Left out (said in the docs): IPv6 IPIP (ip6tnl; pools refuse it).
 */
import { BlockIndex } from './block-index.js';
import { canonical, parsePrefix } from './prefix.js';
import { DEFAULT_ROUTING_CONFIG, type BlockInfo, type EndpointInfo, type FelixEvent, type NodeInfo, type PoolInfo, type RoutingConfig } from './events.js';
import { sameRoute, type DesiredRoute, type DesiredState } from './desired.js';
import { ipipDevice, vxlanDevice, vxlanPeers, type DeviceInputs } from './devices.js';
import { remoteRoute, type RemoteContext } from './remote.js';

const FAMILIES = [4, 6] as const;

/** What changed since the last flush: routes to write and destinations to remove. */
export interface RouteDelta {
  upserts: DesiredRoute[];
  removes: string[];
  /** True when the tunnel devices or VXLAN peers may have changed (`desired()` tells). */
  tunnelsChanged: boolean;
  /** True when the set of local workload interfaces may have changed (`workloadIfaces()`). */
  ifacesChanged: boolean;
}

/** A remote node in BGP fallback. */
export interface FallbackNode {
  node: string;
  /** Epoch ms of the earliest switch among its families. */
  since: number;
  families: Array<4 | 6>;
}

/** The routing calculation graph of one node. */
export class RoutingGraph {
  private readonly nodes = new Map<string, NodeInfo>();
  private readonly pools = new Map<string, PoolInfo>();
  private readonly blocks = new BlockIndex();
  private readonly endpoints = new Map<string, EndpointInfo>();
  private readonly bgp = new Map<string, string>();
  /** BGP availability of each remote node, per address family. */
  private readonly nodeStates: Record<4 | 6, Map<string, { available: boolean; since: number }>> = { 4: new Map(), 6: new Map() };
  private config: RoutingConfig = { ...DEFAULT_ROUTING_CONFIG };
  private synced = false;
  private fallbackEnabled = false;

  /** Destination → endpoint keys holding it (local and remote). */
  private readonly endpointsByDst = new Map<string, Set<string>>();
  /** Node → block cidrs affine to it. */
  private readonly blocksByNode = new Map<string, Set<string>>();
  /** Node → destinations of its endpoints (borrowed addresses live here). */
  private readonly dstsByNode = new Map<string, Set<string>>();
  /** Blocks changed since the last flush (remote endpoints inside them may change status). */
  private readonly changedBlocks = new Set<string>();

  private readonly routes = new Map<string, DesiredRoute>();
  private readonly dirty = new Set<string>();
  private everything = true;
  private devicesDirty = true;
  private ifacesDirty = true;
  private fallbackNodes: Record<4 | 6, Set<string>> = { 4: new Set(), 6: new Set() };
  private lastNow = 0;

  constructor(readonly nodeName: string) {}

  /** Applies one input. Cheap: marks what it affects; `flush` computes. */
  apply(ev: FelixEvent): void {
    switch (ev.type) {
      case 'node-update':
        return this.setNode(ev.node.name, ev.node);
      case 'node-remove':
        return this.setNode(ev.name, undefined);
      case 'pool-update':
        this.pools.set(ev.pool.name, ev.pool);
        return this.markAll();
      case 'pool-remove':
        this.pools.delete(ev.name);
        return this.markAll();
      case 'block-update':
        return this.setBlock(ev.block.cidr, ev.block);
      case 'block-remove':
        return this.setBlock(ev.cidr, undefined);
      case 'endpoint-update':
        return this.setEndpoint(ev.endpoint.key, ev.endpoint);
      case 'endpoint-remove':
        return this.setEndpoint(ev.key, undefined);
      case 'config-update':
        this.config = { ...DEFAULT_ROUTING_CONFIG, ...definedOnly(ev.config) };
        return this.markAll();
      case 'bgp-route-update': {
        const dst = canonical(ev.prefix);
        this.bgp.set(dst, ev.nextHop);
        this.dirty.add(dst);
        return;
      }
      case 'bgp-route-remove': {
        const dst = canonical(ev.prefix);
        this.bgp.delete(dst);
        this.dirty.add(dst);
        return;
      }
      case 'bgp-node-state': {
        for (const f of ev.family ? [ev.family] : FAMILIES) {
          const prev = this.nodeStates[f].get(ev.node);
          // A repeated "available" keeps its original since: re-announcing must not restart the hold.
          if (prev && prev.available === ev.available) continue;
          this.nodeStates[f].set(ev.node, { available: ev.available, since: ev.since });
        }
        return; // flush(now) re-evaluates the node's fallback status
      }
      case 'fallback-enabled':
        if (this.fallbackEnabled !== ev.enabled) {
          this.fallbackEnabled = ev.enabled;
          this.markAll(); // the device, and routes that need it
        }
        return;
      case 'in-sync':
        this.synced = true;
        return;
      default: {
        const never: never = ev;
        throw new Error(`unknown felix event ${JSON.stringify(never)}`);
      }
    }
  }

  /** True once the node agent said its view is complete. */
  get inSync(): boolean {
    return this.synced;
  }

  private markAll(): void {
    this.everything = true;
    this.devicesDirty = true;
    this.ifacesDirty = true;
  }

  private setNode(name: string, node: NodeInfo | undefined): void {
    if (node) this.nodes.set(name, node);
    else this.nodes.delete(name);
    if (name === this.nodeName) return this.markAll(); // our own address, subnet, tunnels
    this.devicesDirty = true; // VXLAN peers
    for (const b of this.blocksByNode.get(name) ?? []) this.dirty.add(b);
    for (const d of this.dstsByNode.get(name) ?? []) this.dirty.add(d);
  }

  private setBlock(text: string, block: BlockInfo | undefined): void {
    const cidr = parsePrefix(text);
    if (!cidr) throw new Error(`block ${text}: not a CIDR`);
    const prev = this.blocks.get(cidr.text);
    if (prev?.node) this.blocksByNode.get(prev.node)?.delete(cidr.text);
    if (block) {
      this.blocks.set(cidr, block);
      if (block.node) addTo(this.blocksByNode, block.node, cidr.text);
    } else this.blocks.delete(cidr);
    this.dirty.add(cidr.text);
    this.changedBlocks.add(cidr.text);
  }

  /** Marks remote endpoints' addresses inside changed blocks (their borrowed status may change). */
  private markBorrowedCandidates(): void {
    if (this.changedBlocks.size === 0) return;
    for (const [node, dsts] of this.dstsByNode) {
      if (node === this.nodeName) continue;
      for (const dst of dsts) {
        const b = this.blocks.containing(dst);
        if (b !== undefined && this.changedBlocks.has(b)) this.dirty.add(dst);
      }
    }
    this.changedBlocks.clear();
  }

  private setEndpoint(key: string, ep: EndpointInfo | undefined): void {
    const prev = this.endpoints.get(key);
    if (prev) {
      for (const n of prev.ipNetworks) {
        const dst = canonical(n);
        this.endpointsByDst.get(dst)?.delete(key);
        if (this.endpointsByDst.get(dst)?.size === 0) this.endpointsByDst.delete(dst);
        this.dstsByNode.get(prev.node)?.delete(dst);
        this.dirty.add(dst);
      }
      if (prev.node === this.nodeName) this.ifacesDirty = true;
    }
    if (ep) {
      this.endpoints.set(key, ep);
      for (const n of ep.ipNetworks) {
        const dst = canonical(n);
        addTo(this.endpointsByDst, dst, key);
        addTo(this.dstsByNode, ep.node, dst);
        this.dirty.add(dst);
      }
      if (ep.node === this.nodeName) this.ifacesDirty = true;
    } else this.endpoints.delete(key);
  }

  /**
   * The nodes whose blocks take the tunnel now (BGP fallback, as of the last flush), each with the
   * time its BGP availability last changed and the families whose blocks are on the tunnel.
   */
  fallbackStatus(): FallbackNode[] {
    const out = new Map<string, FallbackNode>();
    for (const f of FAMILIES) {
      for (const node of this.fallbackNodes[f]) {
        const since = this.nodeStates[f].get(node)?.since ?? this.lastNow;
        const e = out.get(node);
        if (e) {
          e.families.push(f);
          e.since = Math.min(e.since, since);
        } else out.set(node, { node, since, families: [f] });
      }
    }
    return [...out.values()].sort((a, b) => (a.node < b.node ? -1 : a.node > b.node ? 1 : 0));
  }

  /** The earliest time at which `flush` would change something by time alone, if any. */
  nextDeadline(): number | undefined {
    let next: number | undefined;
    for (const s of [...this.nodeStates[4].values(), ...this.nodeStates[6].values()]) {
      const t = s.since + this.config.bgpRestoreHoldMs;
      if (s.available && t > this.lastNow && (next === undefined || t < next)) next = t;
    }
    return next;
  }

  /** Recomputes what changed since the last flush; `now` drives the BGP fallback hysteresis. */
  flush(now: number): RouteDelta {
    this.lastNow = now;
    for (const f of FAMILIES) {
      const fallback = this.computeFallback(f, now);
      for (const n of symmetricDiff(fallback, this.fallbackNodes[f])) {
        for (const b of this.blocksByNode.get(n) ?? []) this.dirty.add(b);
        for (const d of this.dstsByNode.get(n) ?? []) this.dirty.add(d);
        this.devicesDirty = true; // the VXLAN device may be needed for the fallback
      }
      this.fallbackNodes[f] = fallback;
    }
    this.markBorrowedCandidates();
    const keys = this.everything ? this.allDestinations() : this.dirty;
    const delta: RouteDelta = { upserts: [], removes: [], tunnelsChanged: this.devicesDirty, ifacesChanged: this.ifacesDirty };
    const ctx = this.context();
    for (const dst of keys) {
      const want = this.compute(dst, ctx);
      const have = this.routes.get(dst);
      if (want && (!have || !sameRoute(want, have))) {
        this.routes.set(dst, want);
        delta.upserts.push(want);
      } else if (!want && have) {
        this.routes.delete(dst);
        delta.removes.push(dst);
      }
    }
    this.dirty.clear();
    this.everything = false;
    this.devicesDirty = false;
    this.ifacesDirty = false;
    return delta;
  }

  private computeFallback(f: 4 | 6, now: number): Set<string> {
    const out = new Set<string>();
    for (const [node, s] of this.nodeStates[f]) {
      if (!s.available || now - s.since < this.config.bgpRestoreHoldMs) out.add(node);
    }
    return out;
  }

  private allDestinations(): Set<string> {
    const all = new Set<string>(this.routes.keys());
    for (const k of this.endpointsByDst.keys()) all.add(k);
    for (const k of this.blocks.keys()) all.add(k);
    for (const k of this.bgp.keys()) all.add(k);
    return all;
  }

  private context(): RemoteContext {
    const me = this.nodes.get(this.nodeName);
    const devices = this.deviceInputs();
    return {
      me,
      nodes: this.nodes,
      subnet: me?.ipv4Subnet === undefined ? undefined : parsePrefix(me.ipv4Subnet),
      subnet6: me?.ipv6Subnet === undefined ? undefined : parsePrefix(me.ipv6Subnet),
      pools: [...this.pools.values()].flatMap((pool) => {
        const cidr = parsePrefix(pool.cidr);
        return cidr ? [{ pool, cidr }] : [];
      }),
      fallback: this.fallbackNodes,
      vxlan: vxlanDevice(devices, 4) !== undefined,
      vxlanV6: vxlanDevice(devices, 6) !== undefined,
      ipip: ipipDevice(devices) !== undefined,
    };
  }

  /** The route for one destination, by the precedence in the module header. */
  private compute(dst: string, ctx: RemoteContext): DesiredRoute | undefined {
    let remoteOwner: string | undefined;
    for (const k of this.endpointsByDst.get(dst) ?? []) {
      const ep = this.endpoints.get(k);
      if (!ep) continue;
      if (ep.node === this.nodeName) return { dst, type: 'unicast', iface: ep.iface, scopeLink: true, source: 'workload' };
      remoteOwner ??= ep.node;
    }
    const nextHop = this.bgp.get(dst);
    const block = this.blocks.get(dst);
    if (block) {
      if (block.node === this.nodeName) return { dst, type: 'blackhole', source: 'local-block' };
      return remoteRoute(dst, block.node, nextHop, false, ctx);
    }
    const container = this.blocks.containing(dst);
    const affinity = container === undefined ? undefined : this.blocks.get(container)?.node;
    if (remoteOwner !== undefined) {
      if (affinity === remoteOwner && nextHop === undefined) return undefined; // the block's route covers it
      return remoteRoute(dst, remoteOwner, nextHop, affinity !== remoteOwner, ctx);
    }
    if (nextHop === undefined) return undefined;
    // A BGP route inside a block of ours points at a node that borrowed the address: route it.
    return remoteRoute(dst, affinity === this.nodeName ? undefined : affinity, nextHop, false, ctx);
  }

  private deviceInputs(): DeviceInputs {
    const fallback = this.fallbackEnabled || this.fallbackNodes[4].size > 0 || this.fallbackNodes[6].size > 0;
    return { me: this.nodes.get(this.nodeName), pools: [...this.pools.values()], config: this.config, fallback };
  }

  /** The complete desired state (for a full resync). */
  desired(): DesiredState {
    const d = this.deviceInputs();
    const vxlan = vxlanDevice(d, 4);
    const vxlanV6 = vxlanDevice(d, 6);
    return {
      routes: new Map(this.routes),
      ipip: ipipDevice(d),
      vxlan,
      vxlanPeers: vxlan ? vxlanPeers(this.nodes.values(), this.nodeName, 4) : new Map(),
      vxlanV6,
      vxlanPeersV6: vxlanV6 ? vxlanPeers(this.nodes.values(), this.nodeName, 6) : new Map(),
      workloadIfaces: this.workloadIfaces(),
    };
  }

  /** Host-side interfaces of this node's workloads. */
  workloadIfaces(): Set<string> {
    const ifaces = new Set<string>();
    for (const ep of this.endpoints.values()) if (ep.node === this.nodeName) ifaces.add(ep.iface);
    return ifaces;
  }

  /** Size of the graph's indexes (for memory accounting in benchmarks). */
  get size(): { endpoints: number; blocks: number; routes: number; bgp: number } {
    return { endpoints: this.endpoints.size, blocks: this.blocks.size, routes: this.routes.size, bgp: this.bgp.size };
  }
}


function addTo(m: Map<string, Set<string>>, k: string, v: string): void {
  let s = m.get(k);
  if (!s) m.set(k, (s = new Set()));
  s.add(v);
}

function* symmetricDiff(a: Set<string>, b: Set<string>): Iterable<string> {
  for (const x of a) if (!b.has(x)) yield x;
  for (const x of b) if (!a.has(x)) yield x;
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
