/**
 * The three exchanges over a NetlinkSocket: a batch of acknowledged requests, a dump, and a
 * single get.
 *
 * Batch invariant: the result has exactly one entry per request, in request order: ok, or the
 * typed error of that request (kernel refusal with errno and extended ack, encode failure,
 * overrun, close or abort). Nothing is dropped silently.
 */
import * as C from './codec/constants.js';
import { describeRequest, encodeRequest, type Request } from './codec/request.js';
import { requestError } from './codec/validate.js';
import { forEachAttr, str, type NlMsg } from './codec/reader.js';
import type { NlWriter } from './codec/writer.js';
import { NetlinkError, kernelError, type RequestSummary } from './errors.js';
import { ackError, doneError, type NetlinkSocket } from './socket.js';

/** The outcome of one request of a batch. */
export type BatchItemResult = { ok: true } | { ok: false; error: NetlinkError };

/** Per-request outcomes of a batch, plus the failures with their indexes. */
export interface BatchResult {
  /** One entry per request, in order. */
  results: BatchItemResult[];
  succeeded: number;
  failed: Array<{ index: number; request: Request; error: NetlinkError }>;
}

/** Options of an async netlink call. */
export interface CallOptions {
  signal?: AbortSignal;
}

const OK: BatchItemResult = Object.freeze({ ok: true });

function aborted(what: string): NetlinkError {
  return new NetlinkError('NETLINK_ABORTED', `${what} aborted`);
}

function asNetlinkError(e: unknown, req: Request): NetlinkError {
  if (e instanceof NetlinkError) return e;
  return new NetlinkError('NETLINK_INVALID_REQUEST', `${describeRequest(req).op}: ${e instanceof Error ? e.message : String(e)}`, { request: describeRequest(req), cause: e });
}

/**
 * Sends `reqs` in chunks (one sendto per chunk), each request acknowledged and matched by seq.
 * Every request is validated before the first is sent: a malformed one is never sent and fails
 * with its own NETLINK_INVALID_REQUEST (naming the item and field), exactly like a request the
 * kernel refuses; the valid ones are applied. No exception escapes half-way through a batch.
 */
export async function runBatch(sock: NetlinkSocket, reqs: readonly Request[], opts: CallOptions = {}): Promise<BatchResult> {
  if (!Array.isArray(reqs)) throw new NetlinkError('NETLINK_INVALID_REQUEST', `batch: expected an array of requests, got ${typeof reqs}`);
  const invalid = validateAll(reqs);
  const results = new Array<BatchItemResult>(reqs.length);
  invalid?.forEach((error, k) => {
    if (error) results[k] = { ok: false, error }; // never sent: runChunk skips filled slots
  });
  let i = 0;
  let lastYield = Date.now();
  while (i < reqs.length) {
    if (opts.signal?.aborted || sock.isClosed) {
      const err = sock.isClosed ? new NetlinkError('NETLINK_CLOSED', 'netlink socket is closed') : aborted('batch');
      for (; i < reqs.length; i++) results[i] ??= { ok: false, error: err };
      break;
    }
    i = await runChunk(sock, reqs, i, results);
    if (i < reqs.length && Date.now() - lastYield >= 10) {
      await new Promise<void>((r) => setImmediate(r)); // let the event loop breathe every ~10 ms
      lastYield = Date.now();
    }
  }
  return summarise(reqs, results);
}

/** The validation error of every request (undefined where valid), or undefined when all are valid. */
function validateAll(reqs: readonly Request[]): Array<NetlinkError | undefined> | undefined {
  let errors: Array<NetlinkError | undefined> | undefined;
  for (let i = 0; i < reqs.length; i++) {
    const err = requestError(reqs[i]);
    if (!err) continue;
    errors ??= Array.from({ length: reqs.length }, () => undefined);
    errors[i] = new NetlinkError('NETLINK_INVALID_REQUEST', `batch item ${i}: ${err.message}`, { request: err.request, cause: err });
  }
  return errors;
}

function summarise(reqs: readonly Request[], results: BatchItemResult[]): BatchResult {
  const failed: BatchResult['failed'] = [];
  for (let k = 0; k < results.length; k++) {
    const r = results[k]!;
    if (!r.ok) failed.push({ index: k, request: reqs[k]!, error: r.error });
  }
  return { results, succeeded: results.length - failed.length, failed };
}

