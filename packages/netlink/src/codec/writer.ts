/**
 * Writes netlink messages in place into one growable buffer: a batch of thousands of requests
 * is one contiguous byte range, encoded without per-message allocation. Host byte order is
 * little-endian (x86_64, arm64), which is what netlink's native-endian fields use; addresses
 * inside attributes are network byte order and are copied as bytes.
 *
 * Invariants: every message and attribute starts 4-byte aligned (NLMSG_ALIGN / RTA_ALIGN);
 * `endMsg` / `endNest` patch the length of what `beginMsg` / `beginNest` opened; padding is 0.
 * Nothing wraps or truncates: a field value that is not an integer within its width, or an
 * attribute longer than rta_len's 65,535 bytes, throws a RangeError (the request layer's
 * validation names the field first; this is the backstop).
 */
import { NLMSG_HDRLEN } from './constants.js';
import { writeIpv4, writeIpv6, type IpFamily } from './ip.js';

const align4 = (n: number): number => (n + 3) & ~3;

/** Throws unless `v` is an integer in 0..max (the backstop against silent wrapping). */
function fits(v: number, max: number): void {
  if (!(Number.isInteger(v) && v >= 0 && v <= max)) throw new RangeError(`value ${String(v)} does not fit 0..${max}`);
}
const utf8 = new TextEncoder();

/** A reusable, growable netlink message writer. */
export class NlWriter {
  /** The underlying bytes; valid up to `pos`. Replaced when the writer grows. */
  buf: Uint8Array;
  /** Next write offset. */
  pos = 0;

  constructor(initial = 64 * 1024) {
    this.buf = new Uint8Array(initial);
  }

  /** Forgets everything written; keeps the buffer. */
  reset(): void {
    this.pos = 0;
  }

  /** Makes room for `n` more bytes. */
  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
  }

  /** Opens a message: writes an nlmsghdr with length 0 and returns its offset. */
  beginMsg(type: number, flags: number, seq: number): number {
    this.ensure(512);
    const start = this.pos;
    const b = this.buf;
    b.fill(0, start, start + NLMSG_HDRLEN);
    this.u16At(start + 4, type);
    this.u16At(start + 6, flags);
    this.u32At(start + 8, seq);
    this.pos = start + NLMSG_HDRLEN;
    return start;
  }

  /** Closes the message opened at `start`: patches nlmsg_len and pads to 4. */
  endMsg(start: number): void {
    this.u32At(start, this.pos - start);
    this.pad();
  }

  /** Appends `n` zero bytes (a fixed family header to be filled with the *At setters). */
  zeros(n: number): number {
    this.ensure(n);
    const at = this.pos;
    this.buf.fill(0, at, at + n);
    this.pos += n;
    return at;
  }

  /** Writes a u8 at an absolute offset already written (a header field). */
  u8At(at: number, v: number): void {
    fits(v, 0xff);
    this.buf[at] = v;
  }

  /** Writes a native-endian u16 at an absolute offset. */
  u16At(at: number, v: number): void {
    fits(v, 0xffff);
    this.buf[at] = v & 0xff;
    this.buf[at + 1] = (v >>> 8) & 0xff;
  }

  /** Writes a native-endian u32 at an absolute offset. */
  u32At(at: number, v: number): void {
    fits(v, 0xffffffff);
    const b = this.buf;
    b[at] = v & 0xff;
    b[at + 1] = (v >>> 8) & 0xff;
    b[at + 2] = (v >>> 16) & 0xff;
    b[at + 3] = (v >>> 24) & 0xff;
  }

  private pad(): void {
    const end = align4(this.pos);
    this.ensure(end - this.pos);
    while (this.pos < end) this.buf[this.pos++] = 0;
  }

  /** Writes an rtattr header for `dataLen` bytes and returns the data offset. */
  private attrHead(type: number, dataLen: number): number {
    if (dataLen > 0xffff - 4) throw new RangeError(`attribute ${type} of ${dataLen} bytes exceeds rta_len's 65,535`);
    this.ensure(4 + align4(dataLen));
    this.u16At(this.pos, 4 + dataLen);
    this.u16At(this.pos + 2, type);
    this.pos += 4;
    return this.pos;
  }

  /** An attribute holding raw bytes. */
  attrBytes(type: number, data: Uint8Array): void {
    const at = this.attrHead(type, data.length);
    this.buf.set(data, at);
    this.pos += data.length;
    this.pad();
  }

  /** An attribute holding a u8. */
  attrU8(type: number, v: number): void {
    fits(v, 0xff);
    const at = this.attrHead(type, 1);
    this.buf[at] = v;
    this.pos += 1;
    this.pad();
  }

  /** An attribute holding a native-endian u16. */
  attrU16(type: number, v: number): void {
    const at = this.attrHead(type, 2);
    this.u16At(at, v);
    this.pos += 2;
    this.pad();
  }

  /** An attribute holding a big-endian (network order) u16, e.g. a UDP port. */
  attrU16be(type: number, v: number): void {
    fits(v, 0xffff);
    const at = this.attrHead(type, 2);
    this.buf[at] = (v >>> 8) & 0xff;
    this.buf[at + 1] = v & 0xff;
    this.pos += 2;
    this.pad();
  }

  /** An attribute holding a native-endian u32. */
  attrU32(type: number, v: number): void {
    const at = this.attrHead(type, 4);
    this.u32At(at, v);
    this.pos += 4;
  }

  /** A NUL-terminated string attribute (IFLA_IFNAME, IFLA_INFO_KIND, ...). */
  attrStr(type: number, s: string): void {
    const bytes = utf8.encode(s);
    const at = this.attrHead(type, bytes.length + 1);
    this.buf.set(bytes, at);
    this.buf[at + bytes.length] = 0;
    this.pos += bytes.length + 1;
    this.pad();
  }

  /** An address attribute (4 or 16 bytes) parsed straight into the buffer; false when malformed. */
  attrIp(type: number, family: IpFamily, text: string): boolean {
    const n = family === 4 ? 4 : 16;
    const at = this.attrHead(type, n);
    const ok = family === 4 ? writeIpv4(text, this.buf, at) : writeIpv6(text, this.buf, at);
    this.pos += n;
    return ok;
  }

  /** Opens a nested attribute and returns its offset for `endNest`. */
  beginNest(type: number): number {
    const start = this.pos;
    this.attrHead(type, 0);
    return start;
  }

  /** Closes a nested attribute: patches rta_len (throws when the nest exceeds 65,535 bytes). */
  endNest(start: number): void {
    const len = this.pos - start;
    if (len > 0xffff) throw new RangeError(`nested attribute of ${len} bytes exceeds rta_len's 65,535`);
    this.u16At(start, len);
  }

  /** A copy of the bytes written so far. */
  bytes(): Uint8Array {
    return this.buf.slice(0, this.pos);
  }
}
