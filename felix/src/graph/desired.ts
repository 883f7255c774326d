/**
 * The desired kernel state the routing graph computes: plain data, no kernel handles. Routes
 * name their device (`caliXXXX`, `tunl0`, `vxlan.calico`); the route driver resolves names to
 * indexes against the links it reads back.
 */
import { createHash } from 'node:crypto';

/** Name of the IPIP device (Calico's). */
export const IPIP_DEVICE = 'tunl0';
/** Name of the IPv4 VXLAN device (Calico's). */
export const VXLAN_DEVICE = 'vxlan.calico';
/** Name of the IPv6 VXLAN device (Calico's). */
export const VXLAN_V6_DEVICE = 'vxlan-v6.calico';

/** Why a route exists; the drivers do not care, logs and tests do. */
export type RouteSource = 'workload' | 'local-block' | 'bgp' | 'vxlan' | 'fallback' | 'borrowed';

/** One route felix owns: main table, protocol 80. */
export interface DesiredRoute {
  /** Canonical `addr/len`. */
  dst: string;
  type: 'unicast' | 'blackhole';
  /** Output device by name. */
  iface?: string;
  gateway?: string;
  onlink?: boolean;
  /** Link scope (a workload route without gateway). */
  scopeLink?: boolean;
  source: RouteSource;
}

/** The IPIP device tunl0 and its address. */
export interface IpipDevice {
  /** The node's tunnel address (no length), if allocated. */
  address?: string;
  mtu: number;
}

/** A VXLAN device: vxlan.calico (IPv4 underlay and VTEP) or vxlan-v6.calico (IPv6 both). */
export interface VxlanDevice {
  vni: number;
  port: number;
  mtu: number;
  /** The node's underlay address: VXLAN source and the parent device's address. */
  local: string;
  /** The node's VTEP address (no length). */
  address: string;
  mac: string;
}

/** A remote VTEP: a permanent ARP / NDP entry (address → MAC) and an FDB entry (MAC → node). */
export interface VxlanPeer {
  node: string;
  vtep: string;
  mac: string;
  nodeIp: string;
}

/** Everything the routing half wants in the kernel. */
export interface DesiredState {
  routes: Map<string, DesiredRoute>;
  ipip: IpipDevice | undefined;
  vxlan: VxlanDevice | undefined;
  /** Keyed by node name. */
  vxlanPeers: Map<string, VxlanPeer>;
  /** vxlan-v6.calico, for IPv6 VXLAN pools and the IPv6 side of the fallback. */
  vxlanV6: VxlanDevice | undefined;
  /** IPv6 VTEPs (addresses and underlay addresses IPv6), keyed by node name. */
  vxlanPeersV6: Map<string, VxlanPeer>;
  /** Local workload interfaces (sysctls). */
  workloadIfaces: Set<string>;
}

/** Calico's default VTEP MAC of a node: 66 followed by the first 5 bytes of sha1(node name). */
export function defaultVtepMac(node: string): string {
  const h = createHash('sha1').update(node).digest();
  return ['66', ...Array.from(h.subarray(0, 5), (b) => b.toString(16).padStart(2, '0'))].join(':');
}

/** Calico's default IPv6 VTEP MAC of a node: as the IPv4 one, of the name followed by `-v6`. */
export function defaultVtepMacV6(node: string): string {
  return defaultVtepMac(`${node}-v6`);
}

/** True when two desired routes program the same kernel route. */
export function sameRoute(a: DesiredRoute, b: DesiredRoute): boolean {
  return a.dst === b.dst && a.type === b.type && a.iface === b.iface && a.gateway === b.gateway && !!a.onlink === !!b.onlink && !!a.scopeLink === !!b.scopeLink;
}
