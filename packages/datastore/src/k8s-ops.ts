/**
 * The Kubernetes API calls for one kind, behind one small interface (`KubeOps`) so the backend
 * does not branch on custom resources versus core Nodes. Calls return raw objects; failures
 * are the client's `ApiException`s, mapped to datastore errors by the caller.
 */
import type { CoreV1Api, CustomObjectsApi, V1DeleteOptions, V1Node } from '@kubernetes/client-node';
import { API_GROUP } from '@tabby/api';
import { CRD_VERSION, type KindInfo } from './k8s-kinds.js';
import type { KubeObject } from './k8s-convert.js';

/** A list page. */
export interface KubeList {
  items: KubeObject[];
  metadata?: { resourceVersion?: string; continue?: string };
}

/** The API calls for one kind. */
export interface KubeOps {
  get(name: string, namespace?: string): Promise<KubeObject>;
  list(namespace: string | undefined, limit: number, cont?: string): Promise<KubeList>;
  create(obj: KubeObject, namespace?: string): Promise<KubeObject>;
  replace(obj: KubeObject, name: string, namespace?: string): Promise<KubeObject>;
  /** Deletes; with `resourceVersion`, as a precondition (409 when stale). */
  delete(name: string, namespace: string | undefined, resourceVersion?: string): Promise<unknown>;
}

const deleteOptions = (rv?: string): V1DeleteOptions => (rv ? { preconditions: { resourceVersion: rv } } : {});

/** Calls for a custom kind in `tabby.dev/v1`. */
export function customObjectOps(api: CustomObjectsApi, info: KindInfo): KubeOps {
  const base = { group: API_GROUP, version: CRD_VERSION, plural: info.plural };
  const ns = (namespace?: string): string | undefined => (info.namespaced ? namespace : undefined);
  return {
    async get(name, namespace) {
      const n = ns(namespace);
      return (n === undefined
        ? await api.getClusterCustomObject({ ...base, name })
        : await api.getNamespacedCustomObject({ ...base, namespace: n, name })) as KubeObject;
    },
    async list(namespace, limit, cont) {
      const n = ns(namespace);
      const page = { limit, ...(cont ? { _continue: cont } : {}) };
      return (n === undefined
        ? await api.listClusterCustomObject({ ...base, ...page })
        : await api.listNamespacedCustomObject({ ...base, namespace: n, ...page })) as KubeList;
    },
    async create(obj, namespace) {
      const n = ns(namespace);
      return (n === undefined
        ? await api.createClusterCustomObject({ ...base, body: obj })
        : await api.createNamespacedCustomObject({ ...base, namespace: n, body: obj })) as KubeObject;
    },
    async replace(obj, name, namespace) {
      const n = ns(namespace);
      return (n === undefined
        ? await api.replaceClusterCustomObject({ ...base, name, body: obj })
        : await api.replaceNamespacedCustomObject({ ...base, namespace: n, name, body: obj })) as KubeObject;
    },
    async delete(name, namespace, rv) {
      const n = ns(namespace);
      const body = deleteOptions(rv);
      return n === undefined
        ? await api.deleteClusterCustomObject({ ...base, name, body })
        : await api.deleteNamespacedCustomObject({ ...base, namespace: n, name, body });
    },
  };
}

/** Calls for core/v1 Nodes. */
export function nodeOps(api: CoreV1Api): KubeOps {
  return {
    async get(name) {
      return (await api.readNode({ name })) as unknown as KubeObject;
    },
    async list(_namespace, limit, cont) {
      return (await api.listNode({ limit, ...(cont ? { _continue: cont } : {}) })) as unknown as KubeList;
    },
    async create(obj) {
      return (await api.createNode({ body: obj as V1Node })) as unknown as KubeObject;
    },
    async replace(obj, name) {
      return (await api.replaceNode({ name, body: obj as V1Node })) as unknown as KubeObject;
    },
    async delete(name, _namespace, rv) {
      return api.deleteNode({ name, body: deleteOptions(rv) });
    },
  };
}
