/**
 * Kubernetes NetworkPolicy documents (networking.k8s.io/v1) in tabbyctl. On input each is
 * validated by converting it as Calico does (@tabby/api's convertK8sNetworkPolicy), so a bad
 * document is rejected with its file, index and field like any other. On write:
 * - etcd datastore: the converted Calico policy `knp.default.<name>` is stored, as Calico's
 *   etcd mode has it;
 * - Kubernetes datastore: the networking.k8s.io object itself is written through the API (the
 *   agents convert it when they read it), and nothing under tabby.dev; `get networkpolicies`
 *   shows them converted, as calicoctl does on its Kubernetes datastore.
 * Also the pods of the Kubernetes datastore, which are the live workloads of `ipam check` there.
 */
import { convertK8sNetworkPolicy, isK8sNetworkPolicy, validateResource, ValidationError, type AnyResource, type K8sNetworkPolicy } from '@tabby/api';
import { mapKubeError, type KubeConfig } from '@tabby/datastore';
import type { LiveWorkload } from '@tabby/ipam';

/** One input document: a Tabby/Calico resource, or a Kubernetes NetworkPolicy with its conversion. */
export interface Input {
  kind: string;
  metadata: AnyResource['metadata'];
  /** What is stored in etcd mode (the conversion, for a Kubernetes policy). */
  resource: AnyResource;
  /** The networking.k8s.io document as given. */
  k8s?: K8sNetworkPolicy;
}

export const K8S_NETPOL_API = 'networking.k8s.io/v1';

/** Validates one raw document (throws ValidationError naming the fields). */
export function validateInput(raw: unknown, where: string): Input {
  if (!isK8sNetworkPolicy(raw)) {
    const resource = validateResource(raw, where);
    return { kind: resource.kind, metadata: resource.metadata, resource };
  }
  if (typeof raw.spec !== 'object' || raw.spec === null) throw new ValidationError(where, [{ path: 'spec', message: 'required: a NetworkPolicy needs a spec (podSelector: {} selects every pod)' }]);
  const k8s: K8sNetworkPolicy = { ...raw, metadata: { ...raw.metadata, namespace: raw.metadata?.namespace ?? 'default' } };
  const resource = validateResource(convertK8sNetworkPolicy(k8s), where);
  return { kind: resource.kind, metadata: resource.metadata, resource, k8s };
}

/** The same input in namespace `ns` (for `-n`). */
export function inNamespace(i: Input, ns: string): Input {
  const resource = { ...i.resource, metadata: { ...i.resource.metadata, namespace: ns } } as AnyResource;
  return { ...i, metadata: resource.metadata, resource, ...(i.k8s ? { k8s: { ...i.k8s, metadata: { ...i.k8s.metadata, namespace: ns } } } : {}) };
}

/** networking.k8s.io/v1 NetworkPolicies through the API server; failures as datastore errors. */
export interface K8sPolicyClient {
  get(ns: string, name: string): Promise<K8sNetworkPolicy & { metadata: { resourceVersion?: string } }>;
  /** Every policy (of namespace `ns`, when given). */
  list(ns?: string): Promise<K8sNetworkPolicy[]>;
  create(p: K8sNetworkPolicy): Promise<void>;
  replace(p: K8sNetworkPolicy, resourceVersion: string | undefined): Promise<void>;
  delete(ns: string, name: string): Promise<void>;
}

/** A pod as the API serves it (the fields ipam check reads). */
interface Pod {
  metadata?: { name?: string; namespace?: string; annotations?: Record<string, string> };
  spec?: { nodeName?: string };
  status?: { podIP?: string; podIPs?: { ip: string }[] };
}

/** What tabbyctl reads and writes on the API server besides the datastore. */
export interface KubeApi {
  policies: K8sPolicyClient;
  /** Every pod as a live workload (addresses from status.podIPs / podIP, then Calico's annotation). */
  livePods(): Promise<LiveWorkload[]>;
}

type Key = { kind: string; name: string; namespace?: string };
async function call<T>(op: 'get' | 'list' | 'create' | 'update' | 'delete', k: Key | undefined, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e: unknown) {
    throw mapKubeError(e, op, k);
  }
}

/** The API for a loaded configuration. */
export async function kubeApi(kc: KubeConfig): Promise<KubeApi> {
  const k8s = await import('@kubernetes/client-node');
  const api = kc.makeApiClient(k8s.NetworkingV1Api);
  const core = kc.makeApiClient(k8s.CoreV1Api);
  type Body = Parameters<typeof api.createNamespacedNetworkPolicy>[0]['body'];
  const key = (namespace: string, name: string): Key => ({ kind: 'NetworkPolicy', name, namespace });
  const ns = (p: K8sNetworkPolicy): string => p.metadata.namespace ?? 'default';
  const policies: K8sPolicyClient = {
    async get(namespace, name) {
      return (await call('get', key(namespace, name), () => api.readNamespacedNetworkPolicy({ name, namespace }))) as unknown as K8sNetworkPolicy;
    },
    async list(namespace) {
      const l = await call('list', undefined, () => (namespace ? api.listNamespacedNetworkPolicy({ namespace }) : api.listNetworkPolicyForAllNamespaces({})));
      return l.items as unknown as K8sNetworkPolicy[];
    },
    async create(p) {
      await call('create', key(ns(p), p.metadata.name), () => api.createNamespacedNetworkPolicy({ namespace: ns(p), body: p as Body }));
    },
    async replace(p, resourceVersion) {
      const body = { ...p, metadata: { ...p.metadata, ...(resourceVersion ? { resourceVersion } : {}) } } as Body;
      await call('update', key(ns(p), p.metadata.name), () => api.replaceNamespacedNetworkPolicy({ name: p.metadata.name, namespace: ns(p), body }));
    },
    async delete(namespace, name) {
      await call('delete', key(namespace, name), () => api.deleteNamespacedNetworkPolicy({ name, namespace }));
    },
  };
  const livePods = async (): Promise<LiveWorkload[]> => {
    const pods = (await call('list', undefined, () => core.listPodForAllNamespaces({}))).items as unknown as Pod[];
    return pods.map((p) => {
      const ann = p.metadata?.annotations?.['cni.projectcalico.org/podIPs'];
      const ips = p.status?.podIPs?.map((x) => x.ip) ?? (p.status?.podIP ? [p.status.podIP] : ann ? ann.split(',').map((x) => x.trim().split('/')[0] ?? x) : []);
      return { ips, namespace: p.metadata?.namespace ?? 'default', pod: p.metadata?.name ?? '', ...(p.spec?.nodeName ? { node: p.spec.nodeName } : {}) };
    });
  };
  return { policies, livePods };
}
