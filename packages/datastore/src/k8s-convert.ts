/**
 * Conversion between Tabby resources and Kubernetes objects. Pure functions.
 * - A custom kind is stored as is: `tabby.dev/v1`, the same kind, Kubernetes metadata
 *   (name, namespace, labels, annotations, resourceVersion, uid, creationTimestamp) and spec.
 *   Server-owned metadata (managedFields, generation, ...) is dropped on the way back.
 * - `Node` is the core/v1 Node, as Calico's Kubernetes backend maps it: labels are the node's
 *   labels; BGP address, AS number, route-reflector cluster ID and tunnel addresses live in
 *   `projectcalico.org/*` annotations; `orchRefs` and `addresses` are derived from the node on
 *   read and never written (kubelet owns the node's status).
 */
import { API_GROUP, API_VERSION, type ObjectMeta, type Resource } from '@tabby/api';
import type { NodeSpec } from '@tabby/api';

/** A Kubernetes object as it travels over the API (only the fields we touch are typed). */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: KubeMeta;
  spec?: unknown;
  status?: unknown;
  [field: string]: unknown;
}

/** Kubernetes object metadata (the subset Tabby reads and writes). */
export interface KubeMeta {
  name?: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  resourceVersion?: string;
  uid?: string;
  creationTimestamp?: string | Date;
  [field: string]: unknown;
}

/** Calico's annotation names on a Kubernetes Node, keyed by the NodeSpec field they carry. */
export const NODE_ANNOTATIONS = {
  ipv4Address: 'projectcalico.org/IPv4Address',
  ipv6Address: 'projectcalico.org/IPv6Address',
  asNumber: 'projectcalico.org/ASNumber',
  routeReflectorClusterID: 'projectcalico.org/RouteReflectorClusterID',
  ipv4IPIPTunnelAddr: 'projectcalico.org/IPv4IPIPTunnelAddr',
  ipv4VXLANTunnelAddr: 'projectcalico.org/IPv4VXLANTunnelAddr',
  vxlanTunnelMACAddr: 'projectcalico.org/VXLANTunnelMACAddr',
  ipv6VXLANTunnelAddr: 'projectcalico.org/IPv6VXLANTunnelAddr',
  vxlanTunnelMACAddrV6: 'projectcalico.org/VXLANTunnelMACAddrV6',
} as const;

const MANAGED = new Set<string>(Object.values(NODE_ANNOTATIONS));

/** Tabby metadata from Kubernetes metadata (server-owned fields dropped). */
export function metaFromKube(m: KubeMeta | undefined): ObjectMeta {
  const out: ObjectMeta = { name: m?.name ?? '' };
  if (m?.namespace) out.namespace = m.namespace;
  if (m?.labels && Object.keys(m.labels).length > 0) out.labels = { ...m.labels };
  if (m?.annotations && Object.keys(m.annotations).length > 0) out.annotations = { ...m.annotations };
  if (m?.resourceVersion) out.resourceVersion = m.resourceVersion;
  if (m?.uid) out.uid = m.uid;
  if (m?.creationTimestamp) {
    const ts = m.creationTimestamp;
    out.creationTimestamp = ts instanceof Date ? ts.toISOString().replace(/\.\d{3}Z$/, 'Z') : ts;
  }
  return out;
}

/** Kubernetes metadata from Tabby metadata (the server sets uid and creationTimestamp). */
function metaToKube(m: ObjectMeta): KubeMeta {
  const out: KubeMeta = { name: m.name };
  if (m.namespace) out.namespace = m.namespace;
  if (m.labels) out.labels = { ...m.labels };
  if (m.annotations) out.annotations = { ...m.annotations };
  if (m.resourceVersion) out.resourceVersion = m.resourceVersion;
  return out;
}

/** A custom resource object for a Tabby resource. */
export function resourceToCustomObject(r: Resource): KubeObject {
  return { apiVersion: `${API_GROUP}/v1`, kind: r.kind, metadata: metaToKube(r.metadata), spec: structuredClone(r.spec) };
}

/** A Tabby resource from a custom resource object. */
export function customObjectToResource<R extends Resource>(o: KubeObject, kind: string): R {
  return { apiVersion: API_VERSION, kind, metadata: metaFromKube(o.metadata), spec: structuredClone(o.spec ?? {}) } as R;
}

