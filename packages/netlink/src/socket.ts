/**
 * A request/response netlink socket: sends batches of acknowledged requests in as few sendto
 * calls as the receive buffer allows, matches every ack to its request by sequence number, runs
 * dumps, and hands unsolicited messages (notifications) to a listener.
 *
 * Invariants:
 * - Every sent request ends in exactly one outcome: its ack (success or typed kernel error), or
 *   a socket-level failure (overrun, close, abort) reported for every request still waiting.
 * - At most `maxInFlight` acks are outstanding per send, so the kernel never drops an ack for
 *   lack of receive-buffer room (each ack costs ~1 KiB of rcvbuf truesize).
 * - rtnetlink handles requests synchronously inside sendto, so replies are normally drained
 *   right after the send; libuv polling covers anything that arrives later.
 * - No datagram is dropped silently: one larger than the receive slot (a link with hundreds of
 *   altnames, a huge multipath route) grows the slot to fit and is reported as a loss
 *   (NETLINK_TRUNCATED to the requests waiting, which dumps and gets retry; an overrun to a
 *   subscription), so the re-read sees it.
 * - Buffers start small (a few hundred KiB per socket) and grow on demand: many idle
 *   subscriptions cost little memory.
 */
import { NetlinkError, kernelError, type RequestSummary } from './errors.js';
import * as C from './codec/constants.js';
import { decodeAck } from './codec/nlmsg.js';
import { DecodeError, forEachMsg, s32, type NlMsg } from './codec/reader.js';
import { NlWriter } from './codec/writer.js';
import type { NativeSocket } from './native.js';

/** Options of a NetlinkSocket. */
export interface SocketOptions {
  /** Receive buffer in bytes (SO_RCVBUFFORCE, falling back to SO_RCVBUF); default 32 MiB. */
  rcvbuf?: number;
  /** Send buffer in bytes (SO_SNDBUFFORCE / SO_SNDBUF); default 4 MiB. */
  sndbuf?: number;
  /** Requests per sendto; default min(4096, what the receive buffer holds acks for). */
  batchSize?: number;
}

/** Something waiting for replies carrying sequence numbers in [lo, hi). */
interface Exchange {
  lo: number;
  hi: number;
  onMessage(buf: Uint8Array, m: NlMsg): void;
  fail(err: NetlinkError): void;
}

const OVERRUN_ERRNO = 105; // ENOBUFS
const EMSGSIZE = 90;
/** Netlink datagrams are normally at most 32 KiB (the kernel's dump size); start with 64 KiB slots. */
const MIN_SLOT = 64 * 1024;
/** A single netlink message cannot usefully exceed this (the kernel's own allocations stay far below). */
const MAX_SLOT = 64 * 1024 * 1024;
/** recvmmsg reads at most 64 slots per call: the largest useful receive buffer is 64 slots. */
const MAX_SLOTS = 64;

/** Why messages were lost: the receive buffer overflowed, or one datagram exceeded the slot. */
export type LossReason = 'enobufs' | 'truncated';

/** A netlink socket with request tracking, over an injected native (or fake) transport. */
export class NetlinkSocket {
  private seq = 1;
  private readonly exchanges: Exchange[] = [];
  /** Receive slot: the largest datagram a drain can take. Grows when one was larger. */
  private slot = MIN_SLOT;
  private rx = new Uint8Array(4 * MIN_SLOT); // grows to MAX_SLOTS slots while drains fill it
  private pollRx = new Uint8Array(2 * MIN_SLOT);
  private polling = false;
  private closed = false;
  /** Writer reused by every request (encode and send happen in one synchronous step). */
  readonly writer = new NlWriter(64 * 1024);
  /** Most acks outstanding per sendto. */
  readonly maxInFlight: number;
  /** Most bytes per sendto. */
  readonly maxSendBytes: number;
  /** Unsolicited messages (seq 0 / unknown seq): notifications on a subscribed socket. */
  onUnsolicited: ((buf: Uint8Array, m: NlMsg) => void) | undefined;
  /** Messages were lost (receive-buffer overflow, or a datagram over the slot): re-read the full state. */
  onOverrun: ((reason: LossReason) => void) | undefined;

