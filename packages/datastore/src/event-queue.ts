/**
 * An unbounded single-consumer queue turned into an async iterator: backends push watch events
 * from callbacks (gRPC stream, HTTP chunks, in-memory writes) in the order they happen, and the
 * consumer pulls them with `for await`. Invariants: events come out in push order; after
 * `end()` (or `fail(err)`) the iterator drains what is queued and then finishes (or throws);
 * an aborted signal finishes the iterator at once and runs the `onClose` hook at most once
 * (never when the signal was aborted before construction: check `finished` before opening).
 */

/** A push side and a pull side. */
export class EventQueue<T> implements AsyncIterable<T> {
  private readonly items: T[] = [];
  private waiter: (() => void) | undefined;
  private done = false;
  private error: unknown;
  private closed = false;
  private readonly onClose: () => void;
  private readonly signal: AbortSignal | undefined;
  private readonly abortListener = (): void => this.close();

  constructor(opts: { signal?: AbortSignal; onClose?: () => void } = {}) {
    this.onClose = opts.onClose ?? ((): void => undefined);
    this.signal = opts.signal;
    // Already aborted: finished from the start, and `onClose` never runs (the owner checks
    // `finished` before it opens any stream, so there is nothing to release).
    if (this.signal?.aborted) {
      this.done = true;
      this.closed = true;
    } else this.signal?.addEventListener('abort', this.abortListener, { once: true });
  }

  /** True once the consumer or the signal closed the queue, or `end`/`fail` was called. */
  get finished(): boolean {
    return this.done;
  }

  /** Appends an event (ignored after the queue finished). */
  push(item: T): void {
    if (this.done) return;
    this.items.push(item);
    this.wake();
  }

  /** No more events: the iterator finishes after draining. */
  end(): void {
    this.finish();
  }

  /** The stream failed: the iterator throws `err` after draining. */
  fail(err: unknown): void {
    if (this.done) return;
    this.error = err;
    this.finish();
  }

  /** Stops at once: drops queued events and finishes. */
  close(): void {
    this.items.length = 0;
    this.finish();
  }

  private finish(): void {
    this.done = true;
    if (!this.closed) {
      this.closed = true;
      this.signal?.removeEventListener('abort', this.abortListener);
      this.onClose();
    }
    this.wake();
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    try {
      for (;;) {
        if (this.items.length > 0) {
          yield this.items.shift()!;
          continue;
        }
        if (this.done) {
          if (this.error !== undefined) throw this.error;
          return;
        }
        await new Promise<void>((resolve) => (this.waiter = resolve));
      }
    } finally {
      this.close();
    }
  }
}
