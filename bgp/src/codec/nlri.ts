/**
 * NLRI prefix encoding (RFC 4271 §4.3, RFC 4760 §5, ADD-PATH RFC 7911 §3): a length octet in bits,
 * then the minimum number of address octets, optionally preceded by a 4-octet path identifier.
 *
 * Invariants: decoded prefixes have their host bits cleared and canonical address text; a field
 * that is truncated or carries a length beyond the family's width is an "Invalid Network Field"
 * (RFC 4271 §6.3), which RFC 7606 §5.3 answers with a session reset. `forEachNlri` is the
 * allocation-light path for ingestion: it formats each address once and hands it to a callback.
 */
import { OCTET_TEXT, formatIpv6, writeIpv4, writeIpv6 } from './addr.js';
import { checkUint, encodeError, updateError } from './errors.js';
import { UpdateSubcode, type Prefix } from './types.js';

/** Callback of `forEachNlri`: address text (host bits zero), prefix length, path id (0 without ADD-PATH). */
export type NlriCallback = (addr: string, len: number, pathId: number) => void;

const v6buf = new Uint8Array(16);

function invalidField(what: string, family?: { afi: number; safi: number }): Error {
  // RFC 4271 §6.3 Invalid Network Field; RFC 7606 §5.3: session reset (or AFI/SAFI disable).
  return updateError(UpdateSubcode.InvalidNetworkField, `malformed NLRI: ${what}`, undefined, family);
}

