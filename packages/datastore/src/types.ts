/**
 * The datastore contract every backend (etcd v3, Kubernetes, memory) keeps:
 * - revisions are opaque strings, but within one backend they increase with every write, and a
 *   watch started at revision R delivers every change after R exactly once, in write order;
 * - `update` and `delete` with a `resourceVersion` succeed only if it is still current
 *   (compare-and-swap), else they throw a `Conflict`;
 * - when a watch cannot resume because history is gone (etcd compaction, HTTP 410), it
 *   delivers one `{ type: 'gone' }` event and ends; the caller re-lists and watches again.
 */
import type { Resource, TabbyError } from '@tabby/api';

/** Error codes of the datastore. */
export type DatastoreErrorCode =
  | 'NotFound'
  | 'AlreadyExists'
  | 'Conflict'
  | 'HistoryGone'
  | 'Invalid'
  | 'Unavailable'
  /**
   * A write whose outcome is unknown: the connection failed after it was sent, so it may or may
   * not have been applied. Read again before deciding; never assume either outcome.
   */
  | 'Indeterminate'
  /** The backend's space quota is full (etcd alarm NOSPACE): writes fail until an operator frees space. */
  | 'QuotaExceeded'
  | 'Aborted';

/** An error thrown by a datastore backend. */
export type DatastoreError = TabbyError<DatastoreErrorCode>;

/** Identifies one resource. `namespace` only for namespaced kinds. */
export interface ResourceKey {
  kind: string;
  name: string;
  namespace?: string;
}

/** A list of resources and the revision the list reflects (start a watch from it). */
export interface ListResult<R extends Resource = Resource> {
  items: R[];
  revision: string;
}

/** One change seen by a watch. */
export type WatchEvent<R extends Resource = Resource> =
  | { type: 'added'; object: R; revision: string }
  | { type: 'modified'; object: R; previous?: R; revision: string }
  | { type: 'deleted'; object: R; revision: string }
  /** Revision progress without a change (Kubernetes bookmark, etcd progress notify). */
  | { type: 'bookmark'; revision: string }
  /** History before the requested revision is gone: re-list, then watch again. */
  | { type: 'gone'; revision: string };

/** Options for a watch. */
export interface WatchOptions {
  kind: string;
  namespace?: string;
  /**
   * Deliver changes after this revision (from a list or a previous event). Omitted: from now,
   * i.e. from when the server has set the watch up; pass a list's revision to miss nothing.
   */
  revision?: string;
  /** Aborting ends the iteration quietly (no error). */
  signal?: AbortSignal;
}

/**
 * One write of a multi-key transaction (`Datastore.txn`): `create` fails if the key exists,
 * `update` compares `obj.metadata.resourceVersion` when set (else the key must exist), `delete`
 * compares `resourceVersion` when given.
 */
export type TxnOp =
  | { op: 'create'; obj: Resource }
  | { op: 'update'; obj: Resource }
  | { op: 'delete'; key: ResourceKey; resourceVersion?: string };

/** The one interface over all backends. Every method takes an optional AbortSignal. */
export interface Datastore {
  get<R extends Resource>(key: ResourceKey, opts?: { signal?: AbortSignal }): Promise<R>;
  list<R extends Resource>(opts: { kind: string; namespace?: string; signal?: AbortSignal }): Promise<ListResult<R>>;
  /** Fails with `AlreadyExists` when the key is taken. Returns the stored object with its revision. */
  create<R extends Resource>(obj: R, opts?: { signal?: AbortSignal }): Promise<R>;
  /** Compare-and-swap on `obj.metadata.resourceVersion` when set; `Conflict` when stale. */
  update<R extends Resource>(obj: R, opts?: { signal?: AbortSignal }): Promise<R>;
  /** Deletes; with `resourceVersion`, only if still current. Returns the deleted object. */
  delete<R extends Resource>(key: ResourceKey, opts?: { resourceVersion?: string; signal?: AbortSignal }): Promise<R>;
  /**
   * An ordered stream of changes; ends when the signal aborts or after a `gone` event, and
   * throws a datastore error (`Unavailable`) when the backend cannot keep it going.
   */
  watch<R extends Resource>(opts: WatchOptions): AsyncIterable<WatchEvent<R>>;
  /**
   * Optional (backends with multi-key transactions: etcd, memory; not Kubernetes): applies
   * every op atomically — all of them or none. When one op's condition fails, nothing is
   * written and it throws that op's `AlreadyExists`, `Conflict` or `NotFound` (its `details`
   * name the key). Each key may appear once. Returns, per op, the stored object (for `delete`,
   * the deleted one). Callers check `ds.txn` and fall back to single writes without it.
   */
  txn?(ops: TxnOp[], opts?: { signal?: AbortSignal }): Promise<Resource[]>;
  /** Releases connections. */
  close(): Promise<void>;
}

/** How a watch re-connects after its stream breaks, before it fails with `Unavailable`. */
export interface WatchRetry {
  /** Failed attempts in a row before giving up (default 5). */
  attempts: number;
  /** Delay before attempt n is `baseDelayMs * 2^n` (default 100). */
  baseDelayMs: number;
}

/** The default watch retry policy (about 6 s of attempts). */
export const DEFAULT_WATCH_RETRY: WatchRetry = { attempts: 5, baseDelayMs: 100 };
