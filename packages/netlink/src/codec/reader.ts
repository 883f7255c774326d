/**
 * Reads netlink messages and rtattrs out of a received byte range without copying. Every read
 * is bounds-checked against the enclosing message or attribute: a truncated or malformed
 * length stops the walk with a decode error instead of reading past the end.
 */
import { NLMSG_HDRLEN } from './constants.js';

const align4 = (n: number): number => (n + 3) & ~3;
const utf8 = new TextDecoder();

/** Native-endian u16 at `at`. */
export function u16(b: Uint8Array, at: number): number {
  return b[at]! | (b[at + 1]! << 8);
}

/** Native-endian u32 at `at`. */
export function u32(b: Uint8Array, at: number): number {
  return (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24)) >>> 0;
}

/** Native-endian s32 at `at`. */
export function s32(b: Uint8Array, at: number): number {
  return b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24);
}

/** Big-endian u16 at `at` (ports). */
export function u16be(b: Uint8Array, at: number): number {
  return (b[at]! << 8) | b[at + 1]!;
}

/** The header of one received message; the payload is `buf[off+16 .. off+len)`. */
export interface NlMsg {
  len: number;
  type: number;
  flags: number;
  seq: number;
  portId: number;
  /** Offset of the nlmsghdr in `buf`. */
  off: number;
}

/** Thrown by the readers on malformed input; the codec's callers wrap it in a NetlinkError. */
export class DecodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DecodeError';
  }
}

/** Calls `fn` for every message in `buf[start..end)`. */
export function forEachMsg(buf: Uint8Array, start: number, end: number, fn: (m: NlMsg) => void): void {
  let off = start;
  while (off + NLMSG_HDRLEN <= end) {
    const len = u32(buf, off);
    if (len < NLMSG_HDRLEN || off + len > end) throw new DecodeError(`bad nlmsg_len ${len} at offset ${off}`);
    fn({ len, type: u16(buf, off + 4), flags: u16(buf, off + 6), seq: u32(buf, off + 8), portId: u32(buf, off + 12), off });
    off += align4(len);
  }
}

/** Calls `fn(type, dataOffset, dataLength)` for every rtattr in `buf[start..end)`. */
export function forEachAttr(buf: Uint8Array, start: number, end: number, fn: (type: number, at: number, len: number) => void): void {
  let off = start;
  while (off + 4 <= end) {
    const len = u16(buf, off);
    if (len < 4 || off + len > end) throw new DecodeError(`bad rta_len ${len} at offset ${off}`);
    fn(u16(buf, off + 2) & 0x3fff, off + 4, len - 4); // strip NLA_F_NESTED / NLA_F_NET_BYTEORDER
    off += align4(len);
  }
}

/** A NUL-terminated string attribute's text. */
export function str(buf: Uint8Array, at: number, len: number): string {
  let end = at;
  while (end < at + len && buf[end] !== 0) end++;
  return utf8.decode(buf.subarray(at, end));
}
