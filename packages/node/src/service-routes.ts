/**
 * Which Kubernetes service addresses this node advertises over BGP, as Calico's confd route
 * generator decides it (confd/pkg/backends/calico/routes.go and client.go). Pure: Services and
 * EndpointSlices in, sorted host prefixes (/32, /128) out.
 *
 * Calico semantics kept here:
 * - The configured ranges (BGPConfiguration `default` serviceClusterIPs / serviceExternalIPs /
 *   serviceLoadBalancerIPs) are advertised from every node (bgp-config.ts), except from a node
 *   labelled `node.kubernetes.io/exclude-from-external-load-balancers=true`, which advertises no
 *   service address at all (client.go ExcludeServiceAdvertisement).
 * - A Service is considered only when its type is ClusterIP, NodePort or LoadBalancer and its
 *   clusterIP is set and not `None` (headless services and ExternalName have no routes).
 * - `externalTrafficPolicy: Cluster`: advertised from every node only when one of its load
 *   balancer IPs (spec.loadBalancerIP or status.loadBalancer.ingress) is a single-address (/32,
 *   /128) entry of serviceLoadBalancerIPs, or one of its externalIPs is a single-address entry of
 *   serviceExternalIPs; otherwise the ranges cover it.
 * - `externalTrafficPolicy: Local`: advertised while this node hosts a ready endpoint of the
 *   service whose address family is that of spec.clusterIP (Calico reads Endpoints' `addresses`,
 *   the ready ones; here EndpointSlices, where `conditions.ready` unset means ready).
 * - The routes of an advertised service: spec.clusterIP when serviceClusterIPs is non-empty
 *   (Calico does not check the cluster IP against the ranges), each externalIP inside a
 *   serviceExternalIPs range, each status.loadBalancer.ingress IP inside a
 *   serviceLoadBalancerIPs range; addresses outside the ranges are never advertised.
 * - internalTrafficPolicy is not consulted (Calico does not either).
 * Differences: a Service without `type` counts as ClusterIP (the API server's default); only
 * spec.clusterIP is advertised, not a dual-stack service's second clusterIPs entry (as Calico).
 */
import { cidrContains, makeCidr, tryParseIp, type Cidr } from '@tabby/api';
import type { KubeObjectMeta } from './kube-convert.js';

/** A core/v1 Service (the fields used here). */
export interface KubeService {
  metadata: KubeObjectMeta;
  spec?: {
    type?: string;
    clusterIP?: string;
    clusterIPs?: string[];
    externalIPs?: string[];
    externalTrafficPolicy?: string;
    loadBalancerIP?: string;
  };
  status?: { loadBalancer?: { ingress?: Array<{ ip?: string; hostname?: string }> } };
}

/** A discovery.k8s.io/v1 EndpointSlice (the fields used here). */
export interface KubeEndpointSlice {
  metadata: KubeObjectMeta;
  addressType?: string;
  endpoints?: Array<{ addresses?: string[]; nodeName?: string; conditions?: { ready?: boolean } }>;
}

/** The label naming an EndpointSlice's Service. */
export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';
/** A node with this label `true` advertises no service address (Calico, kube's LB exclusion). */
export const EXCLUDE_LB_LABEL = 'node.kubernetes.io/exclude-from-external-load-balancers';

const ROUTED_TYPES = new Set(['ClusterIP', 'NodePort', 'LoadBalancer']);

/** What decides the routes. Ranges are the BGPConfiguration's, already parsed. */
export interface ServiceRouteInputs {
  nodeName: string;
  nodeLabels: Record<string, string> | undefined;
  clusterRanges: readonly Cidr[];
  externalRanges: readonly Cidr[];
  loadBalancerRanges: readonly Cidr[];
  services: readonly KubeService[];
  endpointSlices: readonly KubeEndpointSlice[];
}

/** True when this node must advertise no service address. */
export function excludedFromServiceAdvertisement(labels: Record<string, string> | undefined): boolean {
  return labels?.[EXCLUDE_LB_LABEL] === 'true';
}

/** The host prefixes this node advertises for Services, sorted, without duplicates. */
export function serviceRoutes(inp: ServiceRouteInputs): string[] {
  if (excludedFromServiceAdvertisement(inp.nodeLabels)) return [];
  const local = localServices(inp);
  const out = new Set<string>();
  for (const svc of inp.services) {
    if (!advertised(svc, inp, local)) continue;
    for (const r of routesOf(svc, inp)) out.add(r);
  }
  return [...out].sort();
}

/** `namespace/service` → families (4, 6) of this node's ready endpoints. */
function localServices(inp: ServiceRouteInputs): Map<string, Set<4 | 6>> {
  const out = new Map<string, Set<4 | 6>>();
  for (const s of inp.endpointSlices) {
    const svc = s.metadata.labels?.[SERVICE_NAME_LABEL];
    const family = s.addressType === 'IPv4' ? 4 : s.addressType === 'IPv6' ? 6 : undefined;
    if (!svc || !family) continue;
    // EndpointSlice API: a nil `ready` is unknown and consumers should take it as ready.
    if (!(s.endpoints ?? []).some((e) => e.nodeName === inp.nodeName && e.conditions?.ready !== false && (e.addresses?.length ?? 0) > 0)) continue;
    const key = `${s.metadata.namespace ?? 'default'}/${svc}`;
    const set = out.get(key) ?? new Set();
    set.add(family);
    out.set(key, set);
  }
  return out;
}

/** An address parsed once, as a host CIDR (/32, /128); undefined when it does not parse. */
function host(ip: string | undefined): Cidr | undefined {
  const a = ip ? tryParseIp(ip) : undefined;
  return a && makeCidr(a.family, a.addr, a.family === 4 ? 32 : 128);
}

