/**
 * Watch over etcd's raw watch stream (one gRPC bidi stream per watch, so nothing is shared
 * with other watches and the compaction revision is seen). Invariants:
 * - events come out in etcd's order (one stream is ordered; revisions increase);
 * - `start_revision` is the caller's revision + 1, and after a broken stream the watch is
 *   re-created from the last delivered revision + 1: no event lost or repeated;
 * - a cancel with `compact_revision` set (history compacted) yields one `gone` and ends;
 * - progress notifications become `bookmark` events;
 * - the signal cancels the stream; the iterator then ends without an error;
 * - a stream we end ourselves is half-closed before it is cancelled (`closeStream`): the etcd3
 *   client treats an error on a still-writable stream as a host failure and resets every
 *   channel of the host, which would break the other watches and calls in flight.
 */
import type { Etcd3, IEvent, IWatchResponse } from 'etcd3';
import type { Resource } from '@tabby/api';
import { datastoreError } from './errors.js';
import { decodeValue, etcdPrefix, parseEtcdKey, rangeEnd } from './etcd-codec.js';
import { EventQueue } from './event-queue.js';
import { normalizeFilter } from './keys.js';
import { DEFAULT_WATCH_RETRY, type WatchEvent, type WatchOptions, type WatchRetry } from './types.js';


type WatchStream = Awaited<ReturnType<Etcd3['watchClient']['watch']>>;

/** Ends a stream of ours: half-close first (so its CANCELLED is not taken for a failure), then cancel. */
function closeStream(s: WatchStream | undefined): void {
  if (!s) return;
  s.on('error', () => undefined);
  s.end();
  s.cancel();
}

/** One etcd event as a watch event (throws `Invalid` when its value is not a resource). */
export function etcdEventToWatchEvent<R extends Resource>(prefix: string, ev: IEvent): WatchEvent<R> {
  const key = ev.kv.key.toString();
  const revision = ev.kv.mod_revision;
  if (ev.type === 'Delete') {
    let object: R;
    if (ev.prev_kv) {
      object = decodeValue<R>(ev.prev_kv.value, revision, key);
    } else {
      // Without a previous value (compacted), deliver the key only.
      const k = parseEtcdKey(prefix, key);
      const metadata = { name: k.name, resourceVersion: revision, ...(k.namespace ? { namespace: k.namespace } : {}) };
      object = { apiVersion: 'tabby.dev/v1', kind: k.kind, metadata, spec: {} } as unknown as R;
    }
    return { type: 'deleted', object, revision };
  }
  const object = decodeValue<R>(ev.kv.value, revision, key);
  if (ev.kv.create_revision === ev.kv.mod_revision) return { type: 'added', object, revision };
  const previous = ev.prev_kv ? decodeValue<R>(ev.prev_kv.value, ev.prev_kv.mod_revision, key) : undefined;
  return { type: 'modified', object, ...(previous ? { previous } : {}), revision };
}

/** Watches one kind (and namespace) under `prefix` from `opts.revision`. */
export function watchEtcd<R extends Resource>(
  client: Etcd3,
  prefix: string,
  opts: WatchOptions,
  retry: WatchRetry = DEFAULT_WATCH_RETRY,
): AsyncIterable<WatchEvent<R>> {
  let stream: WatchStream | undefined;
  let closed = false;
  const queue = new EventQueue<WatchEvent<R>>({
    signal: opts.signal,
    onClose: () => {
      closed = true;
      closeStream(stream);
    },
  });
  if (queue.finished) return queue;
  const keyPrefix = etcdPrefix(prefix, normalizeFilter(opts));
  if (opts.revision !== undefined && !/^\d+$/.test(opts.revision)) {
    queue.fail(datastoreError('Invalid', `bad etcd watch revision "${opts.revision}"`));
    return queue;
  }
  /** Last revision delivered (or the starting one); the next stream starts after it. */
  let last: bigint | undefined = opts.revision === undefined ? undefined : BigInt(opts.revision);
  let retries = 0;

  const onResponse = (res: IWatchResponse): void => {
    if (res.canceled) {
      if (res.compact_revision && res.compact_revision !== '0') {
        queue.push({ type: 'gone', revision: res.compact_revision });
        queue.end();
      } else {
        queue.fail(datastoreError('Unavailable', `etcd cancelled the watch on ${keyPrefix}: ${res.cancel_reason}`));
      }
      return;
    }
    retries = 0;
    if (res.created) {
      // Watch from now: remember where "now" was, for a resume after a broken stream.
      last ??= BigInt(res.header.revision);
      return;
    }
    if (res.events.length === 0) {
      queue.push({ type: 'bookmark', revision: res.header.revision });
      return;
    }
    for (const ev of res.events) {
      try {
        queue.push(etcdEventToWatchEvent<R>(prefix, ev));
        last = BigInt(ev.kv.mod_revision);
      } catch (e: unknown) {
        queue.fail(e);
        return;
      }
    }
  };

  const open = async (): Promise<void> => {
    if (closed) return;
    try {
      const s = await client.watchClient.watch();
      if (closed) {
        closeStream(s);
        return;
      }
      stream = s;
      s.on('data', onResponse);
      s.on('error', (err: Error) => broken(s, err));
      s.on('end', () => broken(s, new Error('stream ended')));
      s.write({
        create_request: {
          key: Buffer.from(keyPrefix),
          range_end: rangeEnd(keyPrefix),
          prev_kv: true,
          progress_notify: true,
          ...(last !== undefined ? { start_revision: (last + 1n).toString() } : {}),
        },
      });
    } catch (e: unknown) {
      broken(undefined, e);
    }
  };

  const broken = (s: WatchStream | undefined, err: unknown): void => {
    if (closed || queue.finished || (s !== undefined && s !== stream)) return;
    stream = undefined;
    closeStream(s);
    if (++retries > retry.attempts) {
      const msg = err instanceof Error ? err.message : String(err);
      queue.fail(datastoreError('Unavailable', `etcd watch on ${keyPrefix} failed: ${msg}`, {}, err));
      return;
    }
    setTimeout(() => void open(), retry.baseDelayMs * 2 ** retries).unref();
  };

  void open();
  return queue;
}
