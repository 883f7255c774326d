/**
 * The message-level entry points: `decodeMessage` (one whole message → value or BgpCodecError)
 * and `encodeMessage` (value → octets).
 *
 * Invariant: `decodeMessage` never throws anything but a BgpCodecError — any other exception
 * (a bug) is converted into an UPDATE/OPEN/header error of the message type, so a session only
 * has to handle one error type; the fuzz test enforces that no such conversion ever fires.
 */
import type { DecodeOptions } from './attributes-decode.js';
import { decodeNotification, decodeRouteRefresh, encodeKeepalive, encodeNotification, encodeRouteRefresh, KEEPALIVE } from './control.js';
import { BgpCodecError, headerError } from './errors.js';
import { copyBytes } from './writer.js';
import { HEADER_LEN, maxMessageLength, readMessageHeader } from './header.js';
import { decodeOpen, encodeOpen } from './open.js';
import { decodeUpdate } from './update-decode.js';
import { encodeUpdate } from './update-encode.js';
import {
  HeaderSubcode,
  MessageType,
  Notification,
  type BgpMessage,
  type CodecContext,
  type KeepaliveMessage,
  type NotificationMessage,
  type OpenMessage,
  type RouteRefreshMessage,
  type UpdateOutcome,
} from './types.js';

/** A decoded UPDATE: its RFC 7606 outcome (`action` accept / treat-as-withdraw). */
export type DecodedUpdate = { type: 'update' } & UpdateOutcome;

/** What `decodeMessage` returns: a message value, or for an UPDATE its outcome. */
export type DecodedMessage = OpenMessage | NotificationMessage | KeepaliveMessage | RouteRefreshMessage | DecodedUpdate;

/**
 * Decodes one whole message (header included, e.g. from `MessageReader`). Throws BgpCodecError
 * with the NOTIFICATION to send when the message calls for closing the session.
 */
export function decodeMessage(b: Uint8Array, ctx: CodecContext, opts: DecodeOptions = {}): DecodedMessage {
  if (b.length < HEADER_LEN) throw headerError(HeaderSubcode.BadMessageLength, `message of ${b.length} octets is shorter than a header`);
  const h = readMessageHeader(b, 0, ctx.extendedMessage);
  if (h.length !== b.length) {
    throw headerError(HeaderSubcode.BadMessageLength, `length field ${h.length} disagrees with the ${b.length} octets given`, copyBytes(b, 16, 18));
  }
  try {
    switch (h.type) {
      case MessageType.Open:
        return decodeOpen(b);
      case MessageType.Update: {
        const o = decodeUpdate(b, ctx, opts);
        return o.action === 'accept'
          ? { type: 'update', action: 'accept', update: o.update, discarded: o.discarded }
          : { type: 'update', action: 'treat-as-withdraw', update: o.update, issues: o.issues };
      }
      case MessageType.Notification:
        return decodeNotification(b);
      case MessageType.Keepalive:
        return KEEPALIVE;
      case MessageType.RouteRefresh:
        return decodeRouteRefresh(b);
    }
  } catch (e: unknown) {
    if (e instanceof BgpCodecError) throw e;
    // A decoder bug must not escape as another exception type: report it as unspecific.
    const [code, n] =
      h.type === MessageType.Open
        ? (['OpenError', Notification.OpenMessageError] as const)
        : h.type === MessageType.Update
          ? (['UpdateError', Notification.UpdateMessageError] as const)
          : (['HeaderError', Notification.MessageHeaderError] as const);
    throw new BgpCodecError(code, `internal decoding error: ${e instanceof Error ? e.message : String(e)}`, { code: n, subcode: 0, data: new Uint8Array(0) }, {}, undefined);
  }
}

/** Encodes any message; throws BgpCodecError 'EncodeError' when it cannot be put on the wire. */
export function encodeMessage(m: BgpMessage, ctx: CodecContext): Uint8Array {
  switch (m.type) {
    case 'open':
      return encodeOpen(m);
    case 'update':
      return encodeUpdate(m, ctx);
    case 'notification':
      return encodeNotification(m, maxMessageLength(ctx.extendedMessage));
    case 'keepalive':
      return encodeKeepalive();
    case 'route-refresh':
      return encodeRouteRefresh(m);
  }
}
