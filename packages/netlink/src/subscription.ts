/**
 * A typed stream of kernel notifications (link, address, route, neighbour; new / del) from a
 * socket joined to RTNLGRP_* groups. Consume it as an async iterable or through events.
 *
 * Invariant: a receive-buffer overflow is never silent — it arrives in the stream as
 * `{ type: 'overrun' }` (and as an 'overrun' event): notifications were lost and the consumer
 * must re-read the full state (a dump) before trusting its view again. The stream continues.
 */
import { EventEmitter } from 'node:events';
import { decodeEvent, type NetlinkEvent } from './codec/event.js';
import { DecodeError } from './codec/reader.js';
import type { NetlinkSocket } from './socket.js';

/** One item of a subscription: an event, or notice that events were lost. */
export type SubscriptionItem = NetlinkEvent | { type: 'overrun' };

/**
 * Events: 'event' (NetlinkEvent), 'overrun' (), 'close' (). Items are buffered for the async
 * iterator once one has been created (unbounded: consume promptly); with listeners only,
 * nothing is buffered.
 */
export class Subscription extends EventEmitter implements AsyncIterable<SubscriptionItem> {
  private readonly queue: SubscriptionItem[] = [];
  private waiter: ((r: IteratorResult<SubscriptionItem>) => void) | undefined;
  private closed = false;
  private iterating = false;

  constructor(private readonly sock: NetlinkSocket) {
    super();
    sock.onOverrun = () => this.push({ type: 'overrun' });
    sock.listen((buf, m) => {
      let ev: NetlinkEvent | undefined;
      try {
        ev = decodeEvent(buf, m);
      } catch (e: unknown) {
        if (!(e instanceof DecodeError)) throw e;
        ev = undefined; // a malformed notification is skipped; treat like a loss
        this.push({ type: 'overrun' });
      }
      if (ev) this.push(ev);
    });
  }

  private push(item: SubscriptionItem): void {
    if (this.closed) return;
    if (item.type === 'overrun') this.emit('overrun');
    else this.emit('event', item);
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = undefined;
      w({ value: item, done: false });
    } else if (this.iterating) this.queue.push(item); // buffered only for an iterator
  }

  /** Items not yet consumed through the iterator. */
  get pending(): number {
    return this.queue.length;
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
