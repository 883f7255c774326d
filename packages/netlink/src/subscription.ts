/**
 * A typed stream of kernel notifications (link, address, route, neighbour; new / del) from a
 * socket joined to RTNLGRP_* groups. Consume it as an async iterable or through events.
 *
 * Invariants:
 * - A loss is never silent: a receive-buffer overflow, a notification larger than the receive
 *   slot, a malformed notification, or an iterator queue past its bound arrives in the stream
 *   as `{ type: 'overrun' }` (and as an 'overrun' event): the consumer must re-read the full
 *   state (a dump) before trusting its view again. The stream continues.
 * - A listener that throws never stops the stream and never throws into the native read
 *   callback: every listener gets every item, and the error is emitted as 'error' when an
 *   'error' listener exists, or else thrown from its own macrotask, where Node reports it as an
 *   ordinary uncaught exception.
 * - Memory is bounded: the iterator queue holds at most `maxQueue` items; past that the queue
 *   is replaced by one overrun, as the kernel does with a full socket.
 * - Like a net.Server, an open subscription keeps its socket and the event loop alive until
 *   `close()` (or `unref()`); `Netlink.close()` closes every subscription of the client.
 */
import { EventEmitter } from 'node:events';
import { decodeEvent, type NetlinkEvent } from './codec/event.js';
import { DecodeError } from './codec/reader.js';
import type { NetlinkSocket } from './socket.js';

/** One item of a subscription: an event, or notice that events were lost. */
export type SubscriptionItem = NetlinkEvent | { type: 'overrun' };

/** Options of a subscription. */
export interface SubscriptionOptions {
  /** Most items buffered for an iterator that is not read; default 100,000. */
  maxQueue?: number;
}

const OVERRUN: SubscriptionItem = Object.freeze({ type: 'overrun' });

/**
 * Events: 'event' (NetlinkEvent), 'overrun' (), 'close' (), 'error' (a listener's error).
 * Items are buffered for the async iterator once one has been created; with listeners only,
 * nothing is buffered.
 */
export class Subscription extends EventEmitter implements AsyncIterable<SubscriptionItem> {
  private queue: SubscriptionItem[] = [];
  private waiter: ((r: IteratorResult<SubscriptionItem>) => void) | undefined;
  private closed = false;
  private iterating = false;
  private readonly maxQueue: number;

  constructor(private readonly sock: NetlinkSocket, opts: SubscriptionOptions = {}) {
    super();
    this.maxQueue = Math.max(1, opts.maxQueue ?? 100_000);
    sock.onOverrun = () => this.push(OVERRUN);
    sock.listen((buf, m) => {
      let ev: NetlinkEvent | undefined;
      try {
        ev = decodeEvent(buf, m);
      } catch (e: unknown) {
        if (!(e instanceof DecodeError)) throw e;
        ev = undefined; // a malformed notification is skipped; treat like a loss
        this.push(OVERRUN);
      }
      if (ev) this.push(ev);
    });
  }

  private push(item: SubscriptionItem): void {
    if (this.closed) return;
    if (item.type === 'overrun') this.deliver('overrun', undefined);
    else this.deliver('event', item);
    if (this.closed) return; // a listener closed it
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = undefined;
      w({ value: item, done: false });
    } else if (this.iterating) {
      if (this.queue.length >= this.maxQueue) this.queue = [OVERRUN]; // bounded, like the kernel
      else this.queue.push(item);
    }
  }

  /** Calls every listener of `name`, each isolated from the others' errors. */
  private deliver(name: 'event' | 'overrun', arg: SubscriptionItem | undefined): void {
    for (const fn of this.listeners(name) as Array<(a?: SubscriptionItem) => void>) {
      try {
        if (arg === undefined) fn.call(this);
        else fn.call(this, arg);
      } catch (e: unknown) {
        this.report(e);
      }
    }
  }

  private report(e: unknown): void {
    if (this.listenerCount('error') > 0) {
      try {
        this.emit('error', e);
        return;
      } catch (again: unknown) {
        e = again;
      }
    }
    setImmediate(() => {
      throw e;
    });
  }

  /** Items not yet consumed through the iterator. */
  get pending(): number {
    return this.queue.length;
  }

  /** Lets the process exit while this subscription is open (as net.Socket#unref). */
  unref(): this {
    this.sock.sock.setPollRef(false);
    return this;
  }

  /** Undoes `unref()`. */
  ref(): this {
    this.sock.sock.setPollRef(true);
    return this;
  }

  [Symbol.asyncIterator](): AsyncIterator<SubscriptionItem> {
    this.iterating = true;
    return {
      next: () => {
        const item = this.queue.shift();
        if (item) return Promise.resolve({ value: item, done: false });
        if (this.closed) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve) => {
          this.waiter = resolve;
        });
      },
      return: () => {
        this.close();
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }

  /** Leaves the groups and closes the socket; the iterator ends. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.sock.close();
    this.waiter?.({ value: undefined, done: true });
    this.waiter = undefined;
    this.emit('close');
  }
}
