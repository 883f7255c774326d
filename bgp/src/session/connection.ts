/**
 * One TCP connection of a BGP session: framing with the codec's reader, decoding into FSM
 * events, writes with backpressure (cork/uncork for bursts, `drained()`), and closing after an
 * optional NOTIFICATION. Also opens outbound sockets with a chosen source address and port,
 * with TCP-MD5 and GTSM applied to the fd before the SYN is sent.
 *
 * Invariants: after `close()` (or the socket's own close) no further event is emitted for this
 * connection, except the single `tcp-fails` when the peer or the network closed it first.
 */
import { isIP, Socket } from 'node:net';
import type { DecodeOptions } from '../codec/attributes-decode.js';
import { DEFAULT_CONTEXT, type BgpMessage, type CodecContext } from '../codec/types.js';
import type { ByteStream, Clock, FrameReader, IpFamily, SessionCodec, SocketOptions } from './ports.js';
import type { ConnId, SessionEvent, SessionNotification } from './types.js';

/** How to reach one peer. */
export interface PeerTransport {
  /** The peer's address (IPv4 or IPv6 literal). */
  peerAddress: string;
  /** Default 179. */
  peerPort?: number;
  /** Source address for outbound connections. */
  localAddress?: string;
  /** Source port for outbound connections (default: ephemeral). */
  localPort?: number;
  /** RFC 2385 TCP-MD5 key. */
  md5Password?: string;
  /** RFC 5082 GTSM: the peer is at most this many hops away (1 for a directly connected peer). */
  ttlSecurityHops?: number;
}

/** Family of an address literal. */
export function familyOfAddress(addr: string): IpFamily {
  return isIP(addr) === 6 ? 6 : 4;
}

/** Applies GTSM (RFC 5082 §3: send with TTL 255, accept only TTL ≥ 256 − hops) and MD5 to an fd. */
export function applySocketOptions(opts: SocketOptions, fd: number, t: PeerTransport, md5: boolean): void {
  const fam = familyOfAddress(t.peerAddress);
  if (md5 && t.md5Password) opts.setTcpMd5Sig(fd, t.peerAddress, t.md5Password);
  if (t.ttlSecurityHops !== undefined) {
    opts.setTtl(fd, fam, 255);
    opts.setMinTtl(fd, fam, 256 - t.ttlSecurityHops);
  }
}

/**
 * Starts an outbound connection with public `net` API only. Without TCP-MD5 or GTSM it is a
 * plain `connect` (with the configured source address and port). With them, the socket comes
 * from `opts.createSocket` — its descriptor exists before the SYN, so the MD5 key is set first
 * (RFC 2385 §2: every segment, the SYN included, is signed) and GTSM's TTLs too (RFC 5082 §3).
 * Returns the socket, or an error message when the options could not be applied.
 */
export function openOutbound(t: PeerTransport, opts: SocketOptions): { socket: Socket; error?: string } {
  const fam = familyOfAddress(t.peerAddress);
  let socket: Socket;
  if (t.md5Password || t.ttlSecurityHops !== undefined) {
    if (!opts.createSocket || !opts.fdOf) return { socket: new Socket(), error: 'TCP-MD5 / GTSM need socket options that can create sockets (netlinkSocketOptions)' };
    try {
      socket = opts.createSocket(fam, t.md5Password ? { peer: t.peerAddress, key: t.md5Password } : undefined);
      applySocketOptions(opts, opts.fdOf(socket), t, false);
    } catch (e: unknown) {
      return { socket: new Socket(), error: `socket options: ${e instanceof Error ? e.message : String(e)}` };
    }
  } else socket = new Socket();
  socket.connect({
    host: t.peerAddress,
    port: t.peerPort ?? 179,
    ...(t.localAddress !== undefined ? { localAddress: t.localAddress } : {}),
    ...(t.localPort !== undefined && t.localPort !== 0 ? { localPort: t.localPort } : {}),
  });
  return { socket };
}

/** Octets of received messages handled per event-loop turn before the connection yields. */
export const INPUT_BUDGET = 128 * 1024;

/** What a connection reports to its session. */
export interface ConnectionDeps {
  codec: SessionCodec;
  clock: Clock;
  rawUpdates: boolean;
  /** Receives the FSM events this connection raises. */
  emit(e: SessionEvent): void;
  /** Grace period before a closing socket is destroyed (ms). */
  closeGraceMs: number;
}

/** One TCP connection. */
export class Connection {
  readonly reader: FrameReader;
  receiveContext: CodecContext = DEFAULT_CONTEXT;
  sendContext: CodecContext = DEFAULT_CONTEXT;
  /** eBGP/iBGP decoding rules, set with the contexts after the OPEN exchange. */
  decodeOptions: DecodeOptions | undefined;
  private closed = false;
  /** RFC 9687: written data is waiting for the peer to read it. */
  private pendingOut = false;
  private lastProgress = 0;
  private readonly flushed = (): void => this.onFlushed();
  /** Received messages not yet delivered (from `queued` on), and octets delivered this turn. */
  private queue: Uint8Array[] = [];
  private queued = 0;
  private spent = 0;
  private yielding = false;

