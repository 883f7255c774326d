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
import { getSystemErrorName } from 'node:util';
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

/** Internal libuv TCP handle of a net.Socket (used to bind before connect so options can be set on the fd). */
interface TcpHandle {
  bind(addr: string, port: number): number;
  bind6(addr: string, port: number, flags: number): number;
  readonly fd: number;
}

function tcpHandle(s: Socket): TcpHandle | undefined {
  const h = (s as unknown as { _handle?: Partial<TcpHandle> | null })._handle;
  return h && typeof h.bind === 'function' && typeof h.bind6 === 'function' ? (h as TcpHandle) : undefined;
}

/** The fd of a socket or server handle, or -1. */
export function handleFd(s: object): number {
  const h = (s as { _handle?: { fd?: unknown } | null })._handle;
  return typeof h?.fd === 'number' ? h.fd : -1;
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
 * Starts an outbound connection. The libuv handle is bound explicitly (source address/port, or
 * the wildcard) right after `connect()` queues the connection, which creates the fd before the
 * SYN: MD5 must be set before connect (RFC 2385 §2: every segment, the SYN included, is signed).
 * Returns the socket, or an error message when binding or the options failed.
 */
export function openOutbound(t: PeerTransport, opts: SocketOptions): { socket: Socket; error?: string } {
  const socket = new Socket();
  const fam = familyOfAddress(t.peerAddress);
  socket.connect({ host: t.peerAddress, port: t.peerPort ?? 179 });
  const h = tcpHandle(socket);
  if (!h) return { socket, error: 'net.Socket has no TCP handle to bind; cannot set a source address or socket options' };
  const local = t.localAddress ?? (fam === 6 ? '::' : '0.0.0.0');
  const rc = fam === 6 ? h.bind6(local, t.localPort ?? 0, 0) : h.bind(local, t.localPort ?? 0);
  if (rc !== 0) return { socket, error: `bind ${local}:${t.localPort ?? 0}: ${getSystemErrorName(rc)}` };
  try {
    applySocketOptions(opts, h.fd, t, true);
  } catch (e: unknown) {
    return { socket, error: `socket options: ${e instanceof Error ? e.message : String(e)}` };
  }
  return { socket };
}

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
      this.deps.emit(this.deps.codec.errorEvent(e, this.id));
      return;
    }
    for (const m of messages) {
      if (this.closed) return;
      this.deps.emit(this.deps.codec.toEvent(m, this.id, this.receiveContext, this.deps.rawUpdates, this.decodeOptions));
    }
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
