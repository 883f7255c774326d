/**
 * Validation of Node, BGPConfiguration and BGPPeer. AS numbers 1-4294967295 (also "64512" and
 * asdot "1.10" strings, normalised to numbers), ports 1-65535, communities as RFC 1997 `aa:nn`
 * or RFC 8092 large `aa:nn:mm`, and Calico's rules: a peer has exactly one of peerIP and
 * peerSelector, an AS number with a peerIP, and not both node and nodeSelector.
 */
import { z } from 'zod';
import { tryParseIp } from '../net/cidr.js';
import { tryParsePeerAddress } from '../net/peer-address.js';
import {
  DEFAULT_AS_NUMBER, DEFAULT_BGP_PORT,
  type BGPConfigurationSpec, type BGPPeerSpec, type NodeSpec,
} from '../kinds/index.js';
import { addressWithPrefix, asNumber, bool, cidr, duration, field, intIn, ip, mac, nonEmpty, oneOf, selector, str } from './fields.js';
import { describeValue } from './issues.js';
import { arrayAt, objectAt, stringAt, type KindRules } from './rules.js';

/** Node. */
export const nodeRules: KindRules<NodeSpec> = {
  spec: z
    .object({
      bgp: z
        .object({
          asNumber: asNumber.optional(),
          ipv4Address: addressWithPrefix(4).optional(),
          ipv6Address: addressWithPrefix(6).optional(),
          ipv4IPIPTunnelAddr: ip(4).optional(),
          routeReflectorClusterID: ip(4).optional(),
        })
        .strict()
        .optional(),
      ipv4VXLANTunnelAddr: ip(4).optional(),
      vxlanTunnelMACAddr: mac.optional(),
      ipv6VXLANTunnelAddr: ip(6).optional(),
      vxlanTunnelMACAddrV6: mac.optional(),
      orchRefs: z.array(z.object({ orchestrator: str.optional(), nodeName: str.optional() }).strict()).optional(),
      addresses: z
        .array(z.object({ address: cidr({ allowIp: true }), type: oneOf(['CalicoNodeIP', 'InternalIP', 'ExternalIP'] as const).optional() }).strict())
        .optional(),
      wireguard: z.object({ interfaceIPv4Address: ip(4).optional(), interfaceIPv6Address: ip(6).optional() }).strict().optional(),
    })
    .strict(),
  check(raw, add) {
    const bgp = objectAt(raw, 'bgp');
    if (bgp && Object.keys(bgp).length === 0) {
      add(['bgp'], 'must not be empty: set ipv4Address, ipv6Address or asNumber, or remove bgp for a policy-only node');
    }
  },
};

const MAX_U16 = 65535;
const MAX_U32 = 4294967295;

/** Why `v` is not a community value (`aa:nn` with 16-bit parts or `aa:nn:mm` with 32-bit parts). */
export function communityProblem(v: string): string | undefined {
  const parts = v.split(':');
  const nums = parts.map((p) => (/^\d{1,10}$/.test(p) ? Number(p) : NaN));
  // RFC 1997 §3: a standard community is two 16-bit halves; RFC 8092 §3: large ones are three 32-bit parts.
  if (parts.length === 2 && nums.every((n) => n <= MAX_U16)) return undefined;
  if (parts.length === 3 && nums.every((n) => n <= MAX_U32)) return undefined;
  return `${describeValue(v)} is not a community (aa:nn with parts 0-65535, or aa:nn:mm with parts 0-4294967295)`;
}

const secretRef = z
  .object({ secretKeyRef: z.object({ name: nonEmpty, key: nonEmpty }).strict().optional() })
  .strict();

const cidrBlocks = z.array(z.object({ cidr: cidr() }).strict()).optional();

