/**
 * The codec's one error class. Every decoding failure that RFC 4271 §6 / RFC 7606 answers with a
 * session reset is thrown as a `BgpCodecError` carrying the NOTIFICATION to send; nothing else
 * escapes the decoder (callers match on `code`, then send `notification`).
 *
 * Invariant: `notification.code` agrees with `code` (HeaderError → 1, OpenError → 2,
 * UpdateError → 3, RouteRefreshError → 7). `EncodeError` is a caller bug on the encoding side;
 * its notification (Cease, subcode 0) is only a placeholder.
 */
import { TabbyError } from '@tabby/api';
import { Notification } from './types.js';

/** Why the codec failed. */
export type BgpCodecErrorCode =
  /** RFC 4271 §6.1: bad marker, length or type. */
  | 'HeaderError'
  /** RFC 4271 §6.2: a malformed OPEN. */
  | 'OpenError'
  /** RFC 4271 §6.3 / RFC 7606: an UPDATE error whose prescribed action is session reset. */
  | 'UpdateError'
  /** RFC 7313 §5: a ROUTE-REFRESH of invalid length. */
  | 'RouteRefreshError'
  /** The message to encode is invalid (bad address text, too large, ...). */
  | 'EncodeError';

/** The NOTIFICATION (RFC 4271 §4.5) to send when the error ends the session. */
export interface NotificationData {
  code: number;
  subcode: number;
  data: Uint8Array;
}

const EMPTY = new Uint8Array(0);

/** A decoding (or encoding) failure; `notification` is what to send before closing. */
export class BgpCodecError extends TabbyError<BgpCodecErrorCode> {
  /** The NOTIFICATION to send to the peer. */
  readonly notification: NotificationData;
  /**
   * RFC 7606 §7.11 / RFC 4760 §7: for MP_REACH/MP_UNREACH errors the session may instead disable
   * just this AFI/SAFI; set when that alternative applies.
   */
  readonly family: { afi: number; safi: number } | undefined;

  constructor(
    code: BgpCodecErrorCode,
    message: string,
    notification: NotificationData,
    details: Record<string, unknown> = {},
    family?: { afi: number; safi: number },
  ) {
    super(code, message, details);
    this.name = 'BgpCodecError';
    this.notification = notification;
    this.family = family;
  }
}

/** A message header error (RFC 4271 §6.1). */
export function headerError(subcode: number, message: string, data: Uint8Array = EMPTY): BgpCodecError {
  return new BgpCodecError('HeaderError', message, { code: Notification.MessageHeaderError, subcode, data });
}

/** An OPEN message error (RFC 4271 §6.2). */
export function openError(subcode: number, message: string, data: Uint8Array = EMPTY): BgpCodecError {
  return new BgpCodecError('OpenError', message, { code: Notification.OpenMessageError, subcode, data });
}

/** An UPDATE message error ending the session (RFC 4271 §6.3, RFC 7606 "session reset"). */
export function updateError(
  subcode: number,
  message: string,
  data: Uint8Array = EMPTY,
  family?: { afi: number; safi: number },
): BgpCodecError {
  return new BgpCodecError('UpdateError', message, { code: Notification.UpdateMessageError, subcode, data }, {}, family);
}

/** An encoding error: the message given to the encoder cannot be put on the wire. */
export function encodeError(message: string, details: Record<string, unknown> = {}): BgpCodecError {
  return new BgpCodecError('EncodeError', message, { code: Notification.Cease, subcode: 0, data: EMPTY }, details);
}

/** Throws EncodeError unless `v` is an integer in [min, max]; returns it. */
export function checkUint(v: number, max: number, field: string, min = 0): number {
  if (!Number.isInteger(v) || v < min || v > max) throw encodeError(`${field} ${String(v)} is not an integer in ${min}..${max}`, { field });
  return v;
}

/** True when `e` is a BgpCodecError. */
export function isBgpCodecError(e: unknown): e is BgpCodecError {
  return e instanceof BgpCodecError;
}
