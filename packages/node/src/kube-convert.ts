/**
 * Kubernetes core objects → the Calico resources felix consumes, as Calico's Kubernetes
 * datastore derives them (libcalico-go's conversion). Pure.
 * - Pod → WorkloadEndpoint `<node>-k8s-<pod>-eth0`: the pod's labels plus
 *   projectcalico.org/namespace, /orchestrator=k8s and /serviceaccount; profiles `kns.<ns>` and
 *   `ksa.<ns>.<sa>`; interface `cali` + sha1("<ns>.<pod>"); addresses from status.podIPs
 *   (then status.podIP, then the `cni.projectcalico.org/podIPs` / `podIP` annotations), each a
 *   /32 or /128; named container ports. Host-networked or unscheduled pods and pods without an
 *   address have no endpoint; a finished pod (Succeeded / Failed) keeps its endpoint with no
 *   addresses, as in Calico. The service account defaults to `default` (what the API server's
 *   admission sets, and what the CNI plugin writes), so both always agree.
 * - Namespace → Profile `kns.<ns>`: allow in and out, labels as `pcns.<key>` (+ pcns.projectcalico.org/name).
 * - ServiceAccount → Profile `ksa.<ns>.<sa>`: no rules, labels as `pcsa.<key>` (+ pcsa.projectcalico.org/name).
 */
import { API_VERSION, parseCidrOrIp, type EndpointPort, type Profile, type WorkloadEndpoint } from '@tabby/api';
import { vethName, wepName } from '@tabby/cni';
import { namespaceProfile, serviceAccountProfile } from '@tabby/felix';

/** Object metadata as read from the API (the fields used here). */
export interface KubeObjectMeta {
  name: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  resourceVersion?: string;
  deletionTimestamp?: string;
}

/** A core/v1 Pod (the fields used here). */
export interface KubePod {
  metadata: KubeObjectMeta;
  spec?: {
    nodeName?: string;
    hostNetwork?: boolean;
    serviceAccountName?: string;
    containers?: { ports?: { name?: string; containerPort: number; protocol?: string }[] }[];
  };
  status?: { phase?: string; podIP?: string; podIPs?: { ip: string }[] };
}

/** A core/v1 Namespace or ServiceAccount (metadata is all that is used). */
export interface KubeMetaOnly {
  metadata: KubeObjectMeta;
}

export const ANN_POD_IP = 'cni.projectcalico.org/podIP';
export const ANN_POD_IPS = 'cni.projectcalico.org/podIPs';
export const ANN_CONTAINER_ID = 'cni.projectcalico.org/containerID';

const FINISHED = new Set(['Succeeded', 'Failed', 'Completed']);

/** The pod's addresses as host CIDRs, in Calico's order of sources. */
export function podAddresses(pod: KubePod): string[] {
  const ann = pod.metadata.annotations ?? {};
  const st = pod.status ?? {};
  const raw = st.podIPs?.length ? st.podIPs.map((p) => p.ip) : st.podIP ? [st.podIP] : ann[ANN_POD_IPS] ? ann[ANN_POD_IPS].split(',') : ann[ANN_POD_IP] ? [ann[ANN_POD_IP]] : [];
  return raw.map((ip) => parseCidrOrIp(ip.trim())).map((c) => `${c.text.split('/')[0]}/${c.family === 4 ? 32 : 128}`);
}

/** The endpoint's key (namespace, name) for a pod, whether or not it has an endpoint now. */
export function podEndpointKey(pod: KubePod): { namespace: string; name: string } | undefined {
  const node = pod.spec?.nodeName;
  if (!node) return undefined;
  return { namespace: pod.metadata.namespace ?? 'default', name: wepName(node, 'k8s', pod.metadata.name, 'eth0') };
}

/**
 * The pod's WorkloadEndpoint, or undefined when the pod has none (host network, not scheduled,
 * no address yet). Throws when an address does not parse.
 */
export function podToWorkloadEndpoint(pod: KubePod): WorkloadEndpoint | undefined {
  const key = podEndpointKey(pod);
  if (!key || pod.spec?.hostNetwork) return undefined;
  const finished = FINISHED.has(pod.status?.phase ?? '') || (pod.metadata.deletionTimestamp !== undefined && pod.metadata.annotations?.[ANN_POD_IP] === '');
  const ipNetworks = podAddresses(pod);
  if (!ipNetworks.length && !finished) return undefined;
  const ns = key.namespace;
  const sa = pod.spec?.serviceAccountName || 'default';
  const ports: EndpointPort[] = [];
  for (const c of pod.spec?.containers ?? []) {
    for (const p of c.ports ?? []) if (p.name) ports.push({ name: p.name, protocol: p.protocol ?? 'TCP', port: p.containerPort });
  }
  const containerID = pod.metadata.annotations?.[ANN_CONTAINER_ID];
  return {
    apiVersion: API_VERSION,
    kind: 'WorkloadEndpoint',
    metadata: {
      name: key.name,
      namespace: ns,
      labels: {
        ...(pod.metadata.labels ?? {}),
        'projectcalico.org/namespace': ns,
        'projectcalico.org/orchestrator': 'k8s',
        'projectcalico.org/serviceaccount': sa,
      },
      ...(pod.metadata.resourceVersion ? { resourceVersion: pod.metadata.resourceVersion } : {}),
    },
    spec: {
      orchestrator: 'k8s',
      workload: '',
      node: pod.spec?.nodeName ?? '',
      pod: pod.metadata.name,
      endpoint: 'eth0',
      serviceAccountName: sa,
      ...(containerID ? { containerID } : {}),
      ipNetworks: finished ? [] : ipNetworks,
      profiles: [`kns.${ns}`, `ksa.${ns}.${sa}`],
      interfaceName: vethName(ns, pod.metadata.name),
      ...(ports.length ? { ports } : {}),
    },
  };
}

/** The `kns.<ns>` profile of a Namespace. */
export function namespaceToProfile(ns: KubeMetaOnly): Profile {
  const p = namespaceProfile(ns.metadata.name, ns.metadata.labels ?? {});
  return { ...p, apiVersion: API_VERSION, metadata: { ...p.metadata, ...(ns.metadata.resourceVersion ? { resourceVersion: ns.metadata.resourceVersion } : {}) } };
}

/** The `ksa.<ns>.<sa>` profile of a ServiceAccount. */
export function serviceAccountToProfile(sa: KubeMetaOnly): Profile {
  const p = serviceAccountProfile(sa.metadata.namespace ?? 'default', sa.metadata.name, sa.metadata.labels ?? {});
  return { ...p, apiVersion: API_VERSION, metadata: { ...p.metadata, ...(sa.metadata.resourceVersion ? { resourceVersion: sa.metadata.resourceVersion } : {}) } };
}
