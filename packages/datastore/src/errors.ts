/**
 * Construction and matching of datastore errors. Every backend throws `TabbyError` with a
 * `DatastoreErrorCode`, never a client library's own error, so callers match on `code` alone
 * (`Conflict` → re-read and retry, `NotFound`, `HistoryGone` → re-list, ...).
 */
import { TabbyError, isTabbyError } from '@tabby/api';
import type { DatastoreError, DatastoreErrorCode, ResourceKey } from './types.js';

/** Builds a datastore error; `details` are structured context for logs. */
export function datastoreError(
  code: DatastoreErrorCode,
  message: string,
  details: Record<string, unknown> = {},
  cause?: unknown,
): DatastoreError {
  return new TabbyError<DatastoreErrorCode>(code, message, details, cause === undefined ? undefined : { cause });
}

/** True when `e` is a datastore error, optionally with one of the given codes. */
export function isDatastoreError(e: unknown, ...codes: DatastoreErrorCode[]): e is DatastoreError {
  return isTabbyError(e, ...codes);
}

/** `Kind "name"` or `Kind "namespace/name"`, for messages. */
export function describeKey(key: ResourceKey): string {
  return key.namespace ? `${key.kind} "${key.namespace}/${key.name}"` : `${key.kind} "${key.name}"`;
}

function keyDetails(key: ResourceKey): Record<string, unknown> {
  return { kind: key.kind, name: key.name, ...(key.namespace ? { namespace: key.namespace } : {}) };
}

/** The resource does not exist. */
export function notFound(key: ResourceKey, cause?: unknown): DatastoreError {
  return datastoreError('NotFound', `${describeKey(key)} not found`, keyDetails(key), cause);
}

/** A create found the key taken. */
export function alreadyExists(key: ResourceKey, cause?: unknown): DatastoreError {
  return datastoreError('AlreadyExists', `${describeKey(key)} already exists; update it instead`, keyDetails(key), cause);
}

/** A compare-and-swap failed: the caller's revision is stale. */
export function conflict(key: ResourceKey, expected: string | undefined, actual?: string, cause?: unknown): DatastoreError {
  const now = actual === undefined ? '' : ` (now ${actual})`;
  return datastoreError(
    'Conflict',
    `${describeKey(key)} was modified since revision ${expected ?? '?'}${now}; re-read it and retry`,
    { ...keyDetails(key), expected, actual },
    cause,
  );
}

/** The operation was aborted through its AbortSignal. */
export function aborted(what: string, cause?: unknown): DatastoreError {
  return datastoreError('Aborted', `${what} aborted`, {}, cause);
}

/** Throws `Aborted` when the signal has fired. */
export function throwIfAborted(signal: AbortSignal | undefined, what: string): void {
  if (signal?.aborted) throw aborted(what, signal.reason);
}

/**
 * Runs `fn` unless the signal has fired, and races its promise against the signal: rejects
 * with `Aborted` as soon as it fires. The operation itself may still complete on the server
 * (a write is not undone), as with any RPC; its late failure is then ignored.
 */
export async function abortable<T>(fn: () => Promise<T>, signal: AbortSignal | undefined, what: string): Promise<T> {
  throwIfAborted(signal, what);
  const p = fn();
  if (!signal) return p;
  let onAbort: (() => void) | undefined;
  const aborted$ = new Promise<never>((_, reject) => {
    onAbort = (): void => reject(aborted(what, signal.reason));
    signal.addEventListener('abort', onAbort, { once: true });
  });
  p.catch(() => undefined); // when the abort wins, the operation's own failure is not unhandled
  try {
    return await Promise.race([p, aborted$]);
  } finally {
    signal.removeEventListener('abort', onAbort!);
  }
}
