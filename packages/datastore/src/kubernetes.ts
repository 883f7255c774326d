/**
 * The Kubernetes backend: custom resources in `tabby.dev/v1` (CRDs in `manifests/crds/`) and
 * core/v1 Nodes for the Node kind. Invariants:
 * - the revision is the object's `resourceVersion`, a list's revision the list's
 *   `metadata.resourceVersion` (lists are paged with `limit`/`continue`, which the API server
 *   serves from one snapshot);
 * - HTTP 409 is `AlreadyExists` on create and `Conflict` on update/delete; 404 `NotFound`;
 *   410 `HistoryGone`; other failures `Unavailable` (or `Invalid` for 400/422);
 * - update without a resourceVersion reads the current one and retries on 409, since custom
 *   resources require it; Node writes always start from the node as read, so kubelet's spec
 *   and status are never overwritten.
 */
import type { CoreV1Api, CustomObjectsApi, Watch } from '@kubernetes/client-node';
import type { Resource } from '@tabby/api';
import {
  abortable, alreadyExists, conflict, datastoreError, isDatastoreError, notFound,
} from './errors.js';
import { customObjectToResource, kubeToNode, nodeToKube, resourceToCustomObject, type KubeObject } from './k8s-convert.js';
import { collectionPath, kindInfo, type KindInfo } from './k8s-kinds.js';
import { customObjectOps, nodeOps, type KubeOps } from './k8s-ops.js';
import { watchKube } from './k8s-watch.js';
import { keyOf, normalizeKey } from './keys.js';
import { DEFAULT_WATCH_RETRY, type Datastore, type ListResult, type ResourceKey, type WatchEvent, type WatchOptions, type WatchRetry } from './types.js';

/** Injected dependencies: the API clients (see `createKubernetesDatastore`). */
export interface KubernetesDatastoreComponents {
  custom: CustomObjectsApi;
  core: CoreV1Api;
  watch: Watch;
}

/** Options of the Kubernetes backend. */
export interface KubernetesDatastoreInit {
  /** Objects per list page (default 500). */
  pageSize?: number;
  /** Watch reconnection policy. */
  watchRetry?: WatchRetry;
}

type Signal = { signal?: AbortSignal };
type Op = 'get' | 'list' | 'create' | 'update' | 'delete';

/** Attempts of a read-modify-write (update without resourceVersion, Node writes) on 409. */
const RMW_ATTEMPTS = 10;

/** A datastore error for a client failure. */
export function mapKubeError(e: unknown, op: Op, key?: ResourceKey, rv?: string): Error {
  if (isDatastoreError(e)) return e;
  if (isApiException(e)) {
    const code = e.code;
    if (key && code === 404) return notFound(key, e);
    if (key && code === 409) return op === 'create' ? alreadyExists(key, e) : conflict(key, rv, undefined, e);
    if (code === 410) return datastoreError('HistoryGone', `Kubernetes ${op}: resourceVersion too old (410)`, {}, e);
    if (code === 400 || code === 422) {
      return datastoreError('Invalid', `Kubernetes rejected ${op}: ${bodyMessage(e.body)}`, { status: code }, e);
    }
    return datastoreError('Unavailable', `Kubernetes ${op} failed with HTTP ${code}: ${bodyMessage(e.body)}`, { status: code }, e);
  }
  const msg = e instanceof Error ? e.message : String(e);
  return datastoreError('Unavailable', `Kubernetes ${op} failed: ${msg}; is the API server reachable?`, {}, e);
}

/** The client's `ApiException` (HTTP status in `code`), recognised without importing the client. */
function isApiException(e: unknown): e is Error & { code: number; body: unknown } {
  return e instanceof Error && 'code' in e && typeof e.code === 'number' && 'body' in e;
}

function bodyMessage(body: unknown): string {
  if (typeof body === 'string') {
    try {
      return bodyMessage(JSON.parse(body));
    } catch {
      return body;
    }
  }
  if (typeof body === 'object' && body !== null && 'message' in body) return String(body.message);
  return 'no details';
}

/** The Kubernetes backend. */
export class KubernetesDatastore implements Datastore {
  private readonly custom: CustomObjectsApi;
  private readonly core: CoreV1Api;
  private readonly watcher: Watch;
  private readonly pageSize: number;
  private readonly watchRetry: WatchRetry;
  private readonly watches = new Set<AbortController>();

  constructor(components: KubernetesDatastoreComponents, init: KubernetesDatastoreInit = {}) {
    this.custom = components.custom;
    this.core = components.core;
    this.watcher = components.watch;
    this.pageSize = init.pageSize ?? 500;
    this.watchRetry = init.watchRetry ?? DEFAULT_WATCH_RETRY;
  }

  private ops(info: KindInfo): KubeOps {
    return info.storage === 'node' ? nodeOps(this.core) : customObjectOps(this.custom, info);
  }