  constructor(readonly sock: NativeSocket, opts: SocketOptions = {}) {
    sock.setOption(C.SOL_NETLINK, C.NETLINK_EXT_ACK, 1);
    sock.setOption(C.SOL_NETLINK, C.NETLINK_CAP_ACK, 1); // errors echo only the header
    trySet(sock, C.NETLINK_GET_STRICT_CHK); // kernel-side dump filters (Linux >= 4.20)
    sock.setOption(C.SOL_NETLINK, C.NETLINK_NO_ENOBUFS, 0); // overruns must be reported
    const rcv = bufSize(sock, C.SO_RCVBUFFORCE, C.SO_RCVBUF, opts.rcvbuf ?? 32 << 20);
    const snd = bufSize(sock, C.SO_SNDBUFFORCE, C.SO_SNDBUF, opts.sndbuf ?? 4 << 20);
    // The kernel doubles the value set and reports the doubled figure; ~1 KiB truesize per ack.
    // An explicit batchSize is taken as is (tests use it to provoke overruns).
    this.maxInFlight = opts.batchSize ?? Math.max(1, Math.min(4096, Math.floor(rcv / 2048)));
    this.maxSendBytes = Math.max(64 * 1024, Math.floor(snd / 2) - 64);
  }

  /** The next sequence number block of `n`, never wrapping inside a block and never 0. */
  takeSeq(n: number): number {
    if (this.seq + n >= 0xffffffff) this.seq = 1;
    const lo = this.seq;
    this.seq += n;
    return lo;
  }

  /** Sends `writer.buf[0..writer.pos)` and processes whatever is already answered. */
  sendWriter(): void {
    if (this.closed) throw new NetlinkError('NETLINK_CLOSED', 'netlink socket is closed');
    try {
      this.sock.send(this.writer.buf, 0, this.writer.pos);
    } catch (e: unknown) {
      const errno = (e as { errno?: unknown }).errno;
      throw new NetlinkError('NETLINK_SYSCALL', `netlink send of ${this.writer.pos} bytes failed: ${e instanceof Error ? e.message : String(e)}`, { errno: typeof errno === 'number' ? errno : undefined, cause: e });
    }
    this.pump();
  }

  /** Delivers unsolicited messages (notifications) to `fn` and keeps the socket polled. */
  listen(fn: (buf: Uint8Array, m: NlMsg) => void): void {
    this.onUnsolicited = fn;
    this.pump();
  }

  /** Registers an exchange; it is removed when it calls `done`. */
  track(ex: Exchange): void {
    this.exchanges.push(ex);
  }

  /** Forgets an exchange (completed, failed or aborted); late replies are then ignored. */
  untrack(ex: Exchange): void {
    const i = this.exchanges.indexOf(ex);
    if (i >= 0) this.exchanges.splice(i, 1);
    this.updatePolling();
  }

  /** Drains the socket synchronously and dispatches every message. */
  pump(): void {
    while (!this.closed) {
      const n = this.sock.drain(this.rx, this.slot);
      if (n === 0) break;
      if (n < 0) {
        this.handleRecvError(-n);
        continue;
      }
      const full = n > this.rx.length - this.slot;
      this.dispatch(this.rx, n);
      // A drain that filled the buffer means more was queued: read more slots per syscall.
      if (full && this.rx.length < MAX_SLOTS * this.slot) this.rx = new Uint8Array(Math.min(this.rx.length * 2, MAX_SLOTS * this.slot));
    }
    this.updatePolling();
  }

  /** Bytes held by this socket's receive and send buffers (for tests and memory accounting). */
  get bufferBytes(): number {
    return this.rx.length + this.pollRx.length + this.writer.buf.length;
  }

  private updatePolling(): void {
    const want = !this.closed && (this.exchanges.length > 0 || this.onUnsolicited !== undefined);
    if (want && !this.polling) {
      this.sock.startPoll(this.pollRx, this.slot, (n) => this.onPoll(n));
      this.polling = true;
    } else if (!want && this.polling) {
      this.sock.stopPoll();
      this.polling = false;
    }
  }

