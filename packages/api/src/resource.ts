/**
 * The shape every stored resource shares. Kinds and their specs live in `kinds/`; this module
 * only fixes what the datastore needs to know: kind, name, optional namespace, labels,
 * annotations, and the revision (etcd mod revision or Kubernetes resourceVersion) as a string.
 */

/** Our own storage group; `projectcalico.org/v3` documents are accepted and converted. */
export const API_GROUP = 'tabby.dev';
export const API_VERSION = 'tabby.dev/v1';
export const CALICO_API_VERSION = 'projectcalico.org/v3';

/** Object metadata, as Kubernetes and Calico define it (the subset Tabby uses). */
export interface ObjectMeta {
  name: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  /** Opaque revision; set by the datastore on read, checked on update/delete. */
  resourceVersion?: string;
  uid?: string;
  creationTimestamp?: string;
}

/** Any resource: `apiVersion`, `kind`, `metadata`, and a kind-specific `spec`. */
export interface Resource<K extends string = string, S = unknown> {
  apiVersion: string;
  kind: K;
  metadata: ObjectMeta;
  spec: S;
}

/** Kinds that live in a namespace; every other kind is cluster-scoped. */
export const NAMESPACED_KINDS: ReadonlySet<string> = new Set(['WorkloadEndpoint', 'NetworkPolicy']);

/** True when resources of `kind` carry a namespace. */
export function isNamespaced(kind: string): boolean {
  return NAMESPACED_KINDS.has(kind);
}
