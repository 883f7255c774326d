/**
 * Message framing (RFC 4271 §4.1, §6.1; RFC 8654 extended messages).
 *
 * Invariants: every message handed out by `MessageReader` has passed `readMessageHeader` — a
 * marker of 16 × 0xff, a length within 19..4096 (65535 with the extended message capability, but
 * never above 4096 for OPEN and KEEPALIVE, RFC 8654 §4), at least the type's minimum length, and
 * a known type — and is exactly `length` octets long, header included.
 */
import { headerError } from './errors.js';
import { copyBytes } from './writer.js';
import { HeaderSubcode, MessageType, type MessageTypeCode } from './types.js';

/** Octets in the fixed header: marker (16), length (2), type (1). */
export const HEADER_LEN = 19;
/** RFC 4271 §4: maximum message size without RFC 8654. */
export const MAX_MESSAGE_LEN = 4096;
/** RFC 8654 §4: maximum message size with the extended message capability. */
export const MAX_EXTENDED_MESSAGE_LEN = 65535;

/** RFC 4271 §4.2-4.5, RFC 2918 §3: minimum length of each message type. */
const MIN_LEN: Record<number, number> = {
  [MessageType.Open]: 29,
  [MessageType.Update]: 23,
  [MessageType.Notification]: 21,
  [MessageType.Keepalive]: 19,
  [MessageType.RouteRefresh]: 23,
};

/** The header fields of one message. */
export interface MessageHeader {
  /** Whole message length, header included. */
  length: number;
  type: MessageTypeCode;
}

/** The largest message the peer may send (and we may send) under the negotiated capabilities. */
export function maxMessageLength(extendedMessage: boolean): number {
  return extendedMessage ? MAX_EXTENDED_MESSAGE_LEN : MAX_MESSAGE_LEN;
}

/**
 * Validates and reads the header at `b[off..off+19)` (the caller guarantees 19 octets). Throws
 * BgpCodecError 'HeaderError' with the RFC 4271 §6.1 subcode and data.
 */
export function readMessageHeader(b: Uint8Array, off: number, extendedMessage: boolean): MessageHeader {
  for (let i = 0; i < 16; i++) {
    // RFC 4271 §6.1: marker not all ones → Connection Not Synchronized.
    if (b[off + i] !== 0xff) throw headerError(HeaderSubcode.ConnectionNotSynchronized, 'message marker is not all ones');
  }
  const length = (b[off + 16]! << 8) | b[off + 17]!;
  const type = b[off + 18]!;
  if (type < MessageType.Open || type > MessageType.RouteRefresh) {
    // RFC 4271 §6.1: unknown type → Bad Message Type, data = the type octet.
    throw headerError(HeaderSubcode.BadMessageType, `unknown message type ${type}`, Uint8Array.of(type));
  }
  // RFC 8654 §4: OPEN and KEEPALIVE stay within 4096 octets even with extended messages.
  const ext = extendedMessage && type !== MessageType.Open && type !== MessageType.Keepalive;
  const max = maxMessageLength(ext);
  if (length < HEADER_LEN || length > max) {
    // RFC 4271 §6.1: Bad Message Length, data = the erroneous length field.
    throw headerError(HeaderSubcode.BadMessageLength, `message length ${length} is outside ${HEADER_LEN}..${max}`, copyBytes(b, off + 16, off + 18));
  }
  const min = MIN_LEN[type]!;
  if (length < min || (type === MessageType.Keepalive && length !== HEADER_LEN)) {
    // RFC 4271 §6.1: too short for its type, or a KEEPALIVE that is not exactly 19 octets.
    throw headerError(HeaderSubcode.BadMessageLength, `message type ${type} cannot be ${length} octets long`, copyBytes(b, off + 16, off + 18));
  }
  return { length, type: type as MessageTypeCode };
}

/**
 * Splits a TCP byte stream into whole BGP messages. Feed it chunks with `push`; it returns the
 * complete messages (header included) and keeps the remainder. Returned views may share memory
 * with the pushed chunk, so do not reuse a chunk's buffer after pushing it. A framing error is
 * thrown as BgpCodecError 'HeaderError'; the reader is then unusable (the session must close).
 */
export class MessageReader {
  /** Set once RFC 8654 extended messages are negotiated (after the OPEN exchange). */
  extendedMessage: boolean;
  /** Chunks of an incomplete message, joined only once it is complete (O(n) for tiny chunks). */
  private pending: Uint8Array[] = [];
  private pendingLen = 0;
  /** Octets needed before parsing can make progress: 19, or the pending message's length. */
  private need = HEADER_LEN;
  private failed = false;

  constructor(opts: { extendedMessage?: boolean } = {}) {
    this.extendedMessage = opts.extendedMessage ?? false;
  }

  /** Octets held that do not yet form a whole message. */
  get buffered(): number {
    return this.pendingLen;
  }

  /** Adds a chunk and returns every message it completes, in order. */
  push(chunk: Uint8Array): Uint8Array[] {
    if (this.failed) throw headerError(HeaderSubcode.ConnectionNotSynchronized, 'stream already failed framing');
    try {
      return this.split(chunk);
    } catch (e: unknown) {
      this.failed = true;
      throw e;
    }
  }

  private split(chunk: Uint8Array): Uint8Array[] {
    const out: Uint8Array[] = [];
    // A message begun in an earlier chunk: join only its own octets (not the whole new chunk).
    let off = this.pendingLen > 0 ? this.completePending(chunk, out) : 0;
    if (off < 0) return out; // the chunk was consumed and the message is still incomplete
    let length = HEADER_LEN;
    while (chunk.length - off >= HEADER_LEN) {
      length = readMessageHeader(chunk, off, this.extendedMessage).length;
      if (chunk.length - off < length) break;
      out.push(chunk.subarray(off, off + length));
      off += length;
      length = HEADER_LEN;
    }
    if (off < chunk.length) {
      const rest = copyBytes(chunk, off);
      this.pending = [rest];
      this.pendingLen = rest.length;
      this.need = rest.length >= HEADER_LEN ? length : HEADER_LEN;
    }
    return out;
  }

  /**
   * Feeds the head of `chunk` to the pending message until it is whole (pushed to `out`).
   * Returns the offset in `chunk` after it, or -1 when `chunk` ran out first.
   */
  private completePending(chunk: Uint8Array, out: Uint8Array[]): number {
    let off = 0;
    for (;;) {
      const take = Math.min(this.need - this.pendingLen, chunk.length - off);
      this.pending.push(chunk.subarray(off, off + take));
      this.pendingLen += take;
      off += take;
      if (this.pendingLen < this.need) return -1;
      const joined = new Uint8Array(this.pendingLen);
      let at = 0;
      for (const part of this.pending) {
        joined.set(part, at);
        at += part.length;
      }
      if (joined.length === HEADER_LEN) {
        const length = readMessageHeader(joined, 0, this.extendedMessage).length;
        if (length > HEADER_LEN) {
          this.pending = [joined];
          this.need = length;
          continue; // the header is known now: gather the body
        }
      }
      this.pending = [];
      this.pendingLen = 0;
      this.need = HEADER_LEN;
      out.push(joined);
      return off;
    }
  }
}
