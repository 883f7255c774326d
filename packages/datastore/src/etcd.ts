/**
 * The etcd v3 backend. Invariants:
 * - every key lives under the prefix (default `/tabby/`): `<prefix><kind>/<ns or _>/<name>`;
 * - an object's revision is its key's mod revision, a list's revision the header revision of
 *   its (paginated, revision-pinned) range, so a watch from it misses nothing;
 * - create is a transaction `create_revision == 0`, a checked update or delete a transaction
 *   `mod_revision == rv`; a failed compare reads the key in the same transaction, so
 *   `Conflict` and `NotFound` are told apart atomically;
 * - `txn` is one etcd Txn holding every op's compare and every put/delete (all land at one
 *   revision, or none); its failure branch reads every key, so the op that failed is named;
 * - client errors never escape: they become `Unavailable`, `Indeterminate` (a write that may
 *   have been applied), `QuotaExceeded`, `Invalid` (or `Aborted`); reads, and writes that never
 *   reached etcd, are re-sent a bounded number of times (etcd-faults.ts);
 * - a paginated list whose pinned revision is compacted mid-way starts again at a fresh revision
 *   (and, if compaction keeps overtaking it, reads the whole range in one request);
 * - our own watch cancellations never count as failures (the client's breaker is off, and a
 *   stream is half-closed before it is cancelled, so the client does not reset its channels).
 * The client is injected (`components.client`); `createEtcdDatastore` builds one for endpoints
 * such as `unix:///tmp/dir/localhost:2379` (grpc-js dials `unix:` targets as they are).
 */
import { Etcd3, type ICompare, type IKeyValue, type IRequestOp, type ITxnResponse } from 'etcd3';
import type { Resource } from '@tabby/api';
import { abortable, alreadyExists, conflict, datastoreError, describeKey, notFound, throwIfAborted } from './errors.js';
import {
  DEFAULT_ETCD_PREFIX, decodeValue, etcdKey, etcdPrefix, rangeEnd,
} from './etcd-codec.js';
import { DEFAULT_REQUEST_RETRY, classifyFailure, etcdFaultHandling, withRetry, type RequestRetry } from './etcd-faults.js';
import { watchEtcd } from './etcd-watch.js';
import { keyOf, normalizeFilter, normalizeKey } from './keys.js';
import { DEFAULT_WATCH_RETRY, type Datastore, type ListResult, type ResourceKey, type TxnOp, type WatchEvent, type WatchOptions, type WatchRetry } from './types.js';

/** Injected dependencies of the etcd backend. */
export interface EtcdDatastoreComponents {
  client: Etcd3;
}

/** Options of the etcd backend. */
export interface EtcdDatastoreInit {
  /** Key prefix, ending in `/` (default `/tabby/`). Tests use a fresh one each for isolation. */
  prefix?: string;
  /** Keys fetched per range request when listing (default 1000). */
  pageSize?: number;
  /** Watch reconnection policy. */
  watchRetry?: WatchRetry;
  /** Re-sends of a request after a failure that allows it (etcd-faults.ts). */
  requestRetry?: RequestRetry;
}

/** Restarts of a paginated list at a fresh revision before it reads the range in one request. */
const LIST_RESTARTS = 3;

type Signal = { signal?: AbortSignal };

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** An etcd revision is a decimal number; anything else cannot be a revision of this store. */
function checkRevision(rv: string | undefined): string | undefined {
  if (rv !== undefined && !/^\d+$/.test(rv)) {
    throw datastoreError('Invalid', `resourceVersion "${rv}" is not an etcd revision`, { resourceVersion: rv });
  }
  return rv;
}

/** The compare of a checked write: `mod_revision == rv`, or (no rv) the key exists / (create) does not. */
function compareOf(ek: Buffer, create: boolean, rv: string | undefined): ICompare {
  if (create) return { key: ek, target: 'Create', result: 'Equal', create_revision: 0 };
  return rv === undefined
    ? { key: ek, target: 'Create', result: 'Greater', create_revision: 0 }
    : { key: ek, target: 'Mod', result: 'Equal', mod_revision: rv };
}

