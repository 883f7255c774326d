/**
 * An in-memory datastore with the full contract of the real backends, for unit tests of other
 * packages. Invariants:
 * - one global revision counter, incremented by every successful write; an object's
 *   `resourceVersion` is the revision of its last write (etcd's mod revision);
 * - objects are deep-copied on the way in and on the way out: callers never share state with
 *   the store or with each other;
 * - every write is appended to a history; a watch from revision R first replays the history
 *   after R, then follows live writes, so no event is lost or repeated. `compact(rev)` drops the
 *   history up to `rev`; a watch from an older revision then gets `gone`.
 * Everything runs synchronously inside each call, so writes are totally ordered. A `txn`
 * checks every op before it applies any, and gives all its writes one revision (as etcd does).
 * With `txn: false` the store has no `txn` method (a backend like Kubernetes), so callers'
 * fallback paths can be tested.
 */
import { randomUUID } from 'node:crypto';
import type { Resource } from '@tabby/api';
import { alreadyExists, conflict, datastoreError, describeKey, notFound, throwIfAborted } from './errors.js';
import { EventQueue } from './event-queue.js';
import { compareResources, keyOf, keyString, matchesFilter, normalizeFilter, normalizeKey } from './keys.js';
import type { Datastore, DatastoreErrorCode, ListResult, ResourceKey, TxnOp, WatchEvent, WatchOptions } from './types.js';

interface HistoryEntry {
  key: ResourceKey;
  event: WatchEvent;
}

interface Subscriber {
  filter: { kind: string; namespace?: string };
  queue: EventQueue<WatchEvent>;
}

/** The operations a fault can be injected into. */
export type MemoryOp = 'get' | 'list' | 'create' | 'update' | 'delete' | 'txn';

/** A failure to inject: the next `times` calls of `op` throw `code` without touching state. */
export interface MemoryFault {
  op: MemoryOp;
  code: DatastoreErrorCode;
  /** Default 1. */
  times?: number;
}

/** Options of the memory backend. */
export interface MemoryDatastoreInit {
  /** Keep at most this many history entries (oldest dropped, as a compaction). Default: unbounded. */
  maxHistory?: number;
  /** Offer multi-key transactions (`txn`). Default true; false removes the method. */
  txn?: boolean;
}

const copy = <T>(v: T): T => structuredClone(v);

/** The in-memory backend. */
export class MemoryDatastore implements Datastore {
  private revision = 0;
  /** History entries with revision <= this are gone. */
  private compacted = 0;
  private readonly objects = new Map<string, Resource>();
  private readonly history: HistoryEntry[] = [];
  private readonly subscribers = new Set<Subscriber>();
  private readonly maxHistory: number;
  private closed = false;
  private faults: Required<MemoryFault>[] = [];

  constructor(init: MemoryDatastoreInit = {}) {
    this.maxHistory = init.maxHistory ?? Infinity;
    if (init.txn === false) Object.defineProperty(this, 'txn', { value: undefined });
  }

  /** The current revision (the revision of the last write). */
  get currentRevision(): string {
    return String(this.revision);
  }

  /** Drops history up to `revision` (default: the current one): older watches get `gone`. */
  compact(revision?: string): void {
    const rev = revision === undefined ? this.revision : Number(revision);
    if (!Number.isInteger(rev) || rev < 0) throw datastoreError('Invalid', `bad compaction revision ${revision}`);
    this.compacted = Math.max(this.compacted, Math.min(rev, this.revision));
    while (this.history.length > 0 && Number(this.history[0]!.event.revision) <= this.compacted) this.history.shift();
  }

  /**
   * Makes the next call(s) of an operation fail (for tests of callers' error handling: a
   * `Conflict` on update to exercise a retry loop, `Unavailable` for an outage).
   */
  injectFault(fault: MemoryFault): void {
    this.faults.push({ times: 1, ...fault });
  }

  async get<R extends Resource>(key: ResourceKey, opts: { signal?: AbortSignal } = {}): Promise<R> {
    this.check(opts.signal, 'get');
    const k = normalizeKey(key);
    const obj = this.objects.get(keyString(k));
    if (!obj) throw notFound(k);
    return copy(obj) as R;
  }

  async list<R extends Resource>(opts: { kind: string; namespace?: string; signal?: AbortSignal }): Promise<ListResult<R>> {
    this.check(opts.signal, 'list');
    const items: Resource[] = [];
    const filter = normalizeFilter(opts);
    for (const obj of this.objects.values()) {
      if (matchesFilter(keyOf(obj), filter)) items.push(copy(obj));
    }
    items.sort(compareResources);
    return { items: items as R[], revision: String(this.revision) };
  }

  async create<R extends Resource>(obj: R, opts: { signal?: AbortSignal } = {}): Promise<R> {
    this.check(opts.signal, 'create');
    const op: TxnOp = { op: 'create', obj };
    const key = this.precheck(op);
    this.revision++;
    return this.apply(op, key) as R;
  }

  async update<R extends Resource>(obj: R, opts: { signal?: AbortSignal } = {}): Promise<R> {
    this.check(opts.signal, 'update');
    const op: TxnOp = { op: 'update', obj };
    const key = this.precheck(op);
    this.revision++;
    return this.apply(op, key) as R;
  }

