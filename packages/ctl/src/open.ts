/**
 * Opens the datastore a `DatastoreConfig` names: etcd v3 (endpoints required), or the
 * Kubernetes API (an explicit endpoint with token / CA, a kubeconfig file, or client-node's
 * default search), with that API's client configuration for what is not in the datastore
 * (networking.k8s.io NetworkPolicies). A configuration that cannot work is a usage error naming
 * where it came from.
 */
import { existsSync } from 'node:fs';
import { isTabbyError } from '@tabby/api';
import type { Datastore, KubeConfig } from '@tabby/datastore';
import type { DatastoreConfig } from './config.js';
import { ctlError } from './errors.js';

/** An open datastore; `kube` only in Kubernetes mode. */
export interface Opened {
  store: Datastore;
  kube?: KubeConfig;
}

/** The datastore of `cfg` (the client library is loaded on first use). */
export async function openDatastore(cfg: DatastoreConfig): Promise<Opened> {
  const ds = await import('@tabby/datastore');
  if (cfg.type === 'etcdv3') {
    if (cfg.etcdEndpoints.length === 0) throw ctlError('usage', 'no datastore: set --etcd-endpoints, ETCD_ENDPOINTS or etcdEndpoints in /etc/tabby/tabbyctl.yaml (or choose --datastore-type kubernetes)');
    return { store: ds.createEtcdDatastore({ endpoints: cfg.etcdEndpoints, ...(cfg.etcdPrefix ? { prefix: cfg.etcdPrefix } : {}) }) };
  }
  let kube: KubeConfig;
  try {
    if (cfg.k8sAPIEndpoint) {
      kube = await ds.loadKubeConfig({
        server: cfg.k8sAPIEndpoint,
        ...(cfg.k8sAPIToken ? { token: cfg.k8sAPIToken } : {}),
        ...(cfg.k8sCAFile ? { caFile: cfg.k8sCAFile } : {}),
        ...(cfg.k8sInsecureSkipTLSVerify !== undefined ? { insecureSkipTLSVerify: cfg.k8sInsecureSkipTLSVerify } : {}),
      });
    } else {
      // KUBECONFIG may list several files (kubectl merges them); the first that exists is used.
      const file = cfg.kubeconfig?.split(':').find((f) => f && existsSync(f)) ?? cfg.kubeconfig;
      kube = await ds.loadKubeConfig(file ? { kubeconfig: file } : {});
    }
  } catch (e: unknown) {
    if (isTabbyError(e, 'Invalid')) throw ctlError('usage', `datastore kubernetes (settings from ${cfg.source}): ${e.message}`);
    throw e;
  }
  return { store: await ds.kubernetesDatastoreFor(kube), kube };
}