/**
 * The value to put and the object as stored (uid and creation time filled in by a create),
 * encoded once: the returned copy is parsed back from the same JSON, which is cheaper than a
 * structured clone of a large block and equals what a later `get` returns.
 */
function encodeStored<R extends Resource>(obj: R, k: ResourceKey, create: boolean): { stored: R; value: Buffer } {
  const metadata = { ...obj.metadata };
  delete metadata.resourceVersion;
  if (k.namespace === undefined) delete metadata.namespace;
  if (create) {
    metadata.uid ??= crypto.randomUUID();
    metadata.creationTimestamp ??= new Date().toISOString();
  }
  const json = JSON.stringify({ ...obj, metadata });
  return { stored: JSON.parse(json) as R, value: Buffer.from(json) };
}

/** One prepared op of a txn. */
interface PreparedOp {
  op: TxnOp;
  key: ResourceKey;
  ek: Buffer;
  rv: string | undefined;
  put?: { stored: Resource; value: Buffer };
}

function prepare(prefix: string, op: TxnOp): PreparedOp {
  switch (op.op) {
    case 'create': {
      const key = keyOf(op.obj);
      return { op, key, ek: Buffer.from(etcdKey(prefix, key)), rv: undefined, put: encodeStored(op.obj, key, true) };
    }
    case 'update': {
      const key = keyOf(op.obj);
      return { op, key, ek: Buffer.from(etcdKey(prefix, key)), rv: checkRevision(op.obj.metadata.resourceVersion), put: encodeStored(op.obj, key, false) };
    }
    case 'delete': {
      const key = normalizeKey(op.key);
      return { op, key, ek: Buffer.from(etcdKey(prefix, key)), rv: checkRevision(op.resourceVersion) };
    }
  }
}

/** The error of the first op whose compare the failure branch's reads contradict. */
function txnFailure(ops: PreparedOp[], res: ITxnResponse): Error {
  for (let i = 0; i < ops.length; i++) {
    const p = ops[i]!;
    const cur = res.responses[i]?.response_range?.kvs[0];
    if (p.op.op === 'create') {
      if (cur) return alreadyExists(p.key);
    } else if (!cur) return notFound(p.key);
    else if (p.rv !== undefined && cur.mod_revision !== p.rv) return conflict(p.key, p.rv, cur.mod_revision);
  }
  // Unreachable with etcd's serializable txns; report the first key rather than succeed silently.
  return conflict(ops[0]!.key, ops[0]!.rv);
}

/** The etcd v3 backend. */
export class EtcdDatastore implements Datastore {
  private readonly client: Etcd3;
  private readonly prefix: string;
  private readonly pageSize: number;
  private readonly watchRetry: WatchRetry;
  private readonly requestRetry: RequestRetry;

  constructor(components: EtcdDatastoreComponents, init: EtcdDatastoreInit = {}) {
    this.client = components.client;
    this.prefix = init.prefix ?? DEFAULT_ETCD_PREFIX;
    if (!this.prefix.endsWith('/')) throw datastoreError('Invalid', `etcd prefix "${this.prefix}" must end in "/"`);
    this.pageSize = init.pageSize ?? 1000;
    this.watchRetry = init.watchRetry ?? DEFAULT_WATCH_RETRY;
    this.requestRetry = init.requestRetry ?? DEFAULT_REQUEST_RETRY;
  }

  /** Runs one request with the retry rules of a read or a write; every failure becomes a datastore error. */
  private guard<T>(what: string, write: boolean, signal: AbortSignal | undefined, fn: () => Promise<T>): Promise<T> {
    return abortable(() => withRetry(what, write, this.requestRetry, sleep, fn), signal, what);
  }

