/**
 * The BGP speaker configuration of one node, computed from resources as Calico's confd renders
 * BIRD's: pure, no I/O. The output is the `tabby-bgp` configuration document (the daemon's YAML
 * schema), so the node agent reloads its in-process speaker with it and an operator can read it.
 *
 * Calico semantics kept here:
 * - The node's AS is Node.spec.bgp.asNumber, else BGPConfiguration `default`.asNumber, else 64512.
 * - Full mesh (nodeToNodeMeshEnabled, default on): every other node with an address of the family.
 * - BGPPeer applies to a node by `node`, by `nodeSelector`, or to every node (global); it names
 *   a `peerIP` (optionally with port) or selects Tabby nodes with `peerSelector`. Peerings by
 *   selector are symmetric: a node matched by `peerSelector` peers back with the BGPPeer's nodes.
 * - A node with `routeReflectorClusterID` is a route reflector: a selected peer node that is not
 *   a reflector of the same cluster is its client.
 * - `keepOriginalNextHop` / `nextHopMode` → next hop keep / self / auto; `maxRestartTime` →
 *   graceful-restart time (120 s by default); `ttlSecurity`; `password.secretKeyRef` resolved by
 *   the injected secret reader (a peer whose secret cannot be read is left out and reported).
 * - eBGP peers get only this node's own prefixes (BGPFilter `tabby-no-transit`: routes learned
 *   over BGP are never re-exported to another AS), so a top-of-rack router learns each block
 *   from the node that owns it.
 * - Exported prefixes: the node's blocks (not in pools with disableBGPExport), its workloads'
 *   addresses outside its own blocks (borrowed), the service ranges of BGPConfiguration `default`
 *   and, in Kubernetes mode, the /32 and /128 routes of Services (service-routes.ts: Local
 *   services while this node hosts a ready endpoint); with the communities of `prefixAdvertisements`.
 *   A node labelled node.kubernetes.io/exclude-from-external-load-balancers=true exports no service address.
 */
import { canonicalCidr, cidrContains, selectorMatches, tryParseSelector, tryParseCidr, type BGPConfiguration, type BGPPeer, type Cidr, type IPPool, type Node } from '@tabby/api';
import { excludedFromServiceAdvertisement, serviceRoutes, type KubeEndpointSlice, type KubeService } from './service-routes.js';

/** One peer of the rendered configuration (tabby-bgp's YAML schema). */
export interface RenderedPeer {
  address: string;
  asn: number;
  port?: number;
  routeReflectorClient?: boolean;
  nextHop?: 'auto' | 'self' | 'keep';
  password?: string;
  ttlSecurity?: number;
  gracefulRestart?: { restartTime: number };
  families: Array<'ipv4-unicast' | 'ipv6-unicast'>;
  type: 'node-to-node mesh' | 'global' | 'node specific' | 'route reflector client' | 'route reflector';
  /** The Tabby node this peer is, if it is one (for the fallback). */
  node?: string;
  /** BGPFilter names applied to this peer (tabby-bgp's `filters`). */
  filters?: string[];
}

/** The filter every eBGP peer gets: only this node's own prefixes, never routes learned over BGP. */
export const NO_TRANSIT_FILTER = {
  name: 'tabby-no-transit',
  exportV4: [{ action: 'Reject', source: 'RemotePeers' }],
  exportV6: [{ action: 'Reject', source: 'RemotePeers' }],
} as const;

/** A rendered tabby-bgp configuration plus what could not be rendered. */
export interface RenderedBgp {
  config: {
    routerId: string;
    asn: number;
    clusterId?: string;
    listen: { address: string; port: number };
    peers: RenderedPeer[];
    filters: Array<typeof NO_TRANSIT_FILTER>;
    prefixes: Array<{ prefix: string; communities?: string[] }>;
    statusSocket?: string;
  };
  /** Problems that left something out (a secret not found, a malformed peer IP). */
  warnings: string[];
}

