/**
 * Resource keys: derived from an object, checked against the kind's scope (namespaced kinds
 * need a namespace; cluster-scoped kinds never carry one), and ordered for lists.
 */
import { isNamespaced, type Resource } from '@tabby/api';
import { datastoreError } from './errors.js';
import type { ResourceKey } from './types.js';

/** The key of an object, normalised by `normalizeKey`. */
export function keyOf(obj: Resource): ResourceKey {
  if (!obj || typeof obj !== 'object' || !obj.metadata || typeof obj.metadata !== 'object') {
    throw datastoreError('Invalid', 'resource has no metadata; every resource needs metadata.name');
  }
  return normalizeKey({ kind: obj.kind, name: obj.metadata.name, namespace: obj.metadata.namespace });
}

/**
 * Checks a key: kind and name non-empty, namespace present exactly for namespaced kinds.
 * A namespace given for a cluster-scoped kind is dropped.
 */
export function normalizeKey(key: ResourceKey): ResourceKey {
  if (typeof key.kind !== 'string' || key.kind === '') {
    throw datastoreError('Invalid', 'resource has no kind', { name: key.name });
  }
  if (typeof key.name !== 'string' || key.name === '') {
    throw datastoreError('Invalid', `${key.kind} has no metadata.name`, { kind: key.kind });
  }
  if (!isNamespaced(key.kind)) return { kind: key.kind, name: key.name };
  if (!key.namespace) {
    throw datastoreError('Invalid', `${key.kind} "${key.name}" is namespaced: set metadata.namespace`, {
      kind: key.kind,
      name: key.name,
    });
  }
  return { kind: key.kind, name: key.name, namespace: key.namespace };
}

/** A flat string for a key, unique per resource (used as a map key). */
export function keyString(key: ResourceKey): string {
  return `${key.kind}/${key.namespace ?? '_'}/${key.name}`;
}

/** Orders resources by namespace, then name (the order every backend lists in). */
export function compareResources(a: Resource, b: Resource): number {
  const na = a.metadata.namespace ?? '';
  const nb = b.metadata.namespace ?? '';
  if (na !== nb) return na < nb ? -1 : 1;
  return a.metadata.name < b.metadata.name ? -1 : a.metadata.name > b.metadata.name ? 1 : 0;
}

/** True when an object of `kind` in `namespace` belongs to a list/watch filter. */
export function matchesFilter(key: ResourceKey, filter: { kind: string; namespace?: string }): boolean {
  return key.kind === filter.kind && (filter.namespace === undefined || key.namespace === filter.namespace);
}

/** A list/watch filter with the namespace dropped for cluster-scoped kinds (it cannot match). */
export function normalizeFilter(filter: { kind: string; namespace?: string }): { kind: string; namespace?: string } {
  return filter.namespace !== undefined && isNamespaced(filter.kind)
    ? { kind: filter.kind, namespace: filter.namespace }
    : { kind: filter.kind };
}
