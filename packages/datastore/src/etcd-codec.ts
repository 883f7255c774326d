/**
 * How resources sit in etcd: key `<prefix><kind>/<namespace or _>/<name>`, value the resource as
 * JSON without `metadata.resourceVersion` (the revision is etcd's mod revision of the key, put
 * back on every read). Pure functions: no client, no I/O.
 */
import type { Resource } from '@tabby/api';
import { datastoreError } from './errors.js';
import type { ResourceKey } from './types.js';

/** The default key prefix of every Tabby key. */
export const DEFAULT_ETCD_PREFIX = '/tabby/';

/** Names end at `/` in keys, so a name or namespace must not contain one. */
function segment(s: string, what: string): string {
  if (s.includes('/')) throw datastoreError('Invalid', `${what} "${s}" must not contain "/"`, { [what]: s });
  return s;
}

/** The etcd key of one resource. */
export function etcdKey(prefix: string, key: ResourceKey): string {
  return `${prefix}${segment(key.kind, 'kind')}/${segment(key.namespace ?? '_', 'namespace')}/${segment(key.name, 'name')}`;
}

/** The key prefix of a list or watch: a kind, or a kind within one namespace. */
export function etcdPrefix(prefix: string, filter: { kind: string; namespace?: string }): string {
  const kind = `${prefix}${segment(filter.kind, 'kind')}/`;
  return filter.namespace === undefined ? kind : `${kind}${segment(filter.namespace, 'namespace')}/`;
}

/** The `range_end` that covers every key starting with `prefix` (prefix with its last byte + 1). */
export function rangeEnd(prefix: string): Buffer {
  const b = Buffer.from(prefix);
  for (let i = b.length - 1; i >= 0; i--) {
    if (b[i]! < 0xff) {
      const end = Buffer.from(b.subarray(0, i + 1));
      end[i]! += 1;
      return end;
    }
  }
  return Buffer.from([0]);
}

/** The resource key encoded in an etcd key (inverse of `etcdKey`). */
export function parseEtcdKey(prefix: string, key: string): ResourceKey {
  const parts = key.slice(prefix.length).split('/');
  if (!key.startsWith(prefix) || parts.length !== 3) {
    throw datastoreError('Invalid', `etcd key "${key}" is not a Tabby key under "${prefix}"`);
  }
  const [kind, ns, name] = parts as [string, string, string];
  return ns === '_' ? { kind, name } : { kind, name, namespace: ns };
}

/** The stored value of a resource: JSON without its revision. */
export function encodeValue(obj: Resource): Buffer {
  const metadata = { ...obj.metadata };
  delete metadata.resourceVersion;
  return Buffer.from(JSON.stringify({ ...obj, metadata }));
}

/** A resource read back from a value, with `resourceVersion` set to the key's mod revision. */
export function decodeValue<R extends Resource>(value: Buffer, modRevision: string, key: string): R {
  let obj: R;
  try {
    obj = JSON.parse(value.toString('utf8')) as R;
  } catch (e: unknown) {
    throw datastoreError('Invalid', `etcd key "${key}" holds invalid JSON`, { key }, e);
  }
  obj.metadata = { ...obj.metadata, resourceVersion: modRevision };
  return obj;
}
