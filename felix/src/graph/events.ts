/**
 * The inputs of felix's routing calculation graph: plain data the node agent derives from the
 * datastore (Node, IPPool, IPAMBlock, WorkloadEndpoint, FelixConfiguration) and from its BGP
 * speaker (best paths, per-node session availability). Felix has no datastore client of its own;
 * `from-resources.ts` turns resources into these events.
 *
 * Every update carries the whole object and replaces the previous one with the same key; a
 * remove names the key. So the graph's state depends only on the last event per key.
 */

/** Encapsulation mode of a pool, as Calico spells it. */
export type EncapMode = 'Never' | 'Always' | 'CrossSubnet';

/** What felix needs of a Node. Addresses without length; subnets as CIDRs. */
export interface NodeInfo {
  name: string;
  /** The node's IPv4 address (Node.spec.bgp.ipv4Address without its length). */
  ipv4Address?: string;
  /** The node's IPv4 subnet (Node.spec.bgp.ipv4Address's network), for CrossSubnet. */
  ipv4Subnet?: string;
  ipv6Address?: string;
  ipv6Subnet?: string;
  /** Node.spec.bgp.ipv4IPIPTunnelAddr. */
  ipipTunnelAddress?: string;
  /** Node.spec.ipv4VXLANTunnelAddr: the node's VTEP address. */
  vxlanTunnelAddress?: string;
  /** Node.spec.vxlanTunnelMACAddr; default 66 + sha1(name)[0:5]. */
  vxlanTunnelMac?: string;
  /** Node.spec.ipv6VXLANTunnelAddr: the node's IPv6 VTEP address (on vxlan-v6.calico). */
  vxlanTunnelAddressV6?: string;
  /** Node.spec.vxlanTunnelMACAddrV6; default 66 + sha1(name + '-v6')[0:5]. */
  vxlanTunnelMacV6?: string;
}

/** What felix needs of an IPPool. */
export interface PoolInfo {
  name: string;
  cidr: string;
  ipipMode: EncapMode;
  vxlanMode: EncapMode;
  disabled: boolean;
}

/** An IPAM block and the node it is affine to (`host:<node>`), if any. */
export interface BlockInfo {
  cidr: string;
  /** The affine node's name; undefined for a block without host affinity. */
  node?: string;
}

/** A workload endpoint (one pod interface), local or remote. */
export interface EndpointInfo {
  /** `<namespace>/<name>` of the WorkloadEndpoint. */
  key: string;
  node: string;
  /** Host-side interface name (caliXXXXXXXXXXX). */
  iface: string;
  /** /32 and /128 networks. */
  ipNetworks: string[];
}

/** The FelixConfiguration fields the routing half uses (defaults as Calico's). */
export interface RoutingConfig {
  /** VXLAN VNI, default 4096. */
  vxlanVni: number;
  /** VXLAN UDP port, default 4789. */
  vxlanPort: number;
  /** MTU of vxlan.calico, default 1450. */
  vxlanMtu: number;
  /** MTU of vxlan-v6.calico, default 1430 (IPv6 outer header: 20 bytes more than IPv4's). */
  vxlanMtuV6: number;
  /** MTU of tunl0, default 1480. */
  ipipMtu: number;
  /** How long a node's BGP session must stay up before its routes leave the fallback, ms. */
  bgpRestoreHoldMs: number;
}

/** Calico's defaults. */
export const DEFAULT_ROUTING_CONFIG: RoutingConfig = Object.freeze({
  vxlanVni: 4096,
  vxlanPort: 4789,
  vxlanMtu: 1450,
  vxlanMtuV6: 1430,
  ipipMtu: 1480,
  bgpRestoreHoldMs: 10_000,
});

/** One input of the graph. */
export type FelixEvent =
  | { type: 'node-update'; node: NodeInfo }
  | { type: 'node-remove'; name: string }
  | { type: 'pool-update'; pool: PoolInfo }
  | { type: 'pool-remove'; name: string }
  | { type: 'block-update'; block: BlockInfo }
  | { type: 'block-remove'; cidr: string }
  | { type: 'endpoint-update'; endpoint: EndpointInfo }
  | { type: 'endpoint-remove'; key: string }
  | { type: 'config-update'; config: Partial<RoutingConfig> }
  /** A best path from the BGP speaker's Loc-RIB (replaces any earlier one for the prefix). */
  | { type: 'bgp-route-update'; prefix: string; nextHop: string }
  | { type: 'bgp-route-remove'; prefix: string }
  /**
   * Whether BGP to `node` works. `available: false` (session cannot establish, or BGP disabled)
   * moves that node's blocks to datastore-derived tunnel routes at once; `true` moves them back
   * once it has held for `bgpRestoreHoldMs` (hysteresis), and only for blocks BGP has a route for.
   * `family`: the address family whose sessions decided it (IPv4 blocks follow the IPv4 sessions,
   * IPv6 blocks the IPv6 ones); absent: both.
   */
  | { type: 'bgp-node-state'; node: string; available: boolean; since: number; family?: 4 | 6 }
  /**
   * The node agent runs the automatic BGP fallback: keep vxlan.calico (and vxlan-v6.calico where
   * this node has an IPv6 VTEP) up even while no node is in fallback, because a peer may fall
   * back toward us at any moment, and our own switch back must not tear the device down under
   * packets still in flight.
   */
  | { type: 'fallback-enabled'; enabled: boolean }
  /** The datastore view (and the BGP initial table) is complete: stale routes may go. */
  | { type: 'in-sync' };
