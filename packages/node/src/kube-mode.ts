/**
 * Opens tabby-node's Kubernetes datastore mode: one KubeConfig (a kubeconfig file, or the pod's
 * in-cluster service account) gives the datastore package's Kubernetes backend (core Nodes and
 * `tabby.dev` CRDs: IPPools, IPAM blocks / affinities / handles, BGP and Felix configuration,
 * Calico policies) and the Kubernetes-object streams (Pods, Namespaces, ServiceAccounts,
 * NetworkPolicies, Services, EndpointSlices). The client library is loaded only in this mode.
 */
import { createEtcdDatastore, KubernetesDatastore, loadKubeConfig, type Datastore } from '@tabby/datastore';
import type { CacheSource } from './resource-cache.js';
import { KUBE_NODE_KINDS, KubeSource, kubeModeSource, type KubeSourceComponents } from './kube-source.js';

/** Where the API server is. */
export interface KubeModeInit {
  /** A kubeconfig file; without it, the in-cluster configuration (KUBERNETES_SERVICE_HOST). */
  kubeconfig?: string;
  env: Record<string, string | undefined>;
}

/** The Kubernetes-mode datastore and the view the agent follows. */
export interface KubeMode {
  store: KubernetesDatastore;
  view: { source: CacheSource; kinds: readonly string[] };
}

/** Builds the clients; throws a message naming the flag when no configuration is found. */
export async function openKubeMode(init: KubeModeInit, warn: KubeSourceComponents['warn']): Promise<KubeMode> {
  if (!init.kubeconfig && !init.env.KUBERNETES_SERVICE_HOST) {
    throw new Error('--datastore-type kubernetes: no API server: set --kubeconfig or KUBECONFIG, or run in a pod (in-cluster configuration)');
  }
  // Without a file, client-node's default loading finds the pod's in-cluster service account.
  const kc = await loadKubeConfig(init.kubeconfig ? { kubeconfig: init.kubeconfig } : {}).catch((e: unknown) => {
    throw new Error(`${init.kubeconfig ? '--kubeconfig ' : ''}${e instanceof Error ? e.message : String(e)}`, { cause: e });
  });
  const k8s = await import('@kubernetes/client-node');
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const watch = new k8s.Watch(kc);
  const store = new KubernetesDatastore({ custom: kc.makeApiClient(k8s.CustomObjectsApi), core, watch });
  const kube = new KubeSource({ core, networking: kc.makeApiClient(k8s.NetworkingV1Api), discovery: kc.makeApiClient(k8s.DiscoveryV1Api), watch, warn });
  return { store, view: { source: kubeModeSource(store, kube), kinds: KUBE_NODE_KINDS } };
}

/**
 * The agent's datastore for `--datastore-type`: etcd (`etcd` endpoints; the agent follows the
 * store itself), or Kubernetes (`kubeconfig` / in-cluster; the agent follows the Kubernetes view).
 */
export async function openNodeDatastore(
  opts: { type: 'etcdv3'; etcd: string } | ({ type: 'kubernetes' } & KubeModeInit),
  warn: KubeSourceComponents['warn'],
): Promise<{ store: Datastore; view?: KubeMode['view'] }> {
  if (opts.type === 'etcdv3') return { store: createEtcdDatastore({ endpoints: opts.etcd }) };
  return openKubeMode(opts, warn);
}
