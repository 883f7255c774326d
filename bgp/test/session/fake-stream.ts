/**
 * The fault-injecting fake of the session's `ByteStream` (ports.ts), and a manual clock. The
 * fake plays the remote end: `peerSend` delivers octets to us, `reset` is an RST in the middle
 * of anything, `stopReading` closes the peer's receive window (our writes then back up, as on
 * a real socket), and simply never sending again is a half-open connection.
 */
import { EventEmitter } from 'node:events';
import { MessageReader } from '../../src/codec/header.js';
import { decodeMessage, type DecodedMessage } from '../../src/codec/message.js';
import { DEFAULT_CONTEXT } from '../../src/codec/types.js';
import type { ByteStream, Clock } from '../../src/session/ports.js';

/** A clock whose time moves only with `advance`. */
export class ManualClock implements Clock {
  private t = 1_000_000;
  private seq = 0;
  private readonly timers = new Map<number, { at: number; fn: () => void }>();
  now(): number {
    return this.t;
  }
  setTimeout(fn: () => void, ms: number): number {
    this.seq += 1;
    this.timers.set(this.seq, { at: this.t + ms, fn });
    return this.seq;
  }
  clearTimeout(h: unknown): void {
    this.timers.delete(h as number);
  }
  /** Moves time forward by `ms`, firing due timers in order. */
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      const due = [...this.timers.entries()].filter(([, v]) => v.at <= end).sort((a, b) => a[1].at - b[1].at)[0];
      if (!due) break;
      this.timers.delete(due[0]);
      this.t = Math.max(this.t, due[1].at);
      due[1].fn();
    }
    this.t = end;
  }
}

type WriteCb = (err?: Error | null) => void;

/** The fake stream; cast with `asStream()` where a `ByteStream` is expected. */
export class FakeStream extends EventEmitter {
  writableLength = 0;
  writableNeedDrain = false;
  writable = true;
  connecting = false;
  destroyed = false;
  localAddress = '10.0.0.1';
  localPort = 179;
  remoteAddress = '10.0.0.2';
  remotePort = 40000;
  /** Octets the peer has read from us. */
  private readonly reader = new MessageReader();
  readonly received: DecodedMessage[] = [];
  private reading = true;
  private readonly backlog: Array<{ b: Uint8Array; cb: WriteCb | undefined }> = [];

  asStream(): ByteStream {
    return this as unknown as ByteStream;
  }

  write(b: Uint8Array, cb?: WriteCb): boolean {
    if (this.destroyed) return false;
    if (this.reading) {
      this.deliver(b);
      if (cb) queueMicrotask(() => cb());
      return true;
    }
    this.backlog.push({ b, cb });
    this.writableLength += b.length;
    this.writableNeedDrain = this.writableLength > 16_384;
    return !this.writableNeedDrain;
  }
  cork(): void {}
  uncork(): void {}
  setNoDelay(): this {
    return this;
  }
  pause(): this {
    return this;
  }
  resume(): this {
    return this;
  }
  end(b?: Uint8Array, cb?: WriteCb): this {
    if (b) this.write(b, cb);
    this.writable = false;
    return this;
  }
  destroy(): this {
    if (this.destroyed) return this;
    this.destroyed = true;
    this.writable = false;
    queueMicrotask(() => this.emit('close', false));
    return this;
  }

  private deliver(b: Uint8Array): void {
    for (const m of this.reader.push(b)) this.received.push(decodeMessage(m, DEFAULT_CONTEXT));
  }

  /** The peer sends `b` to us. */
  peerSend(b: Uint8Array): void {
    if (!this.destroyed) this.emit('data', Buffer.from(b));
  }
  /** The peer's stack resets the connection (RST). */
  reset(): void {
    if (this.destroyed) return;
    this.emit('error', Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }));
    this.destroy();
  }
  /** The peer stops reading: our writes back up from now on. */
  stopReading(): void {
    this.reading = false;
  }
  /** The peer reads everything that backed up. */
  resumeReading(): void {
    this.reading = true;
    for (const { b, cb } of this.backlog.splice(0)) {
      this.deliver(b);
      cb?.();
    }
    this.writableLength = 0;
    if (this.writableNeedDrain) {
      this.writableNeedDrain = false;
      this.emit('drain');
    }
  }
}
