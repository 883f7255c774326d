/**
 * The session's codec port (ports.ts) implemented with the codec in ../codec: framing with
 * `MessageReader`, decoding with `decodeMessage`, encoding with `encodeMessage`. Maps every
 * `BgpCodecError` to the FSM error event of RFC 4271 §8.1 (BGPHeaderErr, BGPOpenMsgErr,
 * UpdateMsgErr) with the NOTIFICATION the codec prescribes.
 *
 * Invariant: `toEvent` and `errorEvent` never throw.
 */
import { BgpCodecError } from '../codec/errors.js';
import { MessageReader } from '../codec/header.js';
import { decodeMessage, encodeMessage } from '../codec/message.js';
import { CeaseSubcode, MessageType, Notification } from '../codec/types.js';
import type { SessionCodec } from './ports.js';
import type { ConnId, SessionEvent } from './types.js';

/** Maps a decoding failure on `conn` to its FSM event. */
function errorEvent(e: unknown, conn: ConnId): SessionEvent {
  if (e instanceof BgpCodecError) {
    const notification = e.notification;
    switch (e.code) {
      case 'HeaderError':
        return { type: 'header-error', conn, notification };
      case 'OpenError':
        return { type: 'open-error', conn, notification };
      case 'UpdateError':
      case 'RouteRefreshError': // RFC 7313 §5: NOTIFICATION ROUTE-REFRESH Message Error, then close
      case 'EncodeError':
        return { type: 'update-error', conn, notification };
    }
  }
  // Not a codec error (cannot happen per the codec's invariant): reset with Cease / Out of Resources.
  return { type: 'header-error', conn, notification: { code: Notification.Cease, subcode: CeaseSubcode.OutOfResources, data: new Uint8Array(0) } };
}

/** The session codec built on ../codec. */
export function defaultSessionCodec(): SessionCodec {
  return {
    newReader: () => new MessageReader(),
    errorEvent,
    encode: encodeMessage,
    toEvent(message, conn, ctx, rawUpdates, decode): SessionEvent {
      if (rawUpdates && message[18] === MessageType.Update) return { type: 'update', conn, payload: { kind: 'raw', bytes: message } };
      try {
        const m = decodeMessage(message, ctx, decode);
        switch (m.type) {
          case 'open':
            return { type: 'open', conn, message: m };
          case 'keepalive':
            return { type: 'keepalive', conn };
          case 'notification':
            return { type: 'notification', conn, message: m };
          case 'route-refresh':
            return { type: 'route-refresh', conn, message: m };
          case 'update':
            return {
              type: 'update',
              conn,
              payload: {
                kind: 'decoded',
                outcome: m.action === 'accept' ? { action: 'accept', update: m.update, discarded: m.discarded } : { action: 'treat-as-withdraw', update: m.update, issues: m.issues },
              },
            };
        }
      } catch (e: unknown) {
        return errorEvent(e, conn);
      }
    },
  };
}