  private toResource<R extends Resource>(info: KindInfo, o: KubeObject): R {
    return info.storage === 'node' ? kubeToNode<R>(o) : customObjectToResource<R>(o, info.kind);
  }

  private async call<T>(op: Op, signal: AbortSignal | undefined, fn: () => Promise<T>, key?: ResourceKey, rv?: string): Promise<T> {
    try {
      return await abortable(fn, signal, `Kubernetes ${op}`);
    } catch (e: unknown) {
      throw mapKubeError(e, op, key, rv);
    }
  }

  async get<R extends Resource>(key: ResourceKey, opts: Signal = {}): Promise<R> {
    const k = normalizeKey(key);
    const info = kindInfo(k.kind);
    const o = await this.call('get', opts.signal, () => this.ops(info).get(k.name, k.namespace), k);
    return this.toResource<R>(info, o);
  }

  async list<R extends Resource>(opts: { kind: string; namespace?: string } & Signal): Promise<ListResult<R>> {
    const info = kindInfo(opts.kind);
    const ops = this.ops(info);
    const items: R[] = [];
    let revision: string | undefined;
    let cont: string | undefined;
    do {
      const page = await this.call('list', opts.signal, () => ops.list(opts.namespace, this.pageSize, cont));
      revision ??= page.metadata?.resourceVersion;
      for (const o of page.items) items.push(this.toResource<R>(info, o));
      cont = page.metadata?.continue || undefined;
    } while (cont);
    if (!revision) throw datastoreError('Unavailable', `Kubernetes list of ${opts.kind} returned no resourceVersion`);
    return { items, revision };
  }

  async create<R extends Resource>(obj: R, opts: Signal = {}): Promise<R> {
    const k = keyOf(obj);
    const info = kindInfo(k.kind);
    const body = info.storage === 'node' ? nodeToKube(obj) : resourceToCustomObject(obj);
    delete body.metadata?.resourceVersion;
    const o = await this.call('create', opts.signal, () => this.ops(info).create(body, k.namespace), k);
    return this.toResource<R>(info, o);
  }

  async update<R extends Resource>(obj: R, opts: Signal = {}): Promise<R> {
    const k = keyOf(obj);
    const info = kindInfo(k.kind);
    const ops = this.ops(info);
    const rv = obj.metadata.resourceVersion;
    if (info.storage === 'crd' && rv !== undefined) {
      const o = await this.call('update', opts.signal, () => ops.replace(resourceToCustomObject(obj), k.name, k.namespace), k, rv);
      return this.toResource<R>(info, o);
    }
    // Read-modify-write: custom resources need a resourceVersion; Nodes need their base object.
    for (let attempt = 1; ; attempt++) {
      const cur = await this.call('update', opts.signal, () => ops.get(k.name, k.namespace), k);
      const curRv = cur.metadata?.resourceVersion;
      if (rv !== undefined && curRv !== rv) throw conflict(k, rv, curRv);
      const withRv = { ...obj, metadata: { ...obj.metadata, resourceVersion: curRv } };
      const body = info.storage === 'node' ? nodeToKube(withRv, cur) : resourceToCustomObject(withRv);
      try {
        const o = await this.call('update', opts.signal, () => ops.replace(body, k.name, k.namespace), k, curRv);
        return this.toResource<R>(info, o);
      } catch (e: unknown) {
        if (rv !== undefined || attempt >= RMW_ATTEMPTS || !isDatastoreError(e, 'Conflict')) throw e;
      }
    }
  }

  async delete<R extends Resource>(key: ResourceKey, opts: { resourceVersion?: string } & Signal = {}): Promise<R> {
    const k = normalizeKey(key);
    const info = kindInfo(k.kind);
    const ops = this.ops(info);
    const rv = opts.resourceVersion;
    if (info.storage === 'crd') {
      const res = await this.call('delete', opts.signal, () => ops.delete(k.name, k.namespace, rv), k, rv);
      const o = res as KubeObject;
      if (o?.metadata?.name) return this.toResource<R>(info, o);
      return { apiVersion: 'tabby.dev/v1', kind: k.kind, metadata: { name: k.name, ...(k.namespace ? { namespace: k.namespace } : {}) }, spec: {} } as unknown as R;
    }
    // DELETE of a Node answers a Status: read it first, and delete that very version.
    for (let attempt = 1; ; attempt++) {
      const cur = await this.call('delete', opts.signal, () => ops.get(k.name), k);
      const curRv = cur.metadata?.resourceVersion;
      if (rv !== undefined && curRv !== rv) throw conflict(k, rv, curRv);
      try {
        await this.call('delete', opts.signal, () => ops.delete(k.name, undefined, curRv), k, curRv);
        return this.toResource<R>(info, cur);
      } catch (e: unknown) {
        if (rv !== undefined || attempt >= RMW_ATTEMPTS || !isDatastoreError(e, 'Conflict')) throw e;
      }
    }
  }

