/**
 * The node agent's one view of the datastore: every kind it needs listed, then watched (re-listed
 * after `gone`, so nothing is missed), kept in memory, and each change reported to the agent.
 *
 * Invariant: `ready` resolves once every kind has been listed; after that the maps always hold
 * the datastore's state as of the last event seen per kind, and every change reached `onChange`.
 */
import { setMaxListeners } from 'node:events';
import type { AnyResource } from '@tabby/api';
import type { Datastore } from '@tabby/datastore';
import type { DatastoreMetrics } from './metrics.js';

/** The kinds tabby-node follows. */
export const NODE_KINDS = ['Node', 'IPPool', 'IPAMBlock', 'WorkloadEndpoint', 'FelixConfiguration', 'BGPConfiguration', 'BGPPeer', 'NetworkPolicy', 'GlobalNetworkPolicy', 'Profile'] as const;

/**
 * A change seen by the cache. `kind` is the stream it came from: a kind of the datastore, or in
 * Kubernetes mode a stream of converted Kubernetes objects (kube-source.ts); `resource.kind` is
 * always a Calico kind. A deletion carries the object as last known.
 */
export type CacheChange = { kind: string; resource: AnyResource; deleted: boolean };

/** Where the cache reads from: a datastore, or the Kubernetes-mode routing over one. */
export type CacheSource = Pick<Datastore, 'list' | 'watch'>;

function keyOf(r: AnyResource): string {
  return `${r.metadata.namespace ?? ''}/${r.metadata.name}`;
}

/** Lists and watches kinds into memory. */
export class ResourceCache {
  private readonly byKind = new Map<string, Map<string, AnyResource>>();
  readonly ready: Promise<void>;
  private markReady!: () => void;

  constructor(
    private readonly store: CacheSource,
    private readonly onChange: (changes: CacheChange[]) => void,
    private readonly onError: (kind: string, e: unknown) => void,
    private readonly kinds: readonly string[] = NODE_KINDS,
    private readonly metrics?: DatastoreMetrics,
  ) {
    this.ready = new Promise((r) => (this.markReady = r));
  }

  /** Starts following every kind until `signal` aborts. */
  start(signal: AbortSignal): void {
    setMaxListeners(4 * this.kinds.length + 10, signal); // every stream's list and watch listen to it
    let pending = this.kinds.length;
    for (const kind of this.kinds) {
      this.byKind.set(kind, new Map());
      void this.follow(kind, signal, () => {
        if (--pending === 0) this.markReady();
      });
    }
  }

  /** Every resource of `kind` (from every stream that carries that kind). */
  list<R extends AnyResource = AnyResource>(kind: string): R[] {
    return [...this.byKind.values()].flatMap((m) => [...m.values()].filter((r) => r.kind === kind)) as R[];
  }

  private async follow(kind: string, signal: AbortSignal, listed: () => void): Promise<void> {
    const known = this.byKind.get(kind)!;
    let first = true;
    let failures = 0;
    while (!signal.aborted) {
      try {
        const list = await this.store.list<AnyResource>({ kind, signal });
        const changes: CacheChange[] = [];
        const seen = new Set<string>();
        for (const r of list.items) {
          seen.add(keyOf(r));
          known.set(keyOf(r), r);
          changes.push({ kind, resource: r, deleted: false });
        }
        for (const [k, r] of known) {
          if (seen.has(k)) continue;
          known.delete(k);
          changes.push({ kind, resource: r, deleted: true });
        }
        this.onChange(changes);
        this.metrics?.listed(kind, list.items.length, !first);
        if (first) {
          first = false;
          listed();
        }
        failures = 0;
        for await (const w of this.store.watch<AnyResource>({ kind, revision: list.revision, signal })) {
          if (w.type === 'gone') break;
          if (w.type === 'bookmark') continue;
          const deleted = w.type === 'deleted';
          this.metrics?.event(kind, w.type);
          const k = keyOf(w.object);
          const prev = known.get(k);
          if (deleted) {
            if (!prev) continue; // never reported (e.g. a pod that had no endpoint yet)
            known.delete(k);
          } else known.set(k, w.object);
          this.onChange([{ kind, resource: deleted && prev ? prev : w.object, deleted }]);
        }
      } catch (e: unknown) {
        if (signal.aborted) return;
        this.onError(kind, e);
        this.metrics?.failed(kind);
        failures++;
        await new Promise((r) => setTimeout(r, Math.min(5000, 100 * 2 ** Math.min(failures, 6))));
      }
    }
  }
}
