/**
 * tabby-node's view of a Kubernetes cluster (`--datastore-type kubernetes`), as Calico's
 * Kubernetes datastore presents it to felix:
 * - WorkloadEndpoints from Pods, Profiles from Namespaces (`kns.`) and ServiceAccounts (`ksa.`),
 *   NetworkPolicies `knp.default.*` from networking.k8s.io/v1 NetworkPolicies: each a "stream"
 *   (`KubernetesPod`, ...) listed and watched through the core/networking APIs, converted on the
 *   way (kube-convert.ts, @tabby/api's convertK8sNetworkPolicy);
 * - Services and discovery.k8s.io/v1 EndpointSlices as they are (kinds `Service`,
 *   `EndpointSlice`; no Calico counterpart), for the service routes of BGP (service-routes.ts);
 * - everything else (Nodes, IPPools, IPAM blocks, BGP and Felix configuration, Calico policies)
 *   from the datastore package's Kubernetes backend (core Nodes and `tabby.dev` CRDs).
 * Invariants: a stream's list and watch share the API's resourceVersions, so the ResourceCache's
 * list + watch + re-list on `gone` (410) loop holds; a watch event for an object that has no
 * Calico counterpart now (a pod losing its address, a policy that no longer converts) is
 * reported as a deletion of that counterpart's key, so nothing stale stays in felix.
 */
import type { CoreV1Api, DiscoveryV1Api, NetworkingV1Api, Watch } from '@kubernetes/client-node';
import { convertK8sNetworkPolicy, type K8sNetworkPolicy, type Resource } from '@tabby/api';
import { mapKubeError, watchKube, type ListResult, type WatchEvent, type WatchOptions } from '@tabby/datastore';
import { NODE_KINDS, type CacheSource } from './resource-cache.js';
import { endpointSliceProblem, serviceProblem } from './service-routes.js';
import { namespaceToProfile, podEndpointKey, podToWorkloadEndpoint, serviceAccountToProfile, type KubeMetaOnly, type KubePod } from './kube-convert.js';

/** The streams served from core / networking / discovery objects. */
export const KUBE_STREAMS = ['KubernetesPod', 'KubernetesNamespace', 'KubernetesServiceAccount', 'KubernetesNetworkPolicy', 'KubernetesService', 'KubernetesEndpointSlice'] as const;
type Stream = (typeof KUBE_STREAMS)[number];

/** What tabby-node follows in Kubernetes mode: CRD kinds (no WorkloadEndpoint / Profile CRDs) and the streams. */
export const KUBE_NODE_KINDS: readonly string[] = [...NODE_KINDS.filter((k) => k !== 'WorkloadEndpoint' && k !== 'Profile'), ...KUBE_STREAMS];

/** The API clients (from one KubeConfig). */
export interface KubeSourceComponents {
  core: CoreV1Api;
  networking: NetworkingV1Api;
  discovery: DiscoveryV1Api;
  watch: Watch;
  /** Reports an object that could not be converted (it is skipped). */
  warn(msg: string, details: Record<string, unknown>): void;
}

type Raw = { metadata: { name: string; namespace?: string; resourceVersion?: string }; [k: string]: unknown };
type Page = { items: Raw[]; metadata?: { resourceVersion?: string; _continue?: string; continue?: string } };

interface StreamDef {
  path: string;
  list(c: KubeSourceComponents, limit: number, cont?: string): Promise<Page>;
  /** The Calico resource, or undefined when the object has none now. */
  convert(o: Raw, warn: KubeSourceComponents['warn']): Resource | undefined;
  /** The key of its Calico resource, for deletions. */
  key(o: Raw): { kind: string; name: string; namespace?: string } | undefined;
}

const page = (cont?: string): { _continue?: string } => (cont ? { _continue: cont } : {});

/**
 * A Kubernetes object kept as it is under `kind` (cache entries without a Calico counterpart),
 * or undefined, reported, when `problem` finds it unusable.
 */
function asIs(kind: 'Service' | 'EndpointSlice', o: Raw, problem: (o: unknown) => string | undefined, warn: KubeSourceComponents['warn']): Resource | undefined {
  const why = problem(o);
  if (why) {
    warn(`${kind} skipped: ${why}`, { [kind === 'Service' ? 'service' : 'endpointSlice']: `${o.metadata.namespace}/${o.metadata.name}`, field: why.split(':')[0] });
    return undefined;
  }
  return { ...o, kind } as unknown as Resource;
}

