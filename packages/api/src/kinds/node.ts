/** The Node resource with Calico's field names. Types only. */
import type { Resource } from '../resource.js';

/** A node's BGP settings. */
export interface NodeBGPSpec {
  /** The node's AS; unset means the cluster default from BGPConfiguration. */
  asNumber?: number;
  /** IPv4 address and subnet of the node, e.g. 10.0.0.1/24. */
  ipv4Address?: string;
  /** IPv6 address and subnet of the node. */
  ipv6Address?: string;
  /** Address of the node's IPIP tunnel device. */
  ipv4IPIPTunnelAddr?: string;
  /** Set on route reflectors: their cluster ID (a dotted-quad). */
  routeReflectorClusterID?: string;
}

/** An orchestrator's reference to a node. */
export interface OrchRef {
  orchestrator?: string;
  nodeName?: string;
}

/** A node address with its kind. */
export interface NodeAddress {
  address: string;
  type?: 'CalicoNodeIP' | 'InternalIP' | 'ExternalIP';
}

/** Spec of a Node. */
export interface NodeSpec {
  /** BGP configuration; omitted on policy-only nodes. */
  bgp?: NodeBGPSpec;
  /** Address of the VXLAN tunnel device (system-set). */
  ipv4VXLANTunnelAddr?: string;
  /** MAC address of the IPv4 VXLAN tunnel device (system-set). */
  vxlanTunnelMACAddr?: string;
  /** Address of the IPv6 VXLAN tunnel device (system-set). */
  ipv6VXLANTunnelAddr?: string;
  /** MAC address of the IPv6 VXLAN tunnel device (system-set). */
  vxlanTunnelMACAddrV6?: string;
  /** Orchestrator references. */
  orchRefs?: OrchRef[];
  /** Known addresses of the node. */
  addresses?: NodeAddress[];
  /** WireGuard interface addresses (system-set). */
  wireguard?: { interfaceIPv4Address?: string; interfaceIPv6Address?: string };
}

/** A node running Tabby. Cluster-scoped. */
export type Node = Resource<'Node', NodeSpec>;