/** BGPConfiguration. The `default` one gets Calico's defaults filled in. */
export const bgpConfigurationRules: KindRules<BGPConfigurationSpec> = {
  spec: z
    .object({
      logSeverityScreen: oneOf(['Trace', 'Debug', 'Info', 'Warning', 'Error', 'Fatal'] as const).optional(),
      nodeToNodeMeshEnabled: bool.optional(),
      asNumber: asNumber.optional(),
      serviceClusterIPs: cidrBlocks,
      serviceExternalIPs: cidrBlocks,
      serviceLoadBalancerIPs: cidrBlocks,
      listenPort: intIn(1, 65535).optional(),
      bindMode: oneOf(['None', 'NodeIP'] as const).optional(),
      communities: z.array(z.object({ name: nonEmpty, value: nonEmpty }).strict()).optional(),
      prefixAdvertisements: z.array(z.object({ cidr: cidr(), communities: z.array(nonEmpty).default(() => []) }).strict()).optional(),
      nodeMeshPassword: secretRef.optional(),
      nodeMeshMaxRestartTime: duration.optional(),
      ignoredInterfaces: z.array(nonEmpty).optional(),
      localWorkloadPeeringIPV4: ip(4).optional(),
      localWorkloadPeeringIPV6: ip(6).optional(),
    })
    .strict(),
  check(raw, add, ctx) {
    const names = new Set<string>();
    arrayAt(raw, 'communities')?.forEach((c, i) => {
      const obj = objectAt({ c }, 'c');
      const value = stringAt(obj, 'value');
      const name = stringAt(obj, 'name');
      if (name !== undefined) names.add(name);
      const problem = value === undefined ? undefined : communityProblem(value);
      if (problem) add(['communities', i, 'value'], problem);
    });
    arrayAt(raw, 'prefixAdvertisements')?.forEach((p, i) => {
      arrayAt(objectAt({ p }, 'p'), 'communities')?.forEach((c, j) => {
        if (typeof c !== 'string' || names.has(c)) return;
        if (communityProblem(c)) add(['prefixAdvertisements', i, 'communities', j], `${describeValue(c)} is neither a community defined in spec.communities nor a community value`);
      });
    });
    // Calico: the mesh and the cluster AS are cluster-wide settings.
    if (ctx.name !== 'default') {
      for (const k of ['nodeToNodeMeshEnabled', 'asNumber'] as const) {
        if (raw[k] !== undefined) add([k], `can only be set in the BGPConfiguration named "default", not ${describeValue(ctx.name)}`);
      }
    }
  },
  finish(spec, ctx) {
    if (ctx.name !== 'default') return spec;
    return {
      logSeverityScreen: 'Info',
      nodeToNodeMeshEnabled: true,
      asNumber: DEFAULT_AS_NUMBER,
      listenPort: DEFAULT_BGP_PORT,
      ...spec,
    };
  },
};

/** Why `v` is not `ip`, `ipv4:port` or `[ipv6]:port`, or undefined. */
export function peerIPProblem(v: string): string | undefined {
  if (tryParsePeerAddress(v)) return undefined;
  const port = /:(\d+)$/.exec(v)?.[1];
  if (port !== undefined && tryParsePeerAddress(v.replace(/:\d+$/, ':179')) && (Number(port) < 1 || Number(port) > 65535)) {
    return `port ${port} in ${describeValue(v)} is outside 1-65535`;
  }
  return `${describeValue(v)} is not a peer address (use 10.0.0.1, 10.0.0.1:1179, fd00::1 or [fd00::1]:1179)`;
}

const peerIP = field<string>((v) => {
  if (typeof v !== 'string') return { error: `expected a string, got ${describeValue(v)}` };
  const p = peerIPProblem(v);
  return p ? { error: p } : { value: v };
}, { type: 'string', description: 'The peer address: 10.0.0.1, 10.0.0.1:1179, fd00::1 or [fd00::1]:1179.' });

/** BGPPeer. */
export const bgpPeerRules: KindRules<BGPPeerSpec> = {
  spec: z
    .object({
      node: nonEmpty.optional(),
      peerIP: peerIP.optional(),
      asNumber: asNumber.optional(),
      nodeSelector: selector.optional(),
      peerSelector: selector.optional(),
      keepOriginalNextHop: bool.optional(),
      password: secretRef.optional(),
      sourceAddress: oneOf(['UseNodeIP', 'None'] as const).default('UseNodeIP'),
      maxRestartTime: duration.optional(),
      numAllowedLocalASNumbers: intIn(0, 10).optional(),
      ttlSecurity: intIn(0, 255).optional(),
      keepaliveTime: duration.optional(),
      nextHopMode: oneOf(['Auto', 'Self', 'Keep'] as const).optional(),
      filters: z.array(nonEmpty).optional(),
      reachableBy: ip().optional(),
      localWorkloadSelector: selector.optional(),
    })
    .strict(),
  check(raw, add) {
    if (raw.node !== undefined && raw.nodeSelector !== undefined) add(['nodeSelector'], 'cannot be set together with node; use one of them');
    if (raw.peerIP !== undefined && raw.peerSelector !== undefined) add(['peerSelector'], 'cannot be set together with peerIP; use one of them');
    if (raw.peerIP === undefined && raw.peerSelector === undefined && raw.localWorkloadSelector === undefined) {
      add(['peerIP'], 'either peerIP, peerSelector or localWorkloadSelector is required');
    }
    if (raw.peerIP !== undefined && raw.asNumber === undefined) add(['asNumber'], 'required when peerIP is set');
    if (raw.keepOriginalNextHop === true && raw.nextHopMode !== undefined) add(['nextHopMode'], 'cannot be set together with keepOriginalNextHop');
    if (typeof raw.reachableBy === 'string') {
      if (raw.peerIP === undefined) add(['reachableBy'], 'needs peerIP');
      const via = tryParseIp(raw.reachableBy);
      const peer = typeof raw.peerIP === 'string' ? tryParsePeerAddress(raw.peerIP) : undefined;
      if (via && peer && via.family !== peer.family) add(['reachableBy'], `is IPv${via.family} but peerIP is IPv${peer.family}`);
    }
  },
};
