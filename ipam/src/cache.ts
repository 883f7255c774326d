/**
 * A watch-fed cache of one kind (pools, the IPAM configuration, nodes), so that an allocation
 * does not read them from the datastore each time.
 *
 * Invariants: the cache is the result of a list at revision R plus every watch event after R,
 * in order (the datastore's watch contract), so it lags the datastore only by the watch's
 * delivery delay; when history is gone or the watch fails it re-lists (with backoff) and is
 * not `ready` until that list succeeds. Readers fall back to the datastore when it is not
 * ready. It stops when the signal passed to `run` aborts.
 */
import { errorMessage, type Resource } from '@tabby/api';
import type { Datastore } from '@tabby/datastore';
import type { Clock, IpamLogger } from './types.js';

/** The cached objects of one kind, by name. */
export class WatchCache<R extends Resource> {
  private items = new Map<string, R>();
  private isReady = false;
  private readyWaiters: (() => void)[] = [];

  constructor(private readonly ds: Datastore, private readonly kind: string, private readonly clock: Clock, private readonly log: IpamLogger) {}

  /** True once a list has been loaded and the watch is following it. */
  get ready(): boolean {
    return this.isReady;
  }

  /** The object named `name`, if cached. */
  get(name: string): R | undefined {
    return this.items.get(name);
  }

  /** All cached objects. */
  list(): R[] {
    return [...this.items.values()];
  }

  /** Resolves when ready (or when `signal` aborts). */
  whenReady(signal: AbortSignal): Promise<void> {
    if (this.isReady || signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      this.readyWaiters.push(resolve);
      signal.addEventListener('abort', () => resolve(), { once: true });
    });
  }

  /** Lists and watches until `signal` aborts. Never throws. */
  async run(signal: AbortSignal): Promise<void> {
    let backoff = 50;
    while (!signal.aborted) {
      try {
        await this.once(signal);
        backoff = 50;
      } catch (e: unknown) {
        if (signal.aborted) break;
        this.log.warn({ kind: this.kind, err: errorMessage(e) }, 'IPAM cache watch failed; re-listing');
        await this.clock.sleep(backoff, signal).catch(() => undefined);
        backoff = Math.min(backoff * 2, 5000);
      }
      this.isReady = false;
    }
  }

  private async once(signal: AbortSignal): Promise<void> {
    const l = await this.ds.list<R>({ kind: this.kind, signal });
    this.items = new Map(l.items.map((o) => [o.metadata.name, o]));
    this.isReady = true;
    for (const w of this.readyWaiters.splice(0)) w();
    for await (const ev of this.ds.watch<R>({ kind: this.kind, revision: l.revision, signal })) {
      switch (ev.type) {
        case 'added':
        case 'modified':
          this.items.set(ev.object.metadata.name, ev.object);
          break;
        case 'deleted':
          this.items.delete(ev.object.metadata.name);
          break;
        case 'bookmark':
          break;
        case 'gone':
          return;
      }
    }
  }
}
