/**
 * OPEN (RFC 4271 §4.2) with Capabilities optional parameters (RFC 5492) and the extended
 * optional parameters length (RFC 9072).
 *
 * Invariants: a decoded OPEN has version 4, a non-zero BGP identifier and AS, a hold time of 0 or
 * ≥ 3, and only Capabilities parameters; anything else throws 'OpenError' with the RFC 4271 §6.2
 * subcode. Capabilities may come several per parameter or one each, in any mix.
 */
import { formatIpv4 } from './addr.js';
import { checkUint, encodeError, openError } from './errors.js';
import { decodeCapabilities, encodeCapability } from './capabilities.js';
import { HEADER_LEN } from './header.js';
import { ByteWriter, finishMessage, rd16, writeHeaderPlaceholder } from './writer.js';
import { MessageType, OpenSubcode, type Capability, type OpenMessage } from './types.js';

/** Optional parameter type of Capabilities (RFC 5492 §4). */
export const PARAM_CAPABILITIES = 2;

/** Encoding choices for `encodeOpen`. */
export interface OpenEncodeOptions {
  /** One Capabilities parameter per capability (some old speakers expect it); default all in one. */
  capabilityPerParameter?: boolean;
  /** Force the RFC 9072 extended parameter format even when the parameters fit 255 octets. */
  extendedParameters?: boolean;
}

/** Decodes an OPEN message (`b` is the whole message, header included). */
export function decodeOpen(b: Uint8Array): OpenMessage {
  const end = b.length;
  const version = b[HEADER_LEN]!;
  if (version !== 4) {
    // RFC 4271 §6.2: data is the largest locally supported version.
    throw openError(OpenSubcode.UnsupportedVersionNumber, `unsupported BGP version ${version}`, Uint8Array.of(0, 4));
  }
  const myAs = rd16(b, 20);
  const holdTime = rd16(b, 22);
  const bgpId = formatIpv4(b, 24);
  // RFC 7607 §2: AS 0 in an OPEN is Bad Peer AS.
  if (myAs === 0) throw openError(OpenSubcode.BadPeerAs, 'OPEN carries AS 0');
  // RFC 4271 §6.2: hold time 1 or 2 seconds is unacceptable.
  if (holdTime === 1 || holdTime === 2) throw openError(OpenSubcode.UnacceptableHoldTime, `hold time ${holdTime} s is not 0 or ≥ 3`);
  // RFC 6286 §2.2: the BGP identifier is a non-zero 4-octet value.
  if (bgpId === '0.0.0.0') throw openError(OpenSubcode.BadBgpIdentifier, 'BGP identifier 0.0.0.0');
  let optLen = b[28]!;
  let p = 29;
  let extended = false;
  // RFC 9072 §2: Non-Ext OP Len 255 and Non-Ext OP Type 255 announce the extended format.
  if (optLen === 255 && end > 29 && b[29] === 255) {
    if (end < 32) throw openError(0, 'truncated extended optional parameters length');
    optLen = rd16(b, 30);
    p = 32;
    extended = true;
  }
  if (p + optLen !== end) throw openError(0, `optional parameters length ${optLen} disagrees with message length ${end}`);
  const capabilities: Capability[] = [];
  const hdr = extended ? 3 : 2;
  while (p < end) {
    if (p + hdr > end) throw openError(0, 'truncated optional parameter header');
    const type = b[p]!;
    const len = extended ? rd16(b, p + 1) : b[p + 1]!;
    p += hdr;
    if (p + len > end) throw openError(0, `optional parameter ${type} overruns the message`);
    // RFC 4271 §6.2 / RFC 5492: only Capabilities (2) is supported.
    if (type !== PARAM_CAPABILITIES) throw openError(OpenSubcode.UnsupportedOptionalParameter, `unsupported optional parameter ${type}`);
    decodeCapabilities(b, p, p + len, capabilities);
    p += len;
  }
  return { type: 'open', version, myAs, holdTime, bgpId, capabilities };
}

/** Encodes an OPEN message (header included). */
export function encodeOpen(msg: OpenMessage, opts: OpenEncodeOptions = {}): Uint8Array {
  if (!Number.isInteger(msg.myAs) || msg.myAs < 0 || msg.myAs > 0xffff) throw encodeError(`OPEN myAs ${msg.myAs} must be 0-65535 (AS_TRANS 23456 for 4-octet ASNs)`);
  checkUint(msg.version, 255, 'OPEN version');
  checkUint(msg.holdTime, 0xffff, 'OPEN hold time');
  const params: Uint8Array[] = [];
  const groups = opts.capabilityPerParameter ? msg.capabilities.map((c) => [c]) : [msg.capabilities];
  for (const g of groups) {
    if (g.length === 0) continue;
    const w = new ByteWriter(64);
    for (const c of g) encodeCapability(c, w);
    params.push(w.finish());
  }
  const fits = params.every((v) => v.length <= 255) && params.reduce((n, v) => n + 2 + v.length, 0) <= 255;
  const extended = opts.extendedParameters === true || !fits;
  const w = new ByteWriter(128);
  writeHeaderPlaceholder(w, MessageType.Open);
  w.u8(msg.version);
  w.u16(msg.myAs);
  w.u16(msg.holdTime);
  w.ipv4(msg.bgpId, 'OPEN bgpId');
  if (extended) {
    // RFC 9072 §2
    w.u8(255);
    w.u8(255);
    w.u16(params.reduce((n, v) => n + 3 + v.length, 0));
    for (const v of params) { w.u8(PARAM_CAPABILITIES); w.u16(v.length); w.bytes(v); }
  } else {
    w.u8(params.reduce((n, v) => n + 2 + v.length, 0));
    for (const v of params) { w.u8(PARAM_CAPABILITIES); w.u8(v.length); w.bytes(v); }
  }
  return finishMessage(w, 4096);
}

