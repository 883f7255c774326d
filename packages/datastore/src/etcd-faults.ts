/**
 * How the etcd backend handles the client's failures. Invariants:
 * - the etcd3 client's own fault handling is off (`etcdFaultHandling`): its per-host circuit
 *   breaker counted our own stream cancellations (a watch ended by compaction) as host
 *   failures and then refused every call for 5 s, and its global retry re-sent writes whose
 *   first attempt had committed, turning a success into a Conflict. Retries happen here instead,
 *   where it is known whether a request is a read or a write;
 * - a read is retried after any transport failure; a write only when it certainly never reached
 *   etcd (no connection, a refused stream, "too many requests"); a write whose fate is unknown
 *   (the connection dropped after sending, a server-side timeout) is reported as
 *   `Indeterminate` and never re-sent;
 * - a message a user sees names etcd, the operation and what to do, never the client library's
 *   internal terms.
 * Pure: no client, no I/O (the retry loop takes its sleep from the caller).
 */
import type { IOptions } from 'etcd3';
import { datastoreError, isDatastoreError } from './errors.js';
import type { DatastoreError } from './types.js';

type FaultHandling = NonNullable<IOptions['faultHandling']>;
type Policy = NonNullable<FaultHandling['global']>;

const never = new AbortController().signal;
const noEvent = (): { dispose(): void } => ({ dispose: () => undefined });

/** A policy that runs the call once, as it is: no breaker, no retry. */
const passThrough = {
  execute: async <T>(fn: (ctx: { signal: AbortSignal }) => PromiseLike<T> | T): Promise<T> => fn({ signal: never }),
  onSuccess: noEvent,
  onFailure: noEvent,
} as unknown as Policy;

/** The etcd3 client's fault handling for Tabby: none (see the module header). */
export const etcdFaultHandling: FaultHandling = { host: () => passThrough, global: passThrough };

/** How a failed request may be treated. */
export type FailureKind =
  /** Certainly not executed by etcd (no connection, refused): any request may be re-sent. */
  | 'not-sent'
  /** Maybe executed (connection lost after sending, server timeout): reads may be re-sent, writes not. */
  | 'unknown'
  /** The range's revision was compacted: re-read at a fresh revision. */
  | 'compacted'
  /** etcd's space quota is full (alarm NOSPACE): writes fail until it is compacted and defragmented. */
  | 'quota'
  /** etcd rejected the request as such (too large, invalid): not executed, do not re-send. */
  | 'rejected';

/** Classifies a failure of the etcd client (a typed etcd3/grpc error, message `<code> <NAME>: <details>`). */
export function classifyFailure(e: unknown): FailureKind {
  const msg = e instanceof Error ? e.message : String(e);
  const name = e instanceof Error ? e.constructor.name : '';
  if (/database space exceeded|NOSPACE/i.test(msg)) return 'quota';
  if (/required revision has been compacted/.test(msg)) return 'compacted';
  if (/No connection established|REFUSED_STREAM|too many requests|ClientClosed|not capable/i.test(msg) || name === 'ClientClosedError') return 'not-sent';
  if (/INVALID_ARGUMENT|request is too large|too many operations|duplicate key|PERMISSION_DENIED|UNAUTHENTICATED|UNIMPLEMENTED|FAILED_PRECONDITION/.test(msg)) return 'rejected';
  return 'unknown';
}

/** The reason a user reads, without the client's wording where it is internal. */
function reason(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  return msg.replace(/^\w*Error:\s*/, '').replace(/^\d+ ([A-Z_]+): /, (_, code: string) => `${code.toLowerCase().replace(/_/g, ' ')}: `);
}

/** The datastore error for a client failure of operation `what`. */
export function failureError(what: string, e: unknown, write: boolean, sentBefore: boolean): DatastoreError {
  if (isDatastoreError(e)) return e;
  const kind = classifyFailure(e);
  if (kind === 'quota') {
    return datastoreError('QuotaExceeded',
      `etcd ${what} failed: etcd's database is full (its space quota, --quota-backend-bytes, is reached), so it refuses writes; ` +
      'compact old revisions and defragment (etcdctl compaction <rev>; etcdctl defrag; etcdctl alarm disarm), and run etcd with --auto-compaction-retention', {}, e);
  }
  if (kind === 'rejected') return datastoreError('Invalid', `etcd ${what} was rejected: ${reason(e)}`, {}, e);
  if (write && (kind === 'unknown' || sentBefore)) {
    return datastoreError('Indeterminate',
      `etcd ${what}: the connection to etcd failed after the request was sent (${reason(e)}), so it may or may not have been applied; ` +
      'read the object again before deciding, or retry the whole operation idempotently', {}, e);
  }
  return datastoreError('Unavailable', `etcd ${what} failed: ${reason(e)}; is etcd running and reachable?`, {}, e);
}

/** Retries of one request after failures that allow it. */
export interface RequestRetry {
  /** Re-sends after the first attempt (default 6). */
  attempts: number;
  /** Delay before re-send n is `baseDelayMs * 2^n` (default 50: about 3 s in all). */
  baseDelayMs: number;
}

/** The default request retry policy. */
export const DEFAULT_REQUEST_RETRY: RequestRetry = { attempts: 6, baseDelayMs: 50 };

/**
 * Runs `fn`, re-sending it while the failure allows (see the module header) and attempts
 * remain; then throws the datastore error for the last failure.
 */
export async function withRetry<T>(
  what: string,
  write: boolean,
  retry: RequestRetry,
  sleep: (ms: number) => Promise<void>,
  fn: () => Promise<T>,
): Promise<T> {
  let sentBefore = false;
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (e: unknown) {
      if (isDatastoreError(e)) throw e;
      const kind = classifyFailure(e);
      const retriable = kind === 'not-sent' || (!write && (kind === 'unknown' || kind === 'compacted'));
      if (!retriable || attempt >= retry.attempts) throw failureError(what, e, write, sentBefore);
      if (kind !== 'not-sent') sentBefore = true;
      await sleep(retry.baseDelayMs * 2 ** attempt);
    }
  }
}
