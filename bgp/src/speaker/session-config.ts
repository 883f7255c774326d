/**
 * What a peer's session is built from: the `SessionConfig` and `PeerTransport` the speaker gives
 * the session factory for one `SpeakerPeerConfig`, and the validation of a whole peer list
 * before any of it is applied (so a reload is all or nothing).
 *
 * Pure: no sockets, no clocks. Invariant: `validatePeers` accepts a list exactly when building
 * every peer's session from it would not throw (the session's own `validateSession`, plus the
 * speaker's uniqueness rule).
 */
import { SessionConfigError, validateSession, DEFAULT_SESSION_CONFIG, type LocalGracefulRestart, type PeerTransport, type SessionConfig } from '../session/index.js';
import { DEFAULT_FAMILIES } from './graceful-restart.js';
import type { SpeakerOptions, SpeakerPeerConfig } from './types.js';

/** The session settings of peer `p` under the speaker's options. */
export function sessionConfigFor(opts: SpeakerOptions, p: SpeakerPeerConfig, gracefulRestart: LocalGracefulRestart | undefined): SessionConfig {
  return {
    ...DEFAULT_SESSION_CONFIG,
    ...opts.session,
    localAs: opts.asn,
    localId: opts.routerId,
    peerAs: p.asn,
    peerAddress: p.address,
    holdTime: p.holdTime ?? opts.session?.holdTime ?? DEFAULT_SESSION_CONFIG.holdTime,
    passive: p.passive ?? false,
    families: p.families ?? [...DEFAULT_FAMILIES],
    ...(p.sendHoldTime !== undefined ? { sendHoldTime: p.sendHoldTime } : {}),
    ...(gracefulRestart ? { gracefulRestart } : {}),
  };
}

/** How to reach peer `p`. */
export function transportFor(p: SpeakerPeerConfig): PeerTransport {
  return { peerAddress: p.address, peerPort: p.port, localAddress: p.localAddress, md5Password: p.password, ttlSecurityHops: p.ttlSecurity };
}

/** The key a peer is known by: address, plus the port when it is not 179 (two peers may share an address). */
export function peerId(p: Pick<SpeakerPeerConfig, 'address' | 'port'>): string {
  return p.port === undefined || p.port === 179 ? p.address : `${p.address}:${p.port}`;
}

/** One problem in a peer list; `field` is the session's name for it (`localAddress`, `peerPort`, ...). */
export interface PeerProblem {
  index: number;
  peer: string;
  field: string;
  message: string;
}

/** Every problem that would stop the list from being applied (empty when it can be applied). */
export function validatePeers(opts: SpeakerOptions, peers: readonly SpeakerPeerConfig[]): PeerProblem[] {
  const out: PeerProblem[] = [];
  const seen = new Set<string>();
  peers.forEach((p, index) => {
    const id = peerId(p);
    if (seen.has(id)) out.push({ index, peer: id, field: 'address', message: `duplicate peer ${id}` });
    seen.add(id);
    try {
      validateSession(sessionConfigFor(opts, p, undefined), transportFor(p));
    } catch (e: unknown) {
      if (!(e instanceof SessionConfigError)) throw e;
      out.push({ index, peer: id, field: String(e.details.field), message: String(e.details.reason) });
    }
  });
  return out;
}