  constructor(
    readonly id: ConnId,
    readonly socket: ByteStream,
    readonly outbound: boolean,
    private readonly deps: ConnectionDeps,
  ) {
    this.reader = deps.codec.newReader();
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', () => undefined); // 'close' follows and reports it
    socket.on('drain', this.flushed);
    socket.on('close', () => {
      if (this.closed) return;
      this.deliver(Infinity); // what arrived before the close still counts (a NOTIFICATION, say)
      if (this.closed) return;
      this.closed = true;
      deps.emit({ type: 'tcp-fails', conn: id });
    });
    if (outbound) socket.on('connect', () => !this.closed && deps.emit({ type: 'tcp-acked', conn: id }));
  }

  /** Whether `close()` was called or the socket closed. */
  get isClosed(): boolean {
    return this.closed;
  }

  /** Processes octets read before this connection took the socket over (as if just received). */
  feed(bytes: Uint8Array): void {
    this.onData(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  }

  private onData(chunk: Buffer): void {
    if (this.closed) return;
    let messages: Uint8Array[];
    try {
      messages = this.reader.push(chunk);
    } catch (e: unknown) {
      this.deliver(Infinity);
      if (!this.closed) this.deps.emit(this.deps.codec.errorEvent(e, this.id));
      return;
    }
    if (this.queued < this.queue.length) for (const m of messages) this.queue.push(m);
    else {
      this.queue = messages;
      this.queued = 0;
    }
    if (!this.yielding) this.deliver(INPUT_BUDGET);
  }

  /**
   * Delivers queued messages until `budget` octets were handled in this event-loop turn; past
   * it, pauses the socket and goes on in the next turn, so a long burst of UPDATEs leaves room
   * for timers and other sockets (the status socket, other peers' KEEPALIVEs) in between.
   */
  private deliver(budget: number): void {
    const q = this.queue;
    while (this.queued < q.length) {
      if (this.closed) return;
      const m = q[this.queued++]!;
      this.spent += m.length;
      this.deps.emit(this.deps.codec.toEvent(m, this.id, this.receiveContext, this.deps.rawUpdates, this.decodeOptions));
      if (this.spent >= budget && this.queued < q.length) return this.yieldTurn();
    }
    this.queue = [];
    this.queued = 0;
    if (this.spent >= budget) this.yieldTurn();
  }

  private yieldTurn(): void {
    if (this.yielding || this.closed) return;
    this.yielding = true;
    this.socket.pause();
    setImmediate(() => {
      this.yielding = false;
      this.spent = 0;
      if (this.closed) return;
      this.deliver(INPUT_BUDGET);
      if (!this.yielding) this.socket.resume();
    });
  }

  /** Encodes and writes one message; false when the socket buffer is above its high-water mark. */
  send(message: BgpMessage): boolean {
    return this.write(this.deps.codec.encode(message, this.sendContext));
  }

  /** Writes one encoded message. */
  write(bytes: Uint8Array): boolean {
    if (this.closed) return false;
    const ok = this.socket.write(bytes, this.flushed);
    this.afterWrite();
    return ok;
  }

  /** Writes many encoded messages as one burst (corked); false when the caller should wait for `drained()`. */
  writeMany(messages: readonly Uint8Array[]): boolean {
    if (this.closed) return false;
    this.socket.cork();
    const last = messages.length - 1;
    for (let i = 0; i < last; i++) this.socket.write(messages[i]!);
    if (last >= 0) this.socket.write(messages[last]!, this.flushed);
    this.socket.uncork();
    this.afterWrite();
    return !this.socket.writableNeedDrain;
  }

  /** RFC 9687: output started waiting for the peer → tell the FSM (it starts the SendHoldTimer). */
  private afterWrite(): void {
    if (this.pendingOut || this.closed || this.socket.writableLength === 0) return;
    this.pendingOut = true;
    this.lastProgress = this.deps.clock.now();
    this.deps.emit({ type: 'send-progress', conn: this.id, pending: true });
  }

  /**
   * A write reached the kernel (progress). All written → the FSM stops the SendHoldTimer; still
   * waiting → it restarts it, at most once a second (a burst flushes thousands of messages).
   */
  private onFlushed(): void {
    if (this.closed || !this.pendingOut) return;
    if (this.socket.writableLength === 0) {
      this.pendingOut = false;
      this.deps.emit({ type: 'send-progress', conn: this.id, pending: false });
      return;
    }
    const now = this.deps.clock.now();
    if (now - this.lastProgress < 1000) return;
    this.lastProgress = now;
    this.deps.emit({ type: 'send-progress', conn: this.id, pending: true });
  }

  /** Resolves when the socket's write buffer has drained (or the connection closed). */
  drained(signal?: AbortSignal): Promise<void> {
    if (this.closed || !this.socket.writableNeedDrain) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const done = (): void => {
        this.socket.off('drain', done);
        this.socket.off('close', done);
        signal?.removeEventListener('abort', abort);
        resolve();
      };
      const abort = (): void => {
        this.socket.off('drain', done);
        this.socket.off('close', done);
        reject(signal?.reason);
      };
      this.socket.on('drain', done);
      this.socket.on('close', done);
      signal?.addEventListener('abort', abort, { once: true });
    });
  }

  /** Sends `notification` when given, then closes; the socket is destroyed after a grace period. */
  close(notification?: SessionNotification): void {
    if (this.closed) return;
    this.closed = true;
    const s = this.socket;
    if (notification && !s.connecting && s.writable) {
      s.end(this.deps.codec.encode({ type: 'notification', ...notification }, this.sendContext));
      const t = this.deps.clock.setTimeout(() => s.destroy(), this.deps.closeGraceMs);
      s.once('close', () => this.deps.clock.clearTimeout(t));
    } else {
      s.destroy();
    }
  }
}