  private onPoll(n: number): void {
    try {
      if (this.closed) return;
      if (n < 0) this.handleRecvError(-n);
      else this.dispatch(this.pollRx, n);
      this.pump();
    } catch (e: unknown) {
      // Never throw into the addon's libuv callback: a throwing listener surfaces as an ordinary
      // uncaught exception on the next tick instead.
      process.nextTick(() => {
        throw e;
      });
    }
  }

  private handleRecvError(errno: number): void {
    if (errno === EMSGSIZE) {
      this.growSlot(this.sock.truncated);
      this.failAll(new NetlinkError('NETLINK_TRUNCATED', `a netlink message of ${this.sock.truncated} bytes exceeded the receive slot; the slot now holds ${this.slot} bytes: re-read`, { errno }));
      this.onOverrun?.('truncated');
      return;
    }
    if (errno !== OVERRUN_ERRNO) {
      this.failAll(new NetlinkError('NETLINK_SYSCALL', `netlink receive failed with errno ${errno}`, { errno }));
      return;
    }
    // Replies may be lost: nobody waiting can know whether theirs arrived.
    this.failAll(new NetlinkError('NETLINK_OVERRUN', 'netlink receive buffer overflowed (ENOBUFS): replies were lost; re-read the full state', { errno }));
    this.onOverrun?.('enobufs');
  }

  /** Grows the receive slot to hold a datagram of `size` bytes (and the buffers to hold slots). */
  private growSlot(size: number): void {
    let slot = this.slot;
    while (slot < size && slot < MAX_SLOT) slot *= 2;
    if (slot === this.slot) return;
    this.slot = slot;
    this.rx = new Uint8Array(2 * slot);
    this.pollRx = new Uint8Array(2 * slot);
    if (this.polling) this.sock.startPoll(this.pollRx, this.slot, (n) => this.onPoll(n));
  }

  private failAll(err: NetlinkError): void {
    for (const ex of this.exchanges.splice(0)) ex.fail(err);
  }

  private dispatch(buf: Uint8Array, n: number): void {
    try {
      forEachMsg(buf, 0, n, (m) => {
        const ex = m.seq === 0 ? undefined : this.find(m.seq);
        if (ex) ex.onMessage(buf, m);
        else if (this.onUnsolicited) this.onUnsolicited(buf, m);
      });
    } catch (e: unknown) {
      if (!(e instanceof DecodeError)) throw e;
      this.failAll(new NetlinkError('NETLINK_DECODE', `malformed netlink reply: ${e.message}`, { cause: e }));
    }
  }

  private find(seq: number): Exchange | undefined {
    for (const ex of this.exchanges) if (seq >= ex.lo && seq < ex.hi) return ex;
    return undefined;
  }

  /** Closes the socket; everything still waiting fails with NETLINK_CLOSED. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.failAll(new NetlinkError('NETLINK_CLOSED', 'netlink socket closed with requests in flight'));
    this.sock.close();
    this.polling = false;
  }

  /** True once closed. */
  get isClosed(): boolean {
    return this.closed;
  }
}

function trySet(sock: NativeSocket, opt: number): void {
  try {
    sock.setOption(C.SOL_NETLINK, opt, 1);
  } catch {
    /* older kernel: filters are applied client-side */
  }
}

function bufSize(sock: NativeSocket, force: number, plain: number, bytes: number): number {
  try {
    sock.setOption(C.SOL_SOCKET, force, bytes); // needs CAP_NET_ADMIN
  } catch {
    sock.setOption(C.SOL_SOCKET, plain, bytes); // capped by net.core.{r,w}mem_max
  }
  return sock.getOption(C.SOL_SOCKET, plain);
}

/** The NLMSG_DONE payload's error (negative errno when a dump failed), 0 when absent. */
export function doneError(buf: Uint8Array, m: NlMsg): number {
  return m.len >= C.NLMSG_HDRLEN + 4 ? -s32(buf, m.off + C.NLMSG_HDRLEN) : 0;
}

/** Turns an ack into an error (or undefined for success) for the request it answers. */
export function ackError(buf: Uint8Array, m: NlMsg, request: () => RequestSummary): NetlinkError | undefined {
  const ack = decodeAck(buf, m);
  return ack.errno === 0 ? undefined : kernelError(ack.errno, request(), ack.extAck);
}