  watch<R extends Resource>(opts: WatchOptions): AsyncIterable<WatchEvent<R>> {
    const info = kindInfo(opts.kind);
    const ops = this.ops(info);
    // Abort every watch on close(), besides the caller's own signal.
    const ac = new AbortController();
    this.watches.add(ac);
    const signal = opts.signal ? AbortSignal.any([opts.signal, ac.signal]) : ac.signal;
    const iterable = watchKube<R>(
      {
        watch: this.watcher,
        path: collectionPath(info, opts.namespace),
        currentRevision: async () => {
          const page = await this.call('list', undefined, () => ops.list(opts.namespace, 1));
          return page.metadata?.resourceVersion ?? '0';
        },
        convert: (o) => this.toResource(info, o),
        retry: this.watchRetry,
      },
      { ...opts, signal },
    );
    signal.addEventListener('abort', () => this.watches.delete(ac), { once: true });
    return iterable;
  }

  /** Ends every open watch. */
  async close(): Promise<void> {
    for (const ac of this.watches) ac.abort();
    this.watches.clear();
  }
}

type ClientNode = typeof import('@kubernetes/client-node');
/** A loaded client configuration (client-node's KubeConfig). */
export type KubeConfig = InstanceType<ClientNode['KubeConfig']>;

/** Where the API server is: an explicit URL, or a kubeconfig file (none: client-node's default search). */
export type KubeConnection =
  | { server: string; token?: string; caFile?: string; insecureSkipTLSVerify?: boolean }
  | { kubeconfig?: string };

/**
 * Loads a client configuration: for `server`, one cluster with that URL (TLS verified against
 * `caFile`; only `insecureSkipTLSVerify` turns verification off); for a kubeconfig file, its
 * current context (without one, client-node's default search: $KUBECONFIG, ~/.kube/config, then
 * the in-cluster service account). Plain-http servers are allowed (there is no TLS to verify).
 * `Invalid` when the file cannot be read or names no current cluster.
 */
export async function loadKubeConfig(conn: KubeConnection): Promise<KubeConfig> {
  const k8s = await import('@kubernetes/client-node');
  const kc = new k8s.KubeConfig();
  if ('server' in conn) {
    kc.loadFromOptions({
      clusters: [{ name: 'tabby', server: conn.server, skipTLSVerify: conn.insecureSkipTLSVerify ?? false, ...(conn.caFile ? { caFile: conn.caFile } : {}) }],
      users: [{ name: 'tabby', ...(conn.token ? { token: conn.token } : {}) }],
      contexts: [{ name: 'tabby', cluster: 'tabby', user: 'tabby' }],
      currentContext: 'tabby',
    });
  } else {
    const file = conn.kubeconfig;
    try {
      if (file !== undefined) kc.loadFromFile(file);
      else kc.loadFromDefault();
    } catch (e: unknown) {
      throw datastoreError('Invalid', `kubeconfig ${file ?? '(default)'}: ${e instanceof Error ? e.message : String(e)}`, {}, e);
    }
    if (!kc.getCurrentCluster()) throw datastoreError('Invalid', `kubeconfig ${file ?? '(default)'}: no current context with a cluster; set current-context`);
  }
  // client-node refuses plain http unless this is set; with http there is no TLS to verify.
  kc.loadFromOptions({
    clusters: kc.clusters.map((c) => ({ ...c, skipTLSVerify: c.skipTLSVerify || c.server.startsWith('http:') })),
    users: kc.users,
    contexts: kc.contexts,
    currentContext: kc.currentContext,
  });
  return kc;
}

/** A backend over a loaded client configuration. */
export async function kubernetesDatastoreFor(kc: KubeConfig, init: KubernetesDatastoreInit = {}): Promise<KubernetesDatastore> {
  const k8s = await import('@kubernetes/client-node');
  return new KubernetesDatastore(
    { custom: kc.makeApiClient(k8s.CustomObjectsApi), core: kc.makeApiClient(k8s.CoreV1Api), watch: new k8s.Watch(kc) },
    init,
  );
}

/**
 * Builds a Kubernetes backend for an API server URL (a test server, `kubectl proxy`, or the
 * in-cluster address with a token); see `loadKubeConfig`. A plain-http URL needs no TLS flag.
 */
export async function createKubernetesDatastore(
  init: KubernetesDatastoreInit & { server: string; token?: string; caFile?: string; insecureSkipTLSVerify?: boolean },
): Promise<KubernetesDatastore> {
  return kubernetesDatastoreFor(await loadKubeConfig(init), init);
}

/** Builds a Kubernetes backend from a kubeconfig file (see `loadKubeConfig`). */
export async function createKubernetesDatastoreFromKubeconfig(init: KubernetesDatastoreInit & { kubeconfig?: string }): Promise<KubernetesDatastore> {
  return kubernetesDatastoreFor(await loadKubeConfig(init.kubeconfig !== undefined ? { kubeconfig: init.kubeconfig } : {}), init);
}