  async delete<R extends Resource>(
    key: ResourceKey,
    opts: { resourceVersion?: string; signal?: AbortSignal } = {},
  ): Promise<R> {
    this.check(opts.signal, 'delete');
    const op: TxnOp = { op: 'delete', key, ...(opts.resourceVersion !== undefined ? { resourceVersion: opts.resourceVersion } : {}) };
    const k = this.precheck(op);
    this.revision++;
    return this.apply(op, k) as R;
  }

  /** Applies every op or none (see `Datastore.txn`); all writes share one revision. */
  async txn(ops: TxnOp[], opts: { signal?: AbortSignal } = {}): Promise<Resource[]> {
    this.check(opts.signal, 'txn');
    const seen = new Set<string>();
    const keys = ops.map((op) => {
      const k = this.precheck(op);
      const ks = keyString(k);
      if (seen.has(ks)) throw datastoreError('Invalid', `a transaction names ${describeKey(k)} twice`, { kind: k.kind, name: k.name });
      seen.add(ks);
      return k;
    });
    if (ops.length === 0) return [];
    this.revision++;
    return ops.map((op, i) => this.apply(op, keys[i]!));
  }

  /** Throws the error `op` would fail with against the current state; returns its key. */
  private precheck(op: TxnOp): ResourceKey {
    const key = op.op === 'delete' ? normalizeKey(op.key) : keyOf(op.obj);
    const previous = this.objects.get(keyString(key));
    if (op.op === 'create') {
      if (previous) throw alreadyExists(key);
      return key;
    }
    if (!previous) throw notFound(key);
    const rv = op.op === 'update' ? op.obj.metadata.resourceVersion : op.resourceVersion;
    if (rv !== undefined && rv !== previous.metadata.resourceVersion) throw conflict(key, rv, previous.metadata.resourceVersion);
    return key;
  }

  /** Applies a prechecked op at the current revision; returns a copy of the stored (or deleted) object. */
  private apply(op: TxnOp, key: ResourceKey): Resource {
    const ks = keyString(key);
    const previous = this.objects.get(ks);
    switch (op.op) {
      case 'create': {
        const stored = copy(op.obj);
        stored.metadata = { ...stored.metadata, uid: randomUUID(), creationTimestamp: new Date().toISOString() };
        this.write(key, stored, 'added');
        return copy(stored);
      }
      case 'update': {
        const stored = copy(op.obj);
        stored.metadata = { ...stored.metadata, uid: previous!.metadata.uid, creationTimestamp: previous!.metadata.creationTimestamp };
        this.write(key, stored, 'modified', previous);
        return copy(stored);
      }
      case 'delete': {
        this.objects.delete(ks);
        this.record(key, { type: 'deleted', object: previous!, revision: String(this.revision) });
        return copy(previous!);
      }
    }
  }

  watch<R extends Resource>(opts: WatchOptions): AsyncIterable<WatchEvent<R>> {
    const filter = normalizeFilter(opts);
    const subs = this.subscribers;
    const queue: EventQueue<WatchEvent> = new EventQueue<WatchEvent>({
      signal: opts.signal,
      onClose: () => subs.delete(sub),
    });
    const sub: Subscriber = { filter, queue };
    if (this.closed) {
      sub.queue.fail(datastoreError('Unavailable', 'memory datastore is closed'));
      return sub.queue as AsyncIterable<WatchEvent<R>>;
    }
    const from = opts.revision === undefined ? this.revision : Number(opts.revision);
    if (!Number.isInteger(from) || from < 0) {
      sub.queue.fail(datastoreError('Invalid', `bad watch revision "${opts.revision}"`));
    } else if (from < this.compacted) {
      sub.queue.push({ type: 'gone', revision: String(this.compacted) });
      sub.queue.end();
    } else {
      for (const h of this.history) {
        if (Number(h.event.revision) > from && matchesFilter(h.key, filter)) sub.queue.push(copy(h.event));
      }
      if (!sub.queue.finished) this.subscribers.add(sub);
    }
    return sub.queue as AsyncIterable<WatchEvent<R>>;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const s of [...this.subscribers]) s.queue.end();
  }

  private check(signal: AbortSignal | undefined, what: MemoryOp): void {
    throwIfAborted(signal, what);
    if (this.closed) throw datastoreError('Unavailable', `memory datastore is closed (${what})`);
    const i = this.faults.findIndex((f) => f.op === what);
    if (i >= 0) {
      const f = this.faults[i]!;
      if (--f.times <= 0) this.faults.splice(i, 1);
      throw datastoreError(f.code, `injected fault: ${what} fails with ${f.code}`, { injected: true });
    }
  }

  /** Stores at the current revision (the caller has already advanced it). */
  private write(key: ResourceKey, stored: Resource, type: 'added' | 'modified', previous?: Resource): void {
    stored.metadata.resourceVersion = String(this.revision);
    if (key.namespace === undefined) delete stored.metadata.namespace;
    this.objects.set(keyString(key), stored);
    const revision = String(this.revision);
    const event: WatchEvent =
      type === 'added'
        ? { type, object: copy(stored), revision }
        : { type, object: copy(stored), ...(previous ? { previous: copy(previous) } : {}), revision };
    this.record(key, event);
  }

  private record(key: ResourceKey, event: WatchEvent): void {
    this.history.push({ key, event });
    if (this.history.length > this.maxHistory) {
      const dropped = this.history.shift()!;
      this.compacted = Number(dropped.event.revision);
    }
    for (const s of this.subscribers) {
      if (matchesFilter(key, s.filter)) s.queue.push(copy(event));
    }
  }
}
