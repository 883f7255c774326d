/**
 * The narrow interfaces the session shell is built on, each injected through the shell's
 * components object: the codec (framing, decode to FSM events, encode), socket options for
 * TCP-MD5 and GTSM, a clock, and a logger. Defaults that need no I/O live here too.
 *
 * Invariant: nothing here performs I/O at import time; the defaults are inert (no-op socket
 * options, a silent logger) or wrap the process's own timers.
 */
import type { DecodeOptions } from '../codec/attributes-decode.js';
import type { BgpMessage, CodecContext } from '../codec/types.js';
import type { Server, Socket } from 'node:net';
import type { PeerTransport } from './connection.js';
import type { ConnId, SessionEvent } from './types.js';

/**
 * The byte stream of one BGP connection: the part of a `net.Socket` the session uses. The real
 * one is a TCP socket; tests inject a fake (test/session/fake-stream.ts) that resets in the
 * middle of a message, goes half-open, or stops reading — without sockets or root.
 */
export type ByteStream = Pick<
  Socket,
  | 'write'
  | 'cork'
  | 'uncork'
  | 'end'
  | 'destroy'
  | 'on'
  | 'once'
  | 'off'
  | 'pause'
  | 'resume'
  | 'setNoDelay'
  | 'writableLength'
  | 'writableNeedDrain'
  | 'writable'
  | 'connecting'
  | 'localAddress'
  | 'localPort'
  | 'remoteAddress'
  | 'remotePort'
>;

/**
 * Opens an outbound connection for a peer (TCP-MD5 / GTSM applied before the SYN); `error`
 * when it could not be set up (the stream is then destroyed by the caller).
 */
export type Dialer = (t: PeerTransport, opts: SocketOptions) => { socket: ByteStream; error?: string };

/** Splits a TCP byte stream into whole BGP messages (the codec's `MessageReader`). */
export interface FrameReader {
  /** RFC 8654: set once extended messages are negotiated. */
  extendedMessage: boolean;
  /** Adds a chunk and returns the complete messages; throws the codec's header error on bad framing. */
  push(chunk: Uint8Array): Uint8Array[];
}

/** What the shell needs from the codec. */
export interface SessionCodec {
  /** A new stream reader for one connection. */
  newReader(): FrameReader;
  /**
   * Decodes one framed message received on `conn` into the FSM event it raises. Never throws:
   * a decoding failure becomes `header-error` / `open-error` / `update-error` with the
   * NOTIFICATION the codec prescribes. With `rawUpdates`, UPDATEs are not decoded here.
   * `decode` carries the session's eBGP/iBGP facts (absent before the OPEN exchange).
   */
  toEvent(message: Uint8Array, conn: ConnId, ctx: CodecContext, rawUpdates: boolean, decode?: DecodeOptions): SessionEvent;
  /** The error event for an exception thrown by `FrameReader.push`. */
  errorEvent(e: unknown, conn: ConnId): SessionEvent;
  /** Encodes a message for the wire. */
  encode(message: BgpMessage, ctx: CodecContext): Uint8Array;
}

/** Address family of a socket, for the TTL options. */
export type IpFamily = 4 | 6;

/**
 * setsockopt hooks for RFC 2385 TCP-MD5 and RFC 5082 GTSM on a socket fd. The real
 * implementation is `@tabby/netlink`'s `setTcpMd5Sig` / `setTtl` / `setMinTtl`; the default
 * does nothing (and the shell reports an error when a peer asks for MD5 or GTSM without it).
 */
export interface SocketOptions {
  /** False for the no-op default: the shell then refuses peers that need MD5 or GTSM. */
  readonly available: boolean;
  /** RFC 2385: sign segments to/from `peerAddress` with `key` ('' removes the key). */
  setTcpMd5Sig(fd: number, peerAddress: string, key: string): void;
  /** RFC 5082 §3: minimum TTL / hop limit accepted. */
  setMinTtl(fd: number, family: IpFamily, ttl: number): void;
  /** TTL / hop limit of sent packets (255 for GTSM). */
  setTtl(fd: number, family: IpFamily, ttl: number): void;
  /**
   * An unconnected TCP socket whose descriptor exists before `connect()`, signed toward
   * `md5.peer` when given (RFC 2385 §2: the SYN is signed too). Absent in the no-op default.
   */
  createSocket?(family: IpFamily, md5?: { peer: string; key: string }): Socket;
  /** The descriptor of a socket or listening server (-1 when it has none). Absent in the no-op default. */
  fdOf?(s: Socket | Server): number;
}

/** The default: no socket options available. */
export const noSocketOptions: SocketOptions = {
  available: false,
  setTcpMd5Sig: () => undefined,
  setMinTtl: () => undefined,
  setTtl: () => undefined,
};

/** An opaque timer handle. */
export type TimerHandle = unknown;

/** Time and timers, injected so tests can drive them. */
export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(h: TimerHandle): void;
}

/** The process clock. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

/** The subset of a pino logger the session uses (keys: peer, err). */
export interface SessionLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** A logger that drops everything. */
export const silentLogger: SessionLogger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};