/** Encodes and sends one chunk starting at `first`; resolves with the index after it. */
function runChunk(sock: NetlinkSocket, reqs: readonly Request[], first: number, results: BatchItemResult[]): Promise<number> {
  const w: NlWriter = sock.writer;
  const max = Math.min(sock.maxInFlight, reqs.length - first);
  const lo = sock.takeSeq(max);
  w.reset();
  let n = 0;
  let expected = 0;
  while (n < max && w.pos < sock.maxSendBytes) {
    if (results[first + n] !== undefined) {
      n++; // failed validation: not sent
      continue;
    }
    const before = w.pos;
    const req = reqs[first + n]!;
    try {
      encodeRequest(w, req, lo + n);
      expected++;
    } catch (e: unknown) {
      w.pos = before;
      results[first + n] = { ok: false, error: asNetlinkError(e, req) };
    }
    n++;
  }
  const next = first + n;
  if (expected === 0) return Promise.resolve(next);
  let settle: (() => void) | undefined;
  let complete = false;
  const ex = {
    lo,
    hi: lo + n,
    onMessage(buf: Uint8Array, m: NlMsg): void {
      if (m.type !== C.NLMSG_ERROR) return; // e.g. NLM_F_ECHO copies; only acks count
      const idx = first + (m.seq - lo);
      if (results[idx] !== undefined) return;
      const err = ackError(buf, m, () => describeRequest(reqs[idx]!));
      results[idx] = err ? { ok: false, error: err } : OK;
      if (--expected === 0) finish();
    },
    fail(err: NetlinkError): void {
      for (let k = first; k < next; k++) if (results[k] === undefined) results[k] = { ok: false, error: err };
      expected = 0;
      finish();
    },
  };
  const finish = (): void => {
    complete = true;
    sock.untrack(ex);
    settle?.();
  };
  sock.track(ex);
  try {
    sock.sendWriter();
  } catch (e: unknown) {
    ex.fail(e instanceof NetlinkError ? e : new NetlinkError('NETLINK_SYSCALL', String(e), { cause: e }));
  }
  if (complete) return Promise.resolve(next);
  return new Promise<number>((resolve) => {
    settle = () => resolve(next);
  });
}

/** Reads the extended-ack text of an NLMSG_DONE that carries TLVs. */
function doneExtAck(buf: Uint8Array, m: NlMsg): string | undefined {
  if (!(m.flags & C.NLM_F_ACK_TLVS)) return undefined;
  let msg: string | undefined;
  forEachAttr(buf, m.off + C.NLMSG_HDRLEN + 4, m.off + m.len, (type, at, len) => {
    if (type === C.NLMSGERR_ATTR_MSG) msg = str(buf, at, len);
  });
  return msg;
}

/** A dump or get: encode one request, collect decoded replies until DONE (or the single reply). */
export interface QuerySpec<T> {
  what: RequestSummary;
  encode(w: NlWriter, seq: number): void;
  decode(buf: Uint8Array, m: NlMsg): T | undefined;
  /** A get expects exactly one reply and no NLMSG_DONE. */
  single?: boolean;
  /** Errnos that mean "nothing to list" (e.g. ENOENT for a table that does not exist). */
  emptyOn?: number[];
}

/**
 * Runs a dump or a get, retried up to 3 times when the kernel flags the dump inconsistent or a
 * reply exceeded the receive slot (which has grown to fit by then).
 */
export async function runQuery<T>(sock: NetlinkSocket, q: QuerySpec<T>, opts: CallOptions = {}): Promise<T[]> {
  for (let attempt = 0; ; attempt++) {
    let res: { items: T[]; interrupted: boolean };
    try {
      res = await queryOnce(sock, q, opts);
    } catch (e: unknown) {
      if (e instanceof NetlinkError && e.code === 'NETLINK_TRUNCATED' && attempt < 3) continue;
      throw e;
    }
    if (!res.interrupted || attempt >= 3) return res.items;
  }
}

function queryOnce<T>(sock: NetlinkSocket, q: QuerySpec<T>, opts: CallOptions): Promise<{ items: T[]; interrupted: boolean }> {
  if (opts.signal?.aborted) return Promise.reject(aborted(q.what.op));
  return new Promise((resolve, reject) => {
    const items: T[] = [];
    let interrupted = false;
    const seq = sock.takeSeq(1);
    const onAbort = (): void => ex.fail(aborted(q.what.op));
    let done = false;
    const end = (err: NetlinkError | undefined): void => {
      if (done) return;
      done = true;
      sock.untrack(ex);
      opts.signal?.removeEventListener('abort', onAbort);
      if (err && q.emptyOn?.includes(err.errno ?? -1)) resolve({ items: [], interrupted: false });
      else if (err) reject(err);
      else resolve({ items, interrupted });
    };
    const ex = {
      lo: seq,
      hi: seq + 1,
      onMessage(buf: Uint8Array, m: NlMsg): void {
        if (m.type === C.NLMSG_ERROR) return end(ackError(buf, m, () => q.what) ?? (q.single ? kernelError(61, q.what, 'no reply') : undefined));
        if (m.type === C.NLMSG_DONE) {
          const errno = doneError(buf, m);
          return end(errno > 0 ? kernelError(errno, q.what, doneExtAck(buf, m)) : undefined);
        }
        if (m.flags & C.NLM_F_DUMP_INTR) interrupted = true;
        const item = q.decode(buf, m);
        if (item !== undefined) items.push(item);
        if (q.single) end(undefined);
      },
      fail: (err: NetlinkError): void => end(err),
    };
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    sock.track(ex);
    try {
      sock.writer.reset();
      q.encode(sock.writer, seq);
      sock.sendWriter();
    } catch (e: unknown) {
      end(e instanceof NetlinkError ? e : new NetlinkError('NETLINK_INVALID_REQUEST', `${q.what.op}: ${String(e)}`, { cause: e }));
    }
  });
}
