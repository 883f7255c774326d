/**
 * Polling with a deadline: the one way a test waits. Never a fixed sleep, never a duration
 * asserted; on timeout the error says what was awaited and the last value or error seen.
 */

export interface PollOptions {
  /** Give up after this many milliseconds (default 20 s). */
  timeout?: number;
  /** Pause between attempts in milliseconds (default 50). */
  interval?: number;
  /** What is being waited for, for the timeout message. */
  what?: string;
  signal?: AbortSignal;
}

/**
 * Calls `fn` until it returns a value other than `undefined`/`false` (and does not throw),
 * and returns that value. Throws when the deadline passes.
 */
export async function poll<T>(fn: () => T | Promise<T>, opts: PollOptions = {}): Promise<Exclude<T, false | undefined>> {
  const timeout = opts.timeout ?? 20_000;
  const interval = opts.interval ?? 50;
  const deadline = Date.now() + timeout;
  let last: unknown;
  for (;;) {
    opts.signal?.throwIfAborted();
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v as Exclude<T, false | undefined>;
      last = v;
    } catch (e: unknown) {
      last = e;
    }
    if (Date.now() >= deadline) {
      const detail = last instanceof Error ? last.message : JSON.stringify(last);
      throw new Error(`timed out after ${timeout} ms waiting for ${opts.what ?? 'condition'} (last: ${detail})`);
    }
    await new Promise((r) => setTimeout(r, interval));
  }
}
