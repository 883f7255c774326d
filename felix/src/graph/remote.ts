/**
 * The route toward a destination owned by another node, per the pool's encapsulation mode
 * (Calico's semantics), for both families: IPv4 destinations use vxlan.calico and the nodes'
 * IPv4 addresses and subnets, IPv6 destinations vxlan-v6.calico and the IPv6 ones.
 * - VXLAN pools (`vxlanMode` Always, or CrossSubnet with the owner outside our subnet): from the
 *   datastore, `via <owner VTEP> dev vxlan.calico onlink` (IPv6: `dev vxlan-v6.calico`). VXLAN
 *   needs no BGP: with CrossSubnet, an owner in our subnet is reached directly (`via <owner
 *   address>`), from BGP when it has a path, else from the datastore.
 * - IPIP / no-encap pools: from BGP best paths. IPIP (IPv4 only: Always, or CrossSubnet with the
 *   next hop outside our subnet): `via <next hop> dev tunl0 onlink`; otherwise `via <next hop>`.
 * - An owner in BGP fallback (its session cannot establish, or BGP is off): from the datastore,
 *   over VXLAN of the destination's family where both ends have a VTEP of it, else (IPv4) IPIP
 *   where we have tunl0, else directly when the owner shares our subnet; otherwise no route
 *   (nothing would carry it). IPv6 has no IPIP (ip6tnl is not done; pools refuse it).
 * A borrowed address (a /32 of a pod on a node other than its block's) is routed like its
 * owner's blocks, so traffic reaches the node the pod is on, not the block's.
 */
import { contains, parsePrefix, type Prefix } from './prefix.js';
import { defaultVtepMac, defaultVtepMacV6, IPIP_DEVICE, VXLAN_DEVICE, VXLAN_V6_DEVICE, type DesiredRoute, type VxlanPeer } from './desired.js';
import type { EncapMode, NodeInfo, PoolInfo } from './events.js';

/** What the remote-route decision reads from the graph. */
export interface RemoteContext {
  me: NodeInfo | undefined;
  nodes: ReadonlyMap<string, NodeInfo>;
  /** Pools with their parsed CIDRs. */
  pools: ReadonlyArray<{ pool: PoolInfo; cidr: Prefix }>;
  /** Our IPv4 subnet, parsed (CrossSubnet). */
  subnet: Prefix | undefined;
  /** Our IPv6 subnet, parsed (CrossSubnet for IPv6 pools). */
  subnet6: Prefix | undefined;
  /** Nodes whose blocks of each family are in BGP fallback now. */
  fallback: Readonly<Record<4 | 6, ReadonlySet<string>>>;
  /** Whether our vxlan.calico / vxlan-v6.calico / tunl0 devices are wanted. */
  vxlan: boolean;
  vxlanV6: boolean;
  ipip: boolean;
}

/** The VTEP of a node for one family, when it has a VTEP address and an underlay address of it. */
export function vxlanPeerOf(n: NodeInfo, family: 4 | 6 = 4): VxlanPeer | undefined {
  if (family === 6) {
    if (!n.vxlanTunnelAddressV6 || !n.ipv6Address) return undefined;
    return { node: n.name, vtep: n.vxlanTunnelAddressV6, mac: (n.vxlanTunnelMacV6 ?? defaultVtepMacV6(n.name)).toLowerCase(), nodeIp: n.ipv6Address };
  }
  if (!n.vxlanTunnelAddress || !n.ipv4Address) return undefined;
  return { node: n.name, vtep: n.vxlanTunnelAddress, mac: (n.vxlanTunnelMac ?? defaultVtepMac(n.name)).toLowerCase(), nodeIp: n.ipv4Address };
}

/** A node's underlay address of the family of `dst`. */
function addressFor(dst: string, n: NodeInfo | undefined): string | undefined {
  return dst.includes(':') ? n?.ipv6Address : n?.ipv4Address;
}