  async get<R extends Resource>(key: ResourceKey, opts: Signal = {}): Promise<R> {
    const k = normalizeKey(key);
    const ek = etcdKey(this.prefix, k);
    return this.guard('get', false, opts.signal, async () => {
      const res = await this.client.kv.range({ key: Buffer.from(ek) });
      const kv = res.kvs[0];
      if (!kv) throw notFound(k);
      return decodeValue<R>(kv.value, kv.mod_revision, ek);
    });
  }

  async list<R extends Resource>(opts: { kind: string; namespace?: string } & Signal): Promise<ListResult<R>> {
    const prefix = etcdPrefix(this.prefix, normalizeFilter(opts));
    const end = rangeEnd(prefix);
    return this.guard('list', false, opts.signal, async () => {
      for (let restart = 0; ; restart++) {
        try {
          return await this.listPages<R>(prefix, end, restart < LIST_RESTARTS ? this.pageSize : 0, opts.signal);
        } catch (e: unknown) {
          // The pinned revision was compacted between pages: start again at a fresh one.
          if (classifyFailure(e) !== 'compacted' || restart >= LIST_RESTARTS) throw e;
        }
      }
    });
  }

  /** One paginated read of a range at one revision (`limit` 0: the whole range in one request). */
  private async listPages<R extends Resource>(prefix: string, end: Buffer, limit: number, signal: AbortSignal | undefined): Promise<ListResult<R>> {
    const items: R[] = [];
    let from = Buffer.from(prefix);
    let revision: string | undefined;
    for (;;) {
      throwIfAborted(signal, 'list');
      const res = await this.client.kv.range({
        key: from,
        range_end: end,
        ...(limit > 0 ? { limit } : {}),
        ...(revision ? { revision } : {}),
      });
      revision ??= res.header.revision;
      for (const kv of res.kvs) items.push(decodeValue<R>(kv.value, kv.mod_revision, kv.key.toString()));
      const last = res.kvs[res.kvs.length - 1];
      if (!res.more || !last || limit === 0) break;
      from = Buffer.concat([last.key, Buffer.from([0])]);
    }
    return { items, revision };
  }

  async create<R extends Resource>(obj: R, opts: Signal = {}): Promise<R> {
    const k = keyOf(obj);
    const ek = Buffer.from(etcdKey(this.prefix, k));
    const { stored, value } = encodeStored(obj, k, true);
    return this.guard('create', true, opts.signal, async () => {
      const res = await this.client.kv.txn({
        compare: [{ key: ek, target: 'Create', result: 'Equal', create_revision: 0 }],
        success: [{ request_put: { key: ek, value } }],
        failure: [],
      });
      if (!res.succeeded) throw alreadyExists(k);
      stored.metadata.resourceVersion = res.header.revision;
      return stored;
    });
  }

  async update<R extends Resource>(obj: R, opts: Signal = {}): Promise<R> {
    const k = keyOf(obj);
    const ek = Buffer.from(etcdKey(this.prefix, k));
    const rv = checkRevision(obj.metadata.resourceVersion);
    const { stored, value } = encodeStored(obj, k, false);
    return this.guard('update', true, opts.signal, async () => {
      const res = await this.client.kv.txn({
        compare: [compareOf(ek, false, rv)],
        success: [{ request_put: { key: ek, value } }],
        failure: [{ request_range: { key: ek } }],
      });
      if (!res.succeeded) throw this.compareFailure(k, rv, res);
      stored.metadata.resourceVersion = res.header.revision;
      return stored;
    });
  }

