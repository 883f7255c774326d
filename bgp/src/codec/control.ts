/**
 * The small messages: NOTIFICATION (RFC 4271 §4.5), KEEPALIVE (§4.4) and ROUTE-REFRESH
 * (RFC 2918 §3, RFC 7313 §3.2 subtypes). Header checks (length bounds) are done by
 * `readMessageHeader`; this file checks what is specific to each body.
 */
import { BgpCodecError, checkUint } from './errors.js';
import { HEADER_LEN } from './header.js';
import { ByteWriter, copyBytes, finishMessage, rd16, writeHeaderPlaceholder } from './writer.js';
import {
  MessageType,
  Notification,
  type KeepaliveMessage,
  type NotificationMessage,
  type RouteRefreshMessage,
} from './types.js';

/** RFC 7313 §3.2 ROUTE-REFRESH subtypes. */
export const RouteRefreshSubtype = { Normal: 0, BeginningOfRouteRefresh: 1, EndOfRouteRefresh: 2 } as const;

/** Decodes a NOTIFICATION (whole message). */
export function decodeNotification(b: Uint8Array): NotificationMessage {
  return { type: 'notification', code: b[HEADER_LEN]!, subcode: b[HEADER_LEN + 1]!, data: copyBytes(b, HEADER_LEN + 2) };
}

/** Encodes a NOTIFICATION. */
export function encodeNotification(m: NotificationMessage, max = 4096): Uint8Array {
  checkUint(m.code, 255, 'NOTIFICATION code');
  checkUint(m.subcode, 255, 'NOTIFICATION subcode');
  const w = new ByteWriter(HEADER_LEN + 2 + m.data.length);
  writeHeaderPlaceholder(w, MessageType.Notification);
  w.u8(m.code);
  w.u8(m.subcode);
  // A NOTIFICATION's data is truncated rather than making the message unsendable.
  w.bytes(m.data.subarray(0, max - HEADER_LEN - 2));
  return finishMessage(w, max);
}

const KEEPALIVE_BYTES = Uint8Array.of(...new Array<number>(16).fill(0xff), 0, 19, MessageType.Keepalive);

/** Encodes a KEEPALIVE (a fresh copy of the 19 octets). */
export function encodeKeepalive(): Uint8Array {
  return KEEPALIVE_BYTES.slice();
}

/** The (only) KEEPALIVE message value. */
export const KEEPALIVE: KeepaliveMessage = Object.freeze({ type: 'keepalive' }) as KeepaliveMessage;

/**
 * Decodes a ROUTE-REFRESH. Subtypes other than 0-2 are returned as is: RFC 7313 §5 says the
 * receiver ignores them. Extra octets after subtype 0 are ORFs (RFC 5291) and are ignored.
 */
export function decodeRouteRefresh(b: Uint8Array): RouteRefreshMessage {
  const subtype = b[HEADER_LEN + 2]!;
  if ((subtype === 1 || subtype === 2) && b.length !== HEADER_LEN + 4) {
    // RFC 7313 §5: ROUTE-REFRESH Message Error / Invalid Message Length, data = the message.
    throw new BgpCodecError('RouteRefreshError', `ROUTE-REFRESH subtype ${subtype} has length ${b.length}, expected 23`, {
      code: Notification.RouteRefreshMessageError,
      subcode: 1,
      data: copyBytes(b, 0),
    });
  }
  return { type: 'route-refresh', afi: rd16(b, HEADER_LEN), subtype, safi: b[HEADER_LEN + 3]! };
}

/** Encodes a ROUTE-REFRESH. */
export function encodeRouteRefresh(m: RouteRefreshMessage): Uint8Array {
  checkUint(m.afi, 0xffff, 'ROUTE-REFRESH AFI');
  checkUint(m.safi, 255, 'ROUTE-REFRESH SAFI');
  checkUint(m.subtype, 255, 'ROUTE-REFRESH subtype');
  const w = new ByteWriter(23);
  writeHeaderPlaceholder(w, MessageType.RouteRefresh);
  w.u16(m.afi);
  w.u8(m.subtype);
  w.u8(m.safi);
  return finishMessage(w, 4096);
}