/** The ADD-PATH path identifier at `b[p]` (RFC 7911 §3), which a prefix must follow before `end`. */
function pathIdAt(b: Uint8Array, p: number, end: number, family?: { afi: number; safi: number }): number {
  if (p + 4 > end) throw invalidField('truncated path identifier', family);
  if (p + 4 >= end) throw invalidField('path identifier without prefix', family);
  return ((b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!) >>> 0;
}

/** The address octets of a /`len` prefix starting at `b[p]`, checked against the family's width and `end`. */
function prefixOctets(len: number, p: number, end: number, maxLen: number, family?: { afi: number; safi: number }): number {
  if (len > maxLen) throw invalidField(`prefix length ${len} exceeds ${maxLen}`, family);
  const nb = (len + 7) >> 3;
  if (p + nb > end) throw invalidField(`prefix /${len} overruns the field`, family);
  return nb;
}

/**
 * Walks the prefixes in `b[offset..end)` and calls `cb` for each; returns the count. Throws a
 * BgpCodecError (UPDATE error, Invalid Network Field) when the field is malformed — note that
 * prefixes before the error have already been handed to `cb`. `afi` 1 = IPv4, 2 = IPv6.
 */
export function forEachNlri(
  b: Uint8Array,
  offset: number,
  end: number,
  afi: 1 | 2,
  addPath: boolean,
  cb: NlriCallback,
  family?: { afi: number; safi: number },
): number {
  const maxLen = afi === 1 ? 32 : 128;
  let p = offset;
  let n = 0;
  // BIRD packs consecutive routes: cache the text of the first three octets ("10.1.2.").
  let lastHi = -1;
  let lastHiText = '';
  while (p < end) {
    let pathId = 0;
    if (addPath) {
      pathId = pathIdAt(b, p, end, family);
      p += 4;
    }
    const len = b[p++]!;
    const nb = prefixOctets(len, p, end, maxLen, family);
    if (afi === 1) {
      let v = 0;
      for (let i = 0; i < nb; i++) v |= b[p + i]! << (24 - 8 * i);
      // Host bits beyond `len` are ignored (cleared).
      v = len === 0 ? 0 : (v & (0xffffffff << (32 - len))) >>> 0;
      const hi = v >>> 8;
      if (hi !== lastHi) {
        lastHi = hi;
        lastHiText = OCTET_TEXT[hi >>> 16] + '.' + OCTET_TEXT[(hi >>> 8) & 255] + '.' + OCTET_TEXT[hi & 255] + '.';
      }
      cb(lastHiText + OCTET_TEXT[v & 255], len, pathId);
    } else {
      v6buf.fill(0);
      for (let i = 0; i < nb; i++) v6buf[i] = b[p + i]!;
      if (len & 7) v6buf[nb - 1] &= 0xff << (8 - (len & 7));
      cb(formatIpv6(v6buf, 0), len, pathId);
    }
    p += nb;
    n++;
  }
  return n;
}

/** Callback of `forEachIpv4Nlri`: the address as a 32-bit unsigned number (host bits zero), length, path id. */
export type Ipv4NlriCallback = (addr: number, len: number, pathId: number) => void;

/**
 * The fastest ingestion path: walks IPv4 prefixes in `b[offset..end)` handing each to `cb` as a
 * number — no strings, no objects. Errors as `forEachNlri`. Returns the count.
 */
export function forEachIpv4Nlri(b: Uint8Array, offset: number, end: number, addPath: boolean, cb: Ipv4NlriCallback): number {
  let p = offset;
  let n = 0;
  while (p < end) {
    let pathId = 0;
    if (addPath) {
      pathId = pathIdAt(b, p, end);
      p += 4;
    }
    const len = b[p++]!;
    const nb = prefixOctets(len, p, end, 32);
    let v = 0;
    for (let i = 0; i < nb; i++) v |= b[p + i]! << (24 - 8 * i);
    cb(len === 0 ? 0 : (v & (0xffffffff << (32 - len))) >>> 0, len, pathId);
    p += nb;
    n++;
  }
  return n;
}

/** Callback of `forEachIpv6Nlri`: the address as four unsigned 32-bit words (host bits zero), length, path id. */
export type Ipv6NlriCallback = (w0: number, w1: number, w2: number, w3: number, len: number, pathId: number) => void;

/** Word `k` (0-3) of the /`len` prefix whose `nb` address octets start at `b[p]`, host bits cleared. */
function v6Word(b: Uint8Array, p: number, nb: number, len: number, k: number): number {
  const o = 4 * k;
  if (o >= nb) return 0;
  let v = 0;
  for (let i = 0; i < 4 && o + i < nb; i++) v |= b[p + o + i]! << (24 - 8 * i);
  const bits = len - 32 * k; // > 0, since octet o is part of the prefix
  return bits >= 32 ? v >>> 0 : (v & (0xffffffff << (32 - bits))) >>> 0;
}

/**
 * The IPv6 counterpart of `forEachIpv4Nlri`: walks IPv6 prefixes in `b[offset..end)` (an
 * MP_REACH / MP_UNREACH NLRI field) handing each to `cb` as four words — no strings, no objects.
 * Errors as `forEachNlri` (family AFI 2 / SAFI 1). Returns the count.
 */
export function forEachIpv6Nlri(b: Uint8Array, offset: number, end: number, addPath: boolean, cb: Ipv6NlriCallback): number {
  const family = { afi: 2, safi: 1 };
  let p = offset;
  let n = 0;
  while (p < end) {
    let pathId = 0;
    if (addPath) {
      pathId = pathIdAt(b, p, end, family);
      p += 4;
    }
    const len = b[p++]!;
    const nb = prefixOctets(len, p, end, 128, family);
    cb(v6Word(b, p, nb, len, 0), v6Word(b, p, nb, len, 1), v6Word(b, p, nb, len, 2), v6Word(b, p, nb, len, 3), len, pathId);
    p += nb;
    n++;
  }
  return n;
}

/**
 * Checks the syntax of an NLRI / withdrawn field without decoding it (RFC 7606 §5.3); returns the
 * prefix count. Throws what `forEachNlri` throws for the same field.
 */
export function checkNlri(b: Uint8Array, offset: number, end: number, afi: 1 | 2, addPath: boolean, family?: { afi: number; safi: number }): number {
  const maxLen = afi === 1 ? 32 : 128;
  let p = offset;
  let n = 0;
  while (p < end) {
    if (addPath) {
      pathIdAt(b, p, end, family);
      p += 4;
    }
    const len = b[p++]!;
    p += prefixOctets(len, p, end, maxLen, family);
    n++;
  }
  return n;
}

/** Decodes the prefixes of an NLRI / withdrawn field into `out` (see `forEachNlri` for errors). */
export function decodeNlri(
  b: Uint8Array,
  offset: number,
  end: number,
  afi: 1 | 2,
  addPath: boolean,
  out: Prefix[],
  family?: { afi: number; safi: number },
): Prefix[] {
  if (addPath) {
    forEachNlri(b, offset, end, afi, true, (addr, len, pathId) => out.push({ afi, addr, len, pathId }), family);
  } else {
    forEachNlri(b, offset, end, afi, false, (addr, len) => out.push({ afi, addr, len }), family);
  }
  return out;
}

/** Octets `p` takes on the wire. */
export function nlriSize(p: Prefix, addPath: boolean): number {
  return (addPath ? 4 : 0) + 1 + ((p.len + 7) >> 3);
}

const scratch = new Uint8Array(16);

/** Writes one prefix at `out[off]` and returns the new offset; throws EncodeError on bad text or length. */
export function writeNlri(p: Prefix, addPath: boolean, out: Uint8Array, off: number): number {
  const max = p.afi === 1 ? 32 : 128;
  if (!Number.isInteger(p.len) || p.len < 0 || p.len > max) {
    throw encodeError(`prefix ${p.addr}/${p.len}: length must be 0-${max}`, { prefix: `${p.addr}/${p.len}` });
  }
  const ok = p.afi === 1 ? writeIpv4(p.addr, scratch, 0) : writeIpv6(p.addr, scratch, 0);
  if (!ok) throw encodeError(`prefix ${p.addr}/${p.len}: "${p.addr}" is not an IPv${p.afi === 1 ? 4 : 6} address`, { prefix: p.addr });
  if (addPath) {
    const id = checkUint(p.pathId ?? 0, 0xffffffff, 'path identifier');
    out[off] = id >>> 24;
    out[off + 1] = (id >>> 16) & 255;
    out[off + 2] = (id >>> 8) & 255;
    out[off + 3] = id & 255;
    off += 4;
  }
  out[off++] = p.len;
  const nb = (p.len + 7) >> 3;
  for (let i = 0; i < nb; i++) out[off + i] = scratch[i]!;
  if (p.len & 7) out[off + nb - 1] &= 0xff << (8 - (p.len & 7));
  return off + nb;
}

/** The family of a prefix. */
export function prefixFamily(p: Prefix): 'ipv4-unicast' | 'ipv6-unicast' {
  return p.afi === 1 ? 'ipv4-unicast' : 'ipv6-unicast';
}
