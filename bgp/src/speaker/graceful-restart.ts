/**
 * The speaker's graceful restart choices, pure: the capability it advertises toward a peer
 * (RFC 4724 §3, RFC 8538 N bit) and the Cease it sends when it ends a session itself (RFC 8538
 * §5: wrapped in a Hard Reset when both sides sent the N bit, so the peer flushes our routes
 * instead of keeping them as stale).
 *
 * Invariant: the R bit is set only while `restarting` says our restart is still pending; the N
 * bit is advertised whenever graceful restart is configured for the peer.
 */
import { CeaseSubcode, Notification, type Family } from '../codec/types.js';
import { familyOf, type Rib } from '../rib/index.js';
import type { LocalGracefulRestart, Negotiated } from '../session/index.js';
import type { SpeakerPeerConfig } from './types.js';

/** Families a peer negotiates when its configuration names none. */
export const DEFAULT_FAMILIES: readonly Family[] = ['ipv4-unicast', 'ipv6-unicast'];

/**
 * Our graceful restart capability toward `p` from the current state: R bit = `restarting`
 * (RFC 4724 §4.1), F bits as the RIB's forwarding-state setting, N bit (RFC 8538 §2) on.
 */
export function localGracefulRestart(rib: Rib, p: SpeakerPeerConfig, restarting: boolean): LocalGracefulRestart | undefined {
  if (!p.gracefulRestart) return undefined;
  const families = p.families ?? [...DEFAULT_FAMILIES];
  const cap = rib.gracefulRestartCapability(families);
  const forwarding =
    cap.type === 'graceful-restart' ? families.filter((f) => cap.families.some((x) => x.forwardingState && familyOf(x.afi, x.safi) === f)) : families;
  return { restartTime: p.gracefulRestart.restartTime, restarting, notification: true, forwarding };
}

/** Cease subcodes that end a session for good (RFC 8538 §5: sent as Hard Reset once N is exchanged). */
const HARD: ReadonlySet<number> = new Set([CeaseSubcode.MaximumPrefixesReached, CeaseSubcode.AdministrativeShutdown, CeaseSubcode.PeerDeconfigured]);

/**
 * The Cease to send for `subcode`: as is, or — when we advertised N (`weSentN`) and the peer's
 * OPEN had it too — Cease / Hard Reset whose data is the encapsulated ErrCode and Subcode
 * (RFC 8538 §3).
 */
export function ceaseFor(negotiated: Negotiated | undefined, weSentN: boolean, subcode: number): { subcode: number; data?: Uint8Array } {
  const theySentN = negotiated?.peerOpen.capabilities.some((c) => c.type === 'graceful-restart' && c.notification) === true;
  if (!weSentN || !theySentN || !HARD.has(subcode)) return { subcode };
  return { subcode: CeaseSubcode.HardReset, data: Uint8Array.of(Notification.Cease, subcode) };
}
