/**
 * Default session settings: RFC 4271 §10's suggested timer values where they fit a data-centre
 * fabric (hold 90 s, keepalive 30 s, large hold 4 min), a shorter ConnectRetry (5 s, doubling up
 * to 2 min, with the §10 jitter of 25%) so that nodes find each other quickly, and automatic
 * restart with damping of oscillating peers.
 */
import type { SessionConfig } from './types.js';

/** Everything of `SessionConfig` that has a sensible default. */
export const DEFAULT_SESSION_CONFIG: Omit<SessionConfig, 'localAs' | 'localId' | 'peerAs' | 'peerAddress'> = {
  holdTime: 90,
  largeHoldTime: 240,
  passive: false,
  connectRetry: { baseMs: 5000, maxMs: 120_000, jitter: 0.25 },
  idleHold: { baseMs: 1000, maxMs: 120_000, jitter: 0.25 },
  dampPeerOscillationsMs: 60_000,
  autoRestart: true,
  families: ['ipv4-unicast', 'ipv6-unicast'],
  routeRefresh: true,
  enhancedRouteRefresh: true,
  extendedMessage: true,
  addPath: {},
  fourOctetAs: true,
};

/** A full configuration from the four required fields plus overrides. */
export function sessionConfig(
  required: Pick<SessionConfig, 'localAs' | 'localId' | 'peerAs' | 'peerAddress'>,
  over: Partial<SessionConfig> = {},
): SessionConfig {
  return { ...DEFAULT_SESSION_CONFIG, ...required, ...over };
}
