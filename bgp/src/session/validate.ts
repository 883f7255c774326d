/**
 * Validation of a peer's session configuration and transport, done once when a `PeerSession`
 * is created so that a bad value is reported with the field and peer it belongs to instead of
 * surfacing later as an encoding failure in the middle of an OPEN exchange.
 */
import { isIP } from 'node:net';
import { TabbyError } from '@tabby/api';
import type { PeerTransport } from './connection.js';
import { idToNumber } from './open.js';
import type { SessionConfig } from './types.js';

/** Error codes of the session layer. */
export type SessionErrorCode = 'SESSION_CONFIG_INVALID';

/** A configuration error (code `SESSION_CONFIG_INVALID`); `details.field` names the field, `details.reason` says what is wrong. */
export class SessionConfigError extends TabbyError<SessionErrorCode> {
  constructor(peer: string, field: string, message: string) {
    super('SESSION_CONFIG_INVALID', `BGP peer ${peer}: ${field}: ${message}`, { peer, field, reason: message });
    this.name = 'SessionConfigError';
  }
}

const isAsn = (n: number): boolean => Number.isInteger(n) && n >= 1 && n <= 0xffffffff;
const isPort = (n: number): boolean => Number.isInteger(n) && n >= 0 && n <= 65535;

/** Throws `SessionConfigError` for the first invalid field. */
export function validateSession(config: SessionConfig, t: PeerTransport): void {
  const peer = t.peerAddress;
  const bad = (field: string, message: string): never => {
    throw new SessionConfigError(peer, field, message);
  };
  if (!isAsn(config.localAs)) bad('localAs', `${config.localAs} is not an AS number 1..4294967295`);
  if (!isAsn(config.peerAs)) bad('peerAs', `${config.peerAs} is not an AS number 1..4294967295`);
  // RFC 4271 §4.2: the BGP Identifier is a nonzero 4-octet value, written as a dotted quad.
  if (idToNumber(config.localId) === 0) bad('localId', `${JSON.stringify(config.localId)} is not a nonzero dotted-quad router ID`);
  // RFC 4271 §4.2: Hold Time is 0 or at least 3 seconds.
  const h = config.holdTime;
  if (!Number.isInteger(h) || h < 0 || h > 65535 || h === 1 || h === 2) bad('holdTime', `${h} must be 0 or 3..65535 seconds`);
  if (!Number.isInteger(config.largeHoldTime) || config.largeHoldTime < 3) bad('largeHoldTime', `${config.largeHoldTime} must be at least 3 seconds`);
  const sh = config.sendHoldTime;
  if (sh !== undefined && !(Number.isInteger(sh) && sh >= 0 && sh <= 0xffffffff / 1000)) bad('sendHoldTime', `${sh} must be 0 (off) or a whole number of seconds (RFC 9687)`);
  if (config.localAs > 0xffff && !config.fourOctetAs) bad('fourOctetAs', `AS ${config.localAs} needs the 4-octet AS capability (RFC 6793)`);
  for (const [field, b] of [['connectRetry', config.connectRetry], ['idleHold', config.idleHold]] as const) {
    if (!(b.baseMs > 0 && b.maxMs >= b.baseMs && b.jitter >= 0 && b.jitter < 1)) bad(field, 'needs 0 < baseMs <= maxMs and 0 <= jitter < 1');
  }
  if (isIP(peer) === 0) bad('peerAddress', `${JSON.stringify(peer)} is not an IP address`);
  if (t.localAddress !== undefined && isIP(t.localAddress) !== isIP(peer)) {
    bad('localAddress', `${t.localAddress} is not an address of the same family as the peer`);
  }
  if (t.peerPort !== undefined && (!isPort(t.peerPort) || t.peerPort === 0)) bad('peerPort', `${t.peerPort} is not a port 1..65535`);
  if (t.localPort !== undefined && !isPort(t.localPort)) bad('localPort', `${t.localPort} is not a port 0..65535`);
  // RFC 2385 keys: Linux takes at most 80 octets (TCP_MD5SIG_MAXKEYLEN).
  if (t.md5Password !== undefined && Buffer.byteLength(t.md5Password) > 80) bad('md5Password', 'is longer than 80 octets');
  if (t.ttlSecurityHops !== undefined && !(Number.isInteger(t.ttlSecurityHops) && t.ttlSecurityHops >= 1 && t.ttlSecurityHops <= 255)) {
    bad('ttlSecurityHops', `${t.ttlSecurityHops} must be 1..255 (RFC 5082)`);
  }
}