function poolOf(dst: string, pools: RemoteContext['pools']): PoolInfo | undefined {
  const d = parsePrefix(dst);
  if (!d) return undefined;
  let best: PoolInfo | undefined;
  let bestLen = -1;
  for (const { pool, cidr } of pools) {
    if (cidr.len > bestLen && contains(cidr, d)) {
      best = pool;
      bestLen = cidr.len;
    }
  }
  return best;
}

function inMySubnet(ctx: RemoteContext, addr: string | undefined): boolean {
  const subnet = addr?.includes(':') ? ctx.subnet6 : ctx.subnet;
  if (!subnet || !addr) return false;
  const a = parsePrefix(addr);
  return a !== undefined && contains(subnet, a);
}

function encapWanted(mode: EncapMode, sameSubnet: boolean): boolean {
  return mode === 'Always' || (mode === 'CrossSubnet' && !sameSubnet);
}

/** Over the VXLAN device of `dst`'s family, to the owner's VTEP of that family. */
function vxlanRoute(dst: string, owner: NodeInfo | undefined, ctx: RemoteContext, source: DesiredRoute['source']): DesiredRoute | undefined {
  const v6 = dst.includes(':');
  const peer = owner && vxlanPeerOf(owner, v6 ? 6 : 4);
  if (!peer || !(v6 ? ctx.vxlanV6 : ctx.vxlan)) return undefined;
  return { dst, type: 'unicast', iface: v6 ? VXLAN_V6_DEVICE : VXLAN_DEVICE, gateway: peer.vtep, onlink: true, source };
}

function fallbackRoute(dst: string, owner: NodeInfo | undefined, ctx: RemoteContext): DesiredRoute | undefined {
  const viaVxlan = vxlanRoute(dst, owner, ctx, 'fallback');
  if (viaVxlan) return viaVxlan;
  const ip = addressFor(dst, owner);
  if (!ip) return undefined;
  if (ctx.ipip && !dst.includes(':')) return { dst, type: 'unicast', iface: IPIP_DEVICE, gateway: ip, onlink: true, source: 'fallback' };
  if (inMySubnet(ctx, ip)) return { dst, type: 'unicast', gateway: ip, source: 'fallback' };
  return undefined;
}

/**
 * The route toward `dst`, owned by node `ownerName` (if known), given the BGP best path's next
 * hop (if any). `borrowed`: a remote pod's /32 outside its node's blocks.
 */
export function remoteRoute(dst: string, ownerName: string | undefined, nextHop: string | undefined, borrowed: boolean, ctx: RemoteContext): DesiredRoute | undefined {
  const pool = poolOf(dst, ctx.pools);
  if (!pool) return undefined; // only pool routes are ours to program
  const owner = ownerName === undefined ? undefined : ctx.nodes.get(ownerName);
  if (pool.vxlanMode !== 'Never') {
    const ownerIp = addressFor(dst, owner);
    if (encapWanted(pool.vxlanMode, inMySubnet(ctx, ownerIp))) return vxlanRoute(dst, owner, ctx, borrowed ? 'borrowed' : 'vxlan');
    // CrossSubnet within our subnet: direct, as Calico's no-encap routes for VXLAN pools (no BGP needed).
    if (nextHop === undefined && ownerIp) return { dst, type: 'unicast', gateway: ownerIp, source: borrowed ? 'borrowed' : 'vxlan' };
  }
  if (ownerName !== undefined && ctx.fallback[dst.includes(':') ? 6 : 4].has(ownerName)) return fallbackRoute(dst, owner, ctx);
  if (nextHop === undefined) return undefined;
  if (ctx.me?.ipv4Address === nextHop || ctx.me?.ipv6Address === nextHop) return undefined;
  if (!dst.includes(':') && encapWanted(pool.ipipMode, inMySubnet(ctx, nextHop))) {
    return { dst, type: 'unicast', iface: IPIP_DEVICE, gateway: nextHop, onlink: true, source: 'bgp' };
  }
  return { dst, type: 'unicast', gateway: nextHop, source: 'bgp' };
}