/** The inputs of the rendering. */
export interface BgpInputs {
  nodeName: string;
  nodes: readonly Node[];
  /** `default` and `node.<name>` BGPConfigurations. */
  configs: readonly BGPConfiguration[];
  peers: readonly BGPPeer[];
  pools: readonly IPPool[];
  /** Blocks affine to this node. */
  blocks: readonly string[];
  /** This node's workload addresses (/32 or /128), for borrowed addresses. */
  workloadAddresses: readonly string[];
  /** Kubernetes mode: the cluster's Services and EndpointSlices (for service routes). */
  services?: readonly KubeService[];
  endpointSlices?: readonly KubeEndpointSlice[];
  /** Reads a Kubernetes secret's key; undefined when absent. */
  secret?: (name: string, key: string) => string | undefined;
  statusSocket?: string;
}

const DEFAULT_AS = 64512;
const DEFAULT_RESTART = 120;

function addressOf(n: Node, family: 4 | 6): string | undefined {
  const a = family === 4 ? n.spec.bgp?.ipv4Address : n.spec.bgp?.ipv6Address;
  return a?.split('/')[0];
}

function seconds(d: string | undefined): number | undefined {
  if (!d) return undefined;
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(d.trim());
  if (!m) return undefined;
  const v = Number(m[1]);
  const unit = m[2] ?? 's';
  const s = unit === 'ms' ? v / 1000 : unit === 'm' ? v * 60 : unit === 'h' ? v * 3600 : v;
  return Math.max(1, Math.min(4095, Math.round(s)));
}

function splitPeerIp(text: string): { address: string; port?: number } {
  const v6 = /^\[(.+)\]:(\d+)$/.exec(text);
  if (v6) return { address: v6[1]!, port: Number(v6[2]) };
  const v4 = /^(\d+\.\d+\.\d+\.\d+):(\d+)$/.exec(text);
  if (v4) return { address: v4[1]!, port: Number(v4[2]) };
  return { address: text };
}

function matches(selector: string | undefined, labels: Record<string, string> | undefined): boolean {
  if (selector === undefined || selector.trim() === '') return false;
  const sel = tryParseSelector(selector);
  return sel !== undefined && selectorMatches(sel, labels ?? {});
}