const singles = (ranges: readonly Cidr[]): Cidr[] => ranges.filter((r) => r.prefixLen === (r.family === 4 ? 32 : 128));
const within = (h: Cidr | undefined, ranges: readonly Cidr[]): h is Cidr => h !== undefined && ranges.some((r) => cidrContains(r, h));

/** routes.go advertiseThisService; cheap checks first (it runs for every Service at each rendering). */
function advertised(svc: KubeService, inp: ServiceRouteInputs, local: Map<string, Set<4 | 6>>): boolean {
  const spec = svc.spec ?? {};
  if (!ROUTED_TYPES.has(spec.type ?? 'ClusterIP')) return false;
  const clusterIP = spec.clusterIP;
  if (!clusterIP || clusterIP === 'None') return false; // headless: no routes
  if (spec.externalTrafficPolicy === 'Cluster') {
    const singleLb = singles(inp.loadBalancerRanges);
    const lbIps = [spec.loadBalancerIP, ...(svc.status?.loadBalancer?.ingress ?? []).map((i) => i.ip)];
    if (spec.type === 'LoadBalancer' && singleLb.length > 0 && lbIps.some((ip) => within(host(ip), singleLb))) return true;
    const singleExt = singles(inp.externalRanges);
    if (singleExt.length > 0 && (spec.externalIPs ?? []).some((ip) => within(host(ip), singleExt))) return true;
    return false; // the ranges cover it
  }
  if (spec.externalTrafficPolicy !== 'Local') return false;
  const families = local.get(`${svc.metadata.namespace ?? 'default'}/${svc.metadata.name}`);
  const family = families && host(clusterIP)?.family;
  return family !== undefined && families !== undefined && families.has(family);
}

/** routes.go getAllRoutesForService. */
function routesOf(svc: KubeService, inp: ServiceRouteInputs): string[] {
  const hosts: Array<Cidr | undefined> = [];
  if (inp.clusterRanges.length > 0) hosts.push(host(svc.spec?.clusterIP));
  for (const ip of svc.spec?.externalIPs ?? []) {
    const h = host(ip);
    if (within(h, inp.externalRanges)) hosts.push(h);
  }
  for (const ing of svc.status?.loadBalancer?.ingress ?? []) {
    const h = host(ing.ip);
    if (within(h, inp.loadBalancerRanges)) hosts.push(h);
  }
  return hosts.flatMap((h) => (h ? [h.text] : []));
}

/** The Services and EndpointSlices a Kubernetes-mode cache holds (none in etcd mode), for renderBgpConfig. */
export function kubeServiceInputs(cache: { list(kind: string): unknown[] }): { services: KubeService[]; endpointSlices: KubeEndpointSlice[] } {
  return { services: cache.list('Service') as KubeService[], endpointSlices: cache.list('EndpointSlice') as KubeEndpointSlice[] };
}

/**
 * Why a Service cannot be used (the field and what is wrong), or undefined when it can. The API
 * server validates these fields, so this guards against objects from elsewhere (a fake, a proxy).
 */
export function serviceProblem(o: unknown): string | undefined {
  const svc = o as KubeService;
  const spec = svc.spec as unknown;
  if (spec === undefined || spec === null || typeof spec !== 'object') return 'spec: missing';
  const s = svc.spec!;
  for (const f of ['type', 'clusterIP', 'externalTrafficPolicy', 'loadBalancerIP'] as const) {
    if (s[f] !== undefined && typeof s[f] !== 'string') return `spec.${f}: not a string`;
  }
  if (s.clusterIP && s.clusterIP !== 'None' && !tryParseIp(s.clusterIP)) return `spec.clusterIP: "${s.clusterIP}" is not an address`;
  if (s.loadBalancerIP && !tryParseIp(s.loadBalancerIP)) return `spec.loadBalancerIP: "${s.loadBalancerIP}" is not an address`;
  if (s.externalIPs !== undefined) {
    if (!Array.isArray(s.externalIPs)) return 'spec.externalIPs: not a list';
    for (const [i, ip] of s.externalIPs.entries()) if (typeof ip !== 'string' || !tryParseIp(ip)) return `spec.externalIPs[${i}]: "${String(ip)}" is not an address`;
  }
  const ingress = svc.status?.loadBalancer?.ingress as unknown;
  if (ingress !== undefined) {
    if (!Array.isArray(ingress)) return 'status.loadBalancer.ingress: not a list';
    for (const [i, ing] of (ingress as Array<{ ip?: unknown }>).entries()) {
      if (ing?.ip !== undefined && (typeof ing.ip !== 'string' || !tryParseIp(ing.ip))) return `status.loadBalancer.ingress[${i}].ip: "${String(ing.ip)}" is not an address`;
    }
  }
  return undefined;
}

/** Why an EndpointSlice cannot be used, or undefined when it can. */
export function endpointSliceProblem(o: unknown): string | undefined {
  const s = o as KubeEndpointSlice;
  const eps = s.endpoints as unknown;
  if (eps === undefined || eps === null) return undefined; // no endpoints: nothing local
  if (!Array.isArray(eps)) return 'endpoints: not a list';
  for (const [i, e] of (eps as unknown[]).entries()) {
    if (e === null || typeof e !== 'object') return `endpoints[${i}]: not an object`;
    const ep = e as { addresses?: unknown; nodeName?: unknown };
    if (ep.addresses !== undefined && !Array.isArray(ep.addresses)) return `endpoints[${i}].addresses: not a list`;
    if (ep.nodeName !== undefined && typeof ep.nodeName !== 'string') return `endpoints[${i}].nodeName: not a string`;
  }
  return undefined;
}
