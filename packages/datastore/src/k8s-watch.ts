/**
 * Watch over the Kubernetes API (`?watch=true&resourceVersion=N&allowWatchBookmarks=true`,
 * newline-delimited JSON events). Invariants:
 * - events come out in the server's order; the last seen resourceVersion (of a change or a
 *   BOOKMARK) is remembered, and when the stream ends (server timeout, the client's 30 s
 *   inactivity timeout, a dropped connection) the watch is re-opened from it: nothing lost,
 *   nothing repeated; only repeated failures to connect end it with `Unavailable`;
 * - HTTP 410, or an ERROR event whose Status has code 410 ("too old resource version"), yields
 *   one `gone` event and ends: the caller re-lists;
 * - a watch "from now" first reads the collection's current resourceVersion (a list with
 *   limit 1), because a watch without one would replay every object as ADDED;
 * - the signal aborts the HTTP request; the iterator then ends without an error.
 */
import type { Watch } from '@kubernetes/client-node';
import type { Resource } from '@tabby/api';
import { datastoreError } from './errors.js';
import { EventQueue } from './event-queue.js';
import type { KubeObject } from './k8s-convert.js';
import type { WatchEvent, WatchOptions, WatchRetry } from './types.js';


/** What the watch needs from the backend. */
export interface KubeWatchDeps {
  watch: Watch;
  /** The collection path, e.g. `/apis/tabby.dev/v1/ippools`. */
  path: string;
  /** The collection's current resourceVersion (for a watch from now). */
  currentRevision(): Promise<string>;
  convert(o: KubeObject): Resource;
  retry: WatchRetry;
}

/** A Kubernetes `Status` carried by an ERROR event. */
interface KubeStatus {
  code?: number;
  reason?: string;
  message?: string;
}

const statusCode = (e: unknown): number | undefined =>
  typeof e === 'object' && e !== null && 'statusCode' in e && typeof e.statusCode === 'number' ? e.statusCode : undefined;

/** Watches one collection from `opts.revision`. */
export function watchKube<R extends Resource>(deps: KubeWatchDeps, opts: WatchOptions): AsyncIterable<WatchEvent<R>> {
  let controller: AbortController | undefined;
  let closed = false;
  const queue = new EventQueue<WatchEvent<R>>({
    signal: opts.signal,
    onClose: () => {
      closed = true;
      controller?.abort();
    },
  });
  if (queue.finished) return queue;
  let last = opts.revision;
  let retries = 0;

  const gone = (): void => {
    queue.push({ type: 'gone', revision: last ?? '' });
    queue.end();
  };

  const onEvent = (phase: string, obj: KubeObject | KubeStatus): void => {
    if (closed || queue.finished) return;
    retries = 0;
    switch (phase) {
      case 'ADDED':
      case 'MODIFIED':
      case 'DELETED': {
        const object = deps.convert(obj as KubeObject) as R;
        const revision = object.metadata.resourceVersion ?? '';
        last = revision;
        const type = phase === 'ADDED' ? 'added' : phase === 'MODIFIED' ? 'modified' : 'deleted';
        queue.push({ type, object, revision });
        return;
      }
      case 'BOOKMARK': {
        const revision = (obj as KubeObject).metadata?.resourceVersion;
        if (revision) {
          last = revision;
          queue.push({ type: 'bookmark', revision });
        }
        return;
      }
      case 'ERROR': {
        const st = obj as KubeStatus;
        if (st.code === 410) return gone();
        queue.fail(datastoreError('Unavailable', `watch on ${deps.path} failed: ${st.message ?? st.reason ?? 'error'}`, { status: st }));
        return;
      }
      default:
        return; // unknown event types are ignored, as client-go does
    }
  };

  const onDone = (err: unknown): void => {
    controller = undefined;
    if (closed || queue.finished) return;
    if (statusCode(err) === 410) return gone();
    // The server ended a healthy stream (its timeout, or the client's inactivity timeout):
    // re-open from the last revision at once; this is routine, not a failure.
    if (!err || (err instanceof Error && err.name === 'TimeoutError')) {
      setTimeout(() => void open(), 10).unref();
      return;
    }
    if (++retries > deps.retry.attempts) {
      const msg = err instanceof Error ? err.message : String(err);
      queue.fail(datastoreError('Unavailable', `watch on ${deps.path} failed: ${msg}; is the API server reachable?`, {}, err));
      return;
    }
    setTimeout(() => void open(), deps.retry.baseDelayMs * 2 ** retries).unref();
  };

  let attempt = 0;
  const open = async (): Promise<void> => {
    if (closed) return;
    const mine = ++attempt;
    let ended = false;
    const done = (err: unknown): void => {
      if (mine !== attempt || ended) return;
      ended = true;
      onDone(err);
    };
    try {
      last ??= await deps.currentRevision();
      const c = await deps.watch.watch(deps.path, { resourceVersion: last, allowWatchBookmarks: true }, onEvent, done);
      if (closed) c.abort();
      else if (!ended) {
        controller = c;
        retries = 0; // connected: the server answered 200
      }
    } catch (e: unknown) {
      done(e);
    }
  };

  void open();
  return queue;
}