/** Renders the node's tabby-bgp configuration; throws only when the node itself is unusable. */
export function renderBgpConfig(inp: BgpInputs): RenderedBgp {
  const warnings: string[] = [];
  const me = inp.nodes.find((n) => n.metadata.name === inp.nodeName);
  if (!me) throw new Error(`node ${inp.nodeName}: no Node resource`);
  const myV4 = addressOf(me, 4);
  if (!myV4) throw new Error(`node ${inp.nodeName}: Node.spec.bgp.ipv4Address is not set`);
  const global = inp.configs.find((c) => c.metadata.name === 'default')?.spec ?? {};
  const mine = inp.configs.find((c) => c.metadata.name === `node.${inp.nodeName}`)?.spec ?? {};
  const asOf = (n: Node): number => n.spec.bgp?.asNumber ?? global.asNumber ?? DEFAULT_AS;
  const myAs = asOf(me);
  const myCluster = me.spec.bgp?.routeReflectorClusterID;
  const peers: RenderedPeer[] = [];
  const seen = new Set<string>();
  const add = (p: RenderedPeer): void => {
    const key = `${p.address}:${p.port ?? 179}`;
    if (seen.has(key) || p.address === myV4 || p.address === addressOf(me, 6)) return;
    seen.add(key);
    peers.push(p);
  };
  const familyOf = (addr: string): Array<'ipv4-unicast' | 'ipv6-unicast'> => (addr.includes(':') ? ['ipv6-unicast'] : ['ipv4-unicast']);
  const meshPassword = global.nodeMeshPassword?.secretKeyRef;

  if (global.nodeToNodeMeshEnabled ?? true) {
    for (const n of inp.nodes) {
      if (n.metadata.name === inp.nodeName) continue;
      for (const fam of [4, 6] as const) {
        const addr = addressOf(n, fam);
        if (!addr || !addressOf(me, fam)) continue;
        let password: string | undefined;
        if (meshPassword) {
          password = inp.secret?.(meshPassword.name, meshPassword.key);
          if (password === undefined) {
            warnings.push(`mesh peer ${n.metadata.name}: secret ${meshPassword.name}/${meshPassword.key} not found; peer left out`);
            continue;
          }
        }
        add({ address: addr, asn: asOf(n), families: familyOf(addr), type: 'node-to-node mesh', node: n.metadata.name, password, gracefulRestart: { restartTime: seconds(global.nodeMeshMaxRestartTime) ?? DEFAULT_RESTART } });
      }
    }
  }

  const nodeScope = (s: BGPPeer['spec'], n: Node): boolean => (s.node !== undefined ? s.node === n.metadata.name : s.nodeSelector ? matches(s.nodeSelector, n.metadata.labels) : true);
  for (const p of inp.peers) {
    const s = p.spec;
    if (s.peerSelector && matches(s.peerSelector, me.metadata.labels)) {
      // Peerings are symmetric: a node selected by peerSelector peers back with the BGPPeer's nodes.
      for (const n of inp.nodes) {
        if (n.metadata.name === inp.nodeName || !nodeScope(s, n)) continue;
        const theirCluster = n.spec.bgp?.routeReflectorClusterID;
        const client = myCluster !== undefined && theirCluster !== myCluster;
        for (const fam of [4, 6] as const) {
          const addr = addressOf(n, fam);
          if (!addr || !addressOf(me, fam)) continue;
          add({ address: addr, asn: asOf(n), families: familyOf(addr), type: client ? 'route reflector client' : theirCluster ? 'route reflector' : 'node specific', node: n.metadata.name, routeReflectorClient: client || undefined, gracefulRestart: { restartTime: seconds(s.maxRestartTime) ?? DEFAULT_RESTART }, ttlSecurity: s.ttlSecurity });
        }
      }
    }
    const applies = nodeScope(s, me);
    if (!applies) continue;
    const type: RenderedPeer['type'] = s.node !== undefined || s.nodeSelector ? 'node specific' : 'global';
    let password: string | undefined;
    if (s.password?.secretKeyRef) {
      password = inp.secret?.(s.password.secretKeyRef.name, s.password.secretKeyRef.key);
      if (password === undefined) {
        warnings.push(`BGPPeer ${p.metadata.name}: secret ${s.password.secretKeyRef.name}/${s.password.secretKeyRef.key} not found; peer left out`);
        continue;
      }
    }
    const nextHop: RenderedPeer['nextHop'] = s.keepOriginalNextHop || s.nextHopMode === 'Keep' ? 'keep' : s.nextHopMode === 'Self' ? 'self' : undefined;
    const common = { nextHop, password, ttlSecurity: s.ttlSecurity, gracefulRestart: { restartTime: seconds(s.maxRestartTime) ?? DEFAULT_RESTART } };
    if (s.peerIP) {
      const { address, port } = splitPeerIp(s.peerIP);
      if (!tryParseCidr(`${address}/${address.includes(':') ? 128 : 32}`)) {
        warnings.push(`BGPPeer ${p.metadata.name}: peerIP ${s.peerIP} is not an address; peer left out`);
        continue;
      }
      const node = inp.nodes.find((n) => addressOf(n, 4) === address || addressOf(n, 6) === address);
      add({ address, port, asn: s.asNumber ?? (node ? asOf(node) : myAs), families: familyOf(address), type, node: node?.metadata.name, ...common });
    } else if (s.peerSelector) {
      for (const n of inp.nodes) {
        if (n.metadata.name === inp.nodeName || !matches(s.peerSelector, n.metadata.labels)) continue;
        const theirCluster = n.spec.bgp?.routeReflectorClusterID;
        const client = myCluster !== undefined && theirCluster !== myCluster;
        const peerType: RenderedPeer['type'] = client ? 'route reflector client' : theirCluster ? 'route reflector' : type;
        for (const fam of [4, 6] as const) {
          const addr = addressOf(n, fam);
          if (!addr || !addressOf(me, fam)) continue;
          add({ address: addr, asn: asOf(n), families: familyOf(addr), type: peerType, node: n.metadata.name, routeReflectorClient: client || undefined, ...common });
        }
      }
    }
  }

  return {
    config: {
      routerId: myV4,
      asn: myAs,
      clusterId: myCluster,
      listen: { address: (mine.bindMode ?? global.bindMode) === 'NodeIP' ? myV4 : '::', port: mine.listenPort ?? global.listenPort ?? 179 },
      peers: peers.map((p) => stripUndefined(p.asn === myAs ? p : { ...p, filters: [NO_TRANSIT_FILTER.name] })),
      filters: peers.some((p) => p.asn !== myAs) ? [NO_TRANSIT_FILTER] : [],
      prefixes: exportedPrefixes(inp, me, global, warnings),
      statusSocket: inp.statusSocket,
    },
    warnings,
  };
}