  async delete<R extends Resource>(key: ResourceKey, opts: { resourceVersion?: string } & Signal = {}): Promise<R> {
    const k = normalizeKey(key);
    const ek = Buffer.from(etcdKey(this.prefix, k));
    const rv = checkRevision(opts.resourceVersion);
    return this.guard('delete', true, opts.signal, async () => {
      const res = await this.client.kv.txn({
        compare: [compareOf(ek, false, rv)],
        success: [{ request_delete_range: { key: ek, prev_kv: true } }],
        failure: [{ request_range: { key: ek } }],
      });
      if (!res.succeeded) throw this.compareFailure(k, rv, res);
      const prev: IKeyValue | undefined = res.responses[0]?.response_delete_range?.prev_kvs[0];
      if (!prev) throw notFound(k); // deleted concurrently between compare and delete: cannot happen in one txn
      return decodeValue<R>(prev.value, prev.mod_revision, ek.toString());
    });
  }

  /** One etcd Txn: every op's compare, then every put/delete; on failure, every key is read. */
  async txn(ops: TxnOp[], opts: Signal = {}): Promise<Resource[]> {
    const prepared = ops.map((op) => prepare(this.prefix, op));
    const seen = new Set<string>();
    for (const p of prepared) {
      const s = p.ek.toString();
      if (seen.has(s)) throw datastoreError('Invalid', `a transaction names ${describeKey(p.key)} twice`, { kind: p.key.kind, name: p.key.name });
      seen.add(s);
    }
    if (prepared.length === 0) return [];
    return this.guard('txn', true, opts.signal, async () => {
      const success: IRequestOp[] = prepared.map((p) =>
        p.put ? { request_put: { key: p.ek, value: p.put.value } } : { request_delete_range: { key: p.ek, prev_kv: true } });
      const res = await this.client.kv.txn({
        compare: prepared.map((p) => compareOf(p.ek, p.op.op === 'create', p.rv)),
        success,
        failure: prepared.map((p) => ({ request_range: { key: p.ek } })),
      });
      if (!res.succeeded) throw txnFailure(prepared, res);
      return prepared.map((p, i) => {
        if (p.put) return { ...p.put.stored, metadata: { ...p.put.stored.metadata, resourceVersion: res.header.revision } };
        const prev = res.responses[i]?.response_delete_range?.prev_kvs[0];
        if (!prev) throw notFound(p.key); // cannot happen: the compare saw the key in the same txn
        return decodeValue<Resource>(prev.value, prev.mod_revision, p.ek.toString());
      });
    });
  }

  watch<R extends Resource>(opts: WatchOptions): AsyncIterable<WatchEvent<R>> {
    return watchEtcd<R>(this.client, this.prefix, opts, this.watchRetry);
  }

  /** Closes the injected client (the backend owns it once handed over). */
  async close(): Promise<void> {
    this.client.close();
  }

  /** NotFound when the failure branch read nothing, else Conflict with the current revision. */
  private compareFailure(k: ResourceKey, rv: string | undefined, res: ITxnResponse): Error {
    const cur = res.responses[0]?.response_range?.kvs[0];
    if (!cur) return notFound(k);
    return conflict(k, rv, cur.mod_revision);
  }
}

/**
 * An etcd3 client as the etcd backend uses it: the client's own breaker and retries off
 * (etcd-faults.ts), quick reconnection after etcd comes back, large responses allowed.
 */
export function createEtcdClient(endpoints: string | string[]): Etcd3 {
  return new Etcd3({
    hosts: endpoints,
    faultHandling: etcdFaultHandling,
    grpcOptions: {
      'grpc.max_receive_message_length': 64 * 1024 * 1024,
      // Reconnect soon after etcd comes back (grpc's default backoff grows to minutes).
      'grpc.initial_reconnect_backoff_ms': 100,
      'grpc.max_reconnect_backoff_ms': 1000,
    },
  });
}

/** Builds an etcd backend with its own client (`createEtcdClient`) for the given endpoints. */
export function createEtcdDatastore(init: EtcdDatastoreInit & { endpoints: string | string[] }): EtcdDatastore {
  return new EtcdDatastore({ client: createEtcdClient(init.endpoints) }, init);
}
