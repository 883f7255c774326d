/**
 * A growable byte writer for the encoders. Invariant: `len` octets of `buf` are written; the
 * buffer grows geometrically; `finish()` returns a view of exactly the written octets.
 */
import { writeIpv4, writeIpv6 } from './addr.js';
import { encodeError } from './errors.js';

const HEADER_LEN = 19;

/** Appends big-endian fields to a growing buffer. */
export class ByteWriter {
  buf: Uint8Array;
  len = 0;

  constructor(initial = 256) {
    this.buf = new Uint8Array(initial);
  }

  /** Makes room for `n` more octets. */
  reserve(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + n) size *= 2;
    const nb = new Uint8Array(size);
    nb.set(this.buf.subarray(0, this.len));
    this.buf = nb;
  }

  /** One octet. */
  u8(v: number): void {
    this.reserve(1);
    this.buf[this.len++] = v & 255;
  }

  /** Two octets, big-endian. */
  u16(v: number): void {
    this.reserve(2);
    this.buf[this.len++] = (v >>> 8) & 255;
    this.buf[this.len++] = v & 255;
  }

  /** Four octets, big-endian. */
  u32(v: number): void {
    this.reserve(4);
    this.buf[this.len++] = (v >>> 24) & 255;
    this.buf[this.len++] = (v >>> 16) & 255;
    this.buf[this.len++] = (v >>> 8) & 255;
    this.buf[this.len++] = v & 255;
  }

  /** Raw octets. */
  bytes(b: Uint8Array): void {
    this.reserve(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }

  /** An IPv4 address from text; EncodeError when invalid. */
  ipv4(text: string, field: string): void {
    this.reserve(4);
    if (!writeIpv4(text, this.buf, this.len)) throw encodeError(`${field}: "${text}" is not an IPv4 address`, { field });
    this.len += 4;
  }

  /** An IPv6 address from text; EncodeError when invalid. */
  ipv6(text: string, field: string): void {
    this.reserve(16);
    if (!writeIpv6(text, this.buf, this.len)) throw encodeError(`${field}: "${text}" is not an IPv6 address`, { field });
    this.len += 16;
  }

  /** Overwrites a 2-octet field written earlier at `at`. */
  patchU16(at: number, v: number): void {
    this.buf[at] = (v >>> 8) & 255;
    this.buf[at + 1] = v & 255;
  }

  /** Overwrites a 1-octet field written earlier at `at`. */
  patchU8(at: number, v: number): void {
    this.buf[at] = v & 255;
  }

  /** The written octets. */
  finish(): Uint8Array {
    return this.buf.subarray(0, this.len);
  }
}

/**
 * A copy of `b[start..end)` that never aliases `b` — also when `b` is a Node Buffer, whose
 * `slice` returns a view (which would keep a whole socket chunk alive from a RIB entry).
 */
export function copyBytes(b: Uint8Array, start: number, end: number = b.length): Uint8Array {
  const out = new Uint8Array(Math.max(0, Math.min(end, b.length) - start));
  out.set(b.subarray(start, start + out.length));
  return out;
}

/** Reads a big-endian u16. */
export function rd16(b: Uint8Array, p: number): number {
  return (b[p]! << 8) | b[p + 1]!;
}

/** Reads a big-endian u32 (unsigned). */
export function rd32(b: Uint8Array, p: number): number {
  return ((b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!) >>> 0;
}

/** Writes the marker and a zero length for `type`; `finishMessage` fills the length in. */
export function writeHeaderPlaceholder(w: ByteWriter, type: number): void {
  w.reserve(HEADER_LEN);
  w.buf.fill(0xff, w.len, w.len + 16);
  w.len += 16;
  w.u16(0);
  w.u8(type);
}

/** Patches the length field of a message started with `writeHeaderPlaceholder` and returns it. */
export function finishMessage(w: ByteWriter, max: number): Uint8Array {
  if (w.len > max) throw encodeError(`message of ${w.len} octets exceeds the maximum of ${max}`, { length: w.len });
  w.patchU16(16, w.len);
  return w.finish();
}