function exportedPrefixes(inp: BgpInputs, me: Node, global: BGPConfiguration['spec'], warnings: string[]): Array<{ prefix: string; communities?: string[] }> {
  const noExport = inp.pools.filter((p) => p.spec.disableBGPExport).map((p) => p.spec.cidr);
  const out = new Set<string>();
  for (const b of inp.blocks) if (!noExport.some((c) => cidrContains(c, b))) out.add(canonicalCidr(b));
  for (const a of inp.workloadAddresses) {
    const cidr = canonicalCidr(a.includes('/') ? a : `${a}/${a.includes(':') ? 128 : 32}`);
    if (!inp.blocks.some((b) => cidrContains(b, cidr)) && inp.pools.some((p) => cidrContains(p.spec.cidr, cidr)) && !noExport.some((c) => cidrContains(c, cidr))) out.add(cidr);
  }
  const ranges = (field: 'serviceClusterIPs' | 'serviceExternalIPs' | 'serviceLoadBalancerIPs'): Cidr[] =>
    (global[field] ?? []).flatMap((c) => {
      const t = tryParseCidr(c.cidr);
      if (!t) warnings.push(`BGPConfiguration default: ${field} ${c.cidr} is not a CIDR; not advertised`);
      return t ? [t] : [];
    });
  const clusterRanges = ranges('serviceClusterIPs');
  const externalRanges = ranges('serviceExternalIPs');
  const loadBalancerRanges = ranges('serviceLoadBalancerIPs');
  // client.go updateGlobalRoutes: the ranges from every node not excluded from load balancers.
  if (!excludedFromServiceAdvertisement(me.metadata.labels)) for (const r of [...clusterRanges, ...externalRanges, ...loadBalancerRanges]) out.add(r.text);
  const services = { services: inp.services ?? [], endpointSlices: inp.endpointSlices ?? [] };
  for (const r of serviceRoutes({ nodeName: inp.nodeName, nodeLabels: me.metadata.labels, clusterRanges, externalRanges, loadBalancerRanges, ...services })) out.add(r);
  const named = new Map((global.communities ?? []).map((c) => [c.name, c.value]));
  return [...out].sort().map((prefix) => {
    const comms = new Set<string>();
    for (const adv of global.prefixAdvertisements ?? []) {
      if (!tryParseCidr(adv.cidr) || !cidrContains(adv.cidr, prefix)) continue;
      for (const c of adv.communities) comms.add(named.get(c) ?? c);
    }
    // Large communities (a:b:c) are not carried by tabby-bgp's prefix schema yet.
    const standard = [...comms].filter((c) => /^\d+:\d+$/.test(c));
    return standard.length ? { prefix, communities: standard } : { prefix };
  });
}

function stripUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