const STREAMS: Record<Stream, StreamDef> = {
  KubernetesPod: {
    path: '/api/v1/pods',
    list: async (c, limit, cont) => (await c.core.listPodForAllNamespaces({ limit, ...page(cont) })) as unknown as Page,
    convert: (o, warn) => {
      try {
        return podToWorkloadEndpoint(o as unknown as KubePod);
      } catch (e: unknown) {
        warn('pod skipped: its address does not parse', { pod: `${o.metadata.namespace}/${o.metadata.name}`, err: String(e) });
        return undefined;
      }
    },
    key: (o) => {
      const k = podEndpointKey(o as unknown as KubePod);
      return k && { kind: 'WorkloadEndpoint', ...k };
    },
  },
  KubernetesNamespace: {
    path: '/api/v1/namespaces',
    list: async (c, limit, cont) => (await c.core.listNamespace({ limit, ...page(cont) })) as unknown as Page,
    convert: (o) => namespaceToProfile(o as KubeMetaOnly),
    key: (o) => ({ kind: 'Profile', name: `kns.${o.metadata.name}` }),
  },
  KubernetesServiceAccount: {
    path: '/api/v1/serviceaccounts',
    list: async (c, limit, cont) => (await c.core.listServiceAccountForAllNamespaces({ limit, ...page(cont) })) as unknown as Page,
    convert: (o) => serviceAccountToProfile(o as KubeMetaOnly),
    key: (o) => ({ kind: 'Profile', name: `ksa.${o.metadata.namespace ?? 'default'}.${o.metadata.name}` }),
  },
  KubernetesNetworkPolicy: {
    path: '/apis/networking.k8s.io/v1/networkpolicies',
    list: async (c, limit, cont) => (await c.networking.listNetworkPolicyForAllNamespaces({ limit, ...page(cont) })) as unknown as Page,
    convert: (o, warn) => {
      const where = { policy: `${o.metadata.namespace}/${o.metadata.name}` };
      try {
        return convertK8sNetworkPolicy(o as unknown as K8sNetworkPolicy, { onBadRule: (i) => warn(i.message, { ...where, field: i.path }) });
      } catch (e: unknown) {
        warn('Kubernetes NetworkPolicy skipped', { ...where, err: e instanceof Error ? e.message : String(e) });
        return undefined;
      }
    },
    key: (o) => ({ kind: 'NetworkPolicy', name: `knp.default.${o.metadata.name}`, namespace: o.metadata.namespace ?? 'default' }),
  },
  KubernetesService: {
    path: '/api/v1/services',
    list: async (c, limit, cont) => (await c.core.listServiceForAllNamespaces({ limit, ...page(cont) })) as unknown as Page,
    convert: (o, warn) => asIs('Service', o, serviceProblem, warn),
    key: (o) => ({ kind: 'Service', name: o.metadata.name, namespace: o.metadata.namespace ?? 'default' }),
  },
  KubernetesEndpointSlice: {
    path: '/apis/discovery.k8s.io/v1/endpointslices',
    list: async (c, limit, cont) => (await c.discovery.listEndpointSliceForAllNamespaces({ limit, ...page(cont) })) as unknown as Page,
    convert: (o, warn) => asIs('EndpointSlice', o, endpointSliceProblem, warn),
    key: (o) => ({ kind: 'EndpointSlice', name: o.metadata.name, namespace: o.metadata.namespace ?? 'default' }),
  },
};

/** The API paths tabby-node lists and watches in Kubernetes mode (the RBAC must grant them). */
export function kubeStreamPaths(): string[] {
  return KUBE_STREAMS.map((k) => STREAMS[k].path);
}

/** True for the names of Kubernetes-object streams. */
export function isKubeStream(kind: string): kind is Stream {
  return (KUBE_STREAMS as readonly string[]).includes(kind);
}

/** Lists and watches the Kubernetes-object streams, converted to Calico resources. */
export class KubeSource implements CacheSource {
  constructor(private readonly c: KubeSourceComponents, private readonly pageSize = 500) {}

  async list<R extends Resource>(opts: { kind: string; signal?: AbortSignal }): Promise<ListResult<R>> {
    const def = this.def(opts.kind);
    const items: R[] = [];
    let revision: string | undefined;
    let cont: string | undefined;
    do {
      let p: Page;
      try {
        p = await def.list(this.c, this.pageSize, cont);
      } catch (e: unknown) {
        throw mapKubeError(e, 'list');
      }
      revision ??= p.metadata?.resourceVersion;
      for (const o of p.items) {
        const r = def.convert(o, this.c.warn);
        if (r) items.push(r as R);
      }
      cont = p.metadata?._continue || p.metadata?.continue || undefined;
    } while (cont && !opts.signal?.aborted);
    return { items, revision: revision ?? '0' };
  }

  async *watch<R extends Resource>(opts: WatchOptions): AsyncIterable<WatchEvent<R>> {
    const def = this.def(opts.kind);
    const raw = watchKube<Resource>(
      {
        watch: this.c.watch,
        path: def.path,
        currentRevision: async () => (await this.list({ kind: opts.kind })).revision,
        convert: (o) => o as unknown as Resource,
        retry: { attempts: 5, baseDelayMs: 200 },
      },
      opts,
    );
    for await (const ev of raw) {
      if (ev.type === 'bookmark' || ev.type === 'gone') {
        yield ev;
        continue;
      }
      const o = ev.object as unknown as Raw;
      const r = ev.type === 'deleted' ? undefined : def.convert(o, this.c.warn);
      if (r) {
        yield { type: 'modified', object: r as R, revision: ev.revision };
        continue;
      }
      const key = def.key(o);
      if (!key) continue;
      const stub = { apiVersion: 'tabby.dev/v1', kind: key.kind, metadata: { name: key.name, ...(key.namespace ? { namespace: key.namespace } : {}) }, spec: {} };
      yield { type: 'deleted', object: stub as unknown as R, revision: ev.revision };
    }
  }

  private def(kind: string): StreamDef {
    if (!isKubeStream(kind)) throw new Error(`KubeSource: no stream ${kind}`);
    return STREAMS[kind];
  }
}

/** Routes the Kubernetes-object streams to `kube`, every other kind to `crds` (the datastore). */
export function kubeModeSource(crds: CacheSource, kube: KubeSource): CacheSource {
  return {
    list: (opts) => (isKubeStream(opts.kind) ? kube.list(opts) : crds.list(opts)),
    watch: (opts) => (isKubeStream(opts.kind) ? kube.watch(opts) : crds.watch(opts)),
  };
}