/** The node's annotations for the spec fields Calico keeps there. */
function nodeSpecAnnotations(spec: NodeSpec): Record<string, string> {
  const out: Record<string, string> = {};
  const set = (k: keyof typeof NODE_ANNOTATIONS, v: string | number | undefined): void => {
    if (v !== undefined && v !== '') out[NODE_ANNOTATIONS[k]] = String(v);
  };
  set('ipv4Address', spec.bgp?.ipv4Address);
  set('ipv6Address', spec.bgp?.ipv6Address);
  set('asNumber', spec.bgp?.asNumber);
  set('routeReflectorClusterID', spec.bgp?.routeReflectorClusterID);
  set('ipv4IPIPTunnelAddr', spec.bgp?.ipv4IPIPTunnelAddr);
  set('ipv4VXLANTunnelAddr', spec.ipv4VXLANTunnelAddr);
  set('vxlanTunnelMACAddr', spec.vxlanTunnelMACAddr);
  set('ipv6VXLANTunnelAddr', spec.ipv6VXLANTunnelAddr);
  set('vxlanTunnelMACAddrV6', spec.vxlanTunnelMACAddrV6);
  return out;
}

/**
 * The Kubernetes Node for a Tabby Node: `base` (the node as read from the API, or nothing on
 * create) with its labels replaced and its Calico annotations rewritten from the spec; the
 * node's own spec and status are kept untouched.
 */
export function nodeToKube(r: Resource, base?: KubeObject): KubeObject {
  const spec = (r.spec ?? {}) as NodeSpec;
  const annotations: Record<string, string> = {};
  for (const [k, v] of Object.entries(r.metadata.annotations ?? {})) if (!MANAGED.has(k)) annotations[k] = v;
  Object.assign(annotations, nodeSpecAnnotations(spec));
  const metadata: KubeMeta = { ...(base?.metadata ?? {}), ...metaToKube(r.metadata), annotations };
  if (!r.metadata.labels) delete metadata.labels;
  if (!r.metadata.resourceVersion) delete metadata.resourceVersion;
  return { ...(base ?? {}), apiVersion: 'v1', kind: 'Node', metadata };
}

/** The Tabby Node for a Kubernetes Node. */
export function kubeToNode<R extends Resource>(o: KubeObject): R {
  const meta = metaFromKube(o.metadata);
  const ann = o.metadata?.annotations ?? {};
  const other = Object.entries(ann).filter(([k]) => !MANAGED.has(k));
  if (other.length > 0) meta.annotations = Object.fromEntries(other);
  else delete meta.annotations;
  const a = (k: keyof typeof NODE_ANNOTATIONS): string | undefined => ann[NODE_ANNOTATIONS[k]];
  const spec: NodeSpec = {};
  const bgp: NonNullable<NodeSpec['bgp']> = {};
  if (a('ipv4Address')) bgp.ipv4Address = a('ipv4Address');
  if (a('ipv6Address')) bgp.ipv6Address = a('ipv6Address');
  if (a('asNumber')) bgp.asNumber = Number(a('asNumber'));
  if (a('routeReflectorClusterID')) bgp.routeReflectorClusterID = a('routeReflectorClusterID');
  if (a('ipv4IPIPTunnelAddr')) bgp.ipv4IPIPTunnelAddr = a('ipv4IPIPTunnelAddr');
  if (Object.keys(bgp).length > 0) spec.bgp = bgp;
  if (a('ipv4VXLANTunnelAddr')) spec.ipv4VXLANTunnelAddr = a('ipv4VXLANTunnelAddr');
  if (a('vxlanTunnelMACAddr')) spec.vxlanTunnelMACAddr = a('vxlanTunnelMACAddr');
  if (a('ipv6VXLANTunnelAddr')) spec.ipv6VXLANTunnelAddr = a('ipv6VXLANTunnelAddr');
  if (a('vxlanTunnelMACAddrV6')) spec.vxlanTunnelMACAddrV6 = a('vxlanTunnelMACAddrV6');
  spec.orchRefs = [{ orchestrator: 'k8s', nodeName: meta.name }];
  const addresses = nodeAddresses(o, bgp);
  if (addresses.length > 0) spec.addresses = addresses;
  return { apiVersion: API_VERSION, kind: 'Node', metadata: meta, spec } as R;
}

/** CalicoNodeIP from the BGP addresses (without prefix length), then the node's status addresses. */
function nodeAddresses(o: KubeObject, bgp: NonNullable<NodeSpec['bgp']>): NonNullable<NodeSpec['addresses']> {
  const out: NonNullable<NodeSpec['addresses']> = [];
  for (const cidr of [bgp.ipv4Address, bgp.ipv6Address]) {
    if (cidr) out.push({ address: cidr.split('/')[0]!, type: 'CalicoNodeIP' });
  }
  const status = o.status as { addresses?: { address?: string; type?: string }[] } | undefined;
  for (const a of status?.addresses ?? []) {
    if (a.address && (a.type === 'InternalIP' || a.type === 'ExternalIP')) out.push({ address: a.address, type: a.type });
  }
  return out;
}
