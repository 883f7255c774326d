/**
 * Datastore resources → felix events: what the node agent calls for every list and watch event
 * (felix has no datastore client of its own). Pure. Kinds the routing half does not use map to
 * no event. Names follow Calico: Node.spec.bgp.ipv4Address carries address and subnet,
 * IPAMBlock.spec.affinity is `host:<node>`, FelixConfiguration `default` is global and
 * `node.<name>` applies to one node.
 */
import { tryParseCidr, type AnyResource } from '@tabby/api';
import type { FelixEvent, NodeInfo, RoutingConfig } from './events.js';

function addressAndSubnet(text: string | undefined): { address?: string; subnet?: string } {
  if (!text) return {};
  const slash = text.indexOf('/');
  const address = slash < 0 ? text : text.slice(0, slash);
  const subnet = slash < 0 ? undefined : tryParseCidr(text)?.text;
  return { address, subnet };
}

function stripLen(text: string | undefined): string | undefined {
  return text === undefined ? undefined : text.split('/')[0];
}

/** The NodeInfo of a Node resource. */
export function nodeInfo(r: Extract<AnyResource, { kind: 'Node' }>): NodeInfo {
  const v4 = addressAndSubnet(r.spec.bgp?.ipv4Address);
  const v6 = addressAndSubnet(r.spec.bgp?.ipv6Address);
  return {
    name: r.metadata.name,
    ipv4Address: v4.address,
    ipv4Subnet: v4.subnet,
    ipv6Address: v6.address,
    ipv6Subnet: v6.subnet,
    ipipTunnelAddress: stripLen(r.spec.bgp?.ipv4IPIPTunnelAddr),
    vxlanTunnelAddress: stripLen(r.spec.ipv4VXLANTunnelAddr),
    vxlanTunnelMac: r.spec.vxlanTunnelMACAddr,
    vxlanTunnelAddressV6: stripLen(r.spec.ipv6VXLANTunnelAddr),
    vxlanTunnelMacV6: r.spec.vxlanTunnelMACAddrV6,
  };
}

/** An MTU setting: 0 is Calico's "auto", which felix leaves to its default here. */
function mtu(v: number | undefined): number | undefined {
  return v === 0 ? undefined : v;
}

function routingConfig(spec: Extract<AnyResource, { kind: 'FelixConfiguration' }>['spec']): Partial<RoutingConfig> {
  return { vxlanVni: spec.vxlanVNI, vxlanPort: spec.vxlanPort, vxlanMtu: mtu(spec.vxlanMTU), vxlanMtuV6: mtu(spec.vxlanMTUV6), ipipMtu: mtu(spec.ipipMTU) };
}

/**
 * The event for a resource that was created or modified (`deleted: false`) or deleted. For a
 * FelixConfiguration, only `default` and `node.<nodeName>` apply (the node's wins: the caller
 * feeds `default` first and the node's after).
 */
export function eventFor(r: AnyResource, deleted: boolean, nodeName: string): FelixEvent | undefined {
  switch (r.kind) {
    case 'Node':
      return deleted ? { type: 'node-remove', name: r.metadata.name } : { type: 'node-update', node: nodeInfo(r) };
    case 'IPPool':
      return deleted
        ? { type: 'pool-remove', name: r.metadata.name }
        : { type: 'pool-update', pool: { name: r.metadata.name, cidr: r.spec.cidr, ipipMode: r.spec.ipipMode, vxlanMode: r.spec.vxlanMode, disabled: r.spec.disabled } };
    case 'IPAMBlock': {
      if (deleted) return { type: 'block-remove', cidr: r.spec.cidr };
      const aff = r.spec.affinity;
      return { type: 'block-update', block: { cidr: r.spec.cidr, node: aff?.startsWith('host:') ? aff.slice(5) : undefined } };
    }
    case 'WorkloadEndpoint': {
      const key = `${r.metadata.namespace ?? 'default'}/${r.metadata.name}`;
      if (deleted) return { type: 'endpoint-remove', key };
      return { type: 'endpoint-update', endpoint: { key, node: r.spec.node, iface: r.spec.interfaceName, ipNetworks: r.spec.ipNetworks } };
    }
    case 'FelixConfiguration':
      if (r.metadata.name !== 'default' && r.metadata.name !== `node.${nodeName}`) return undefined;
      return { type: 'config-update', config: deleted ? {} : routingConfig(r.spec) };
    default:
      return undefined;
  }
}
