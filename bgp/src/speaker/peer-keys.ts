/**
 * Small pure helpers of the speaker about a peer's session: the key of its session-level
 * settings (policy knobs excluded, so changing them never resets a session) and the RIB's
 * `SessionEnd` for a session's down reason.
 */
import type { SessionEnd } from '../rib/index.js';
import type { DownReason } from '../session/index.js';
import type { SpeakerPeerConfig } from './types.js';

/** What identifies a peer's session settings: a change to it recreates the session. */
export function sessionKey(p: SpeakerPeerConfig): string {
  // Policy knobs (reflection client, next hop, max-prefix, label, BGPFilters) change without a reset.
  return JSON.stringify({ ...p, routeReflectorClient: undefined, nextHop: undefined, maxPrefixes: undefined, type: undefined, filters: undefined });
}

/** How a session ended, for the RIB (graceful restart) and for status. */
export function downInfo(r: DownReason): { end: SessionEnd; info: string } {
  switch (r.cause) {
    case 'notification-sent':
      return { end: { kind: 'notification', code: r.notification.code, subcode: r.notification.subcode }, info: `NOTIFICATION sent ${r.notification.code}/${r.notification.subcode}` };
    case 'notification-received':
      return { end: { kind: 'notification', code: r.notification.code, subcode: r.notification.subcode }, info: `NOTIFICATION received ${r.notification.code}/${r.notification.subcode}` };
    case 'connection-lost':
      return { end: { kind: 'transport' }, info: 'connection lost' };
    case 'peer-restarted':
      return { end: { kind: 'transport' }, info: 'peer restarted' };
  }
}
