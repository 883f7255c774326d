/**
 * The tunnel devices a node wants, derived from its Node, the pools and the configuration: tunl0
 * (IPv4 IPIP pools), vxlan.calico (IPv4 VXLAN pools) and vxlan-v6.calico (IPv6 VXLAN pools), and
 * the remote VTEPs of each VXLAN family. Pure.
 *
 * A VXLAN device of a family exists only where this node has both an underlay address and a VTEP
 * address of that family; it is wanted while an enabled pool of that family uses VXLAN, while
 * the automatic fallback is on (peers may fall back toward us at any moment), or while some node
 * is in fallback (its blocks take the tunnel now).
 */
import { parsePrefix } from './prefix.js';
import type { NodeInfo, PoolInfo, RoutingConfig } from './events.js';
import type { IpipDevice, VxlanDevice, VxlanPeer } from './desired.js';
import { vxlanPeerOf } from './remote.js';

/** What decides the devices. */
export interface DeviceInputs {
  me: NodeInfo | undefined;
  pools: readonly PoolInfo[];
  config: RoutingConfig;
  /** The automatic fallback is on, or some node is in fallback now. */
  fallback: boolean;
}

function familyOf(cidr: string): 4 | 6 | undefined {
  const p = parsePrefix(cidr);
  return p === undefined ? undefined : p.v4 ? 4 : 6;
}

/** tunl0 while an enabled IPv4 pool uses IPIP. */
export function ipipDevice(d: DeviceInputs): IpipDevice | undefined {
  if (!d.pools.some((p) => !p.disabled && p.ipipMode !== 'Never' && familyOf(p.cidr) === 4)) return undefined;
  return { address: d.me?.ipipTunnelAddress, mtu: d.config.ipipMtu };
}

/** vxlan.calico (`family` 4) or vxlan-v6.calico (6), when wanted and possible. */
export function vxlanDevice(d: DeviceInputs, family: 4 | 6): VxlanDevice | undefined {
  const me = d.me && vxlanPeerOf(d.me, family);
  if (!me) return undefined;
  const wanted = d.fallback || d.pools.some((p) => !p.disabled && p.vxlanMode !== 'Never' && familyOf(p.cidr) === family);
  if (!wanted) return undefined;
  const mtu = family === 6 ? d.config.vxlanMtuV6 : d.config.vxlanMtu;
  return { vni: d.config.vxlanVni, port: d.config.vxlanPort, mtu, local: me.nodeIp, address: me.vtep, mac: me.mac };
}

/** Every other node's VTEP of `family`, keyed by node name. */
export function vxlanPeers(nodes: Iterable<NodeInfo>, self: string, family: 4 | 6): Map<string, VxlanPeer> {
  const peers = new Map<string, VxlanPeer>();
  for (const n of nodes) {
    if (n.name === self) continue;
    const p = vxlanPeerOf(n, family);
    if (p) peers.set(n.name, p);
  }
  return peers;
}
