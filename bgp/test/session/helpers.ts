/** Shared fixtures for the session tests: a configuration and OPEN builders. */
import type { Capability, OpenMessage } from '../../src/codec/types.js';
import type { SessionConfig } from '../../src/session/types.js';

/** A session configuration with test defaults (iBGP 64512, hold 90 s, no jitter). */
export function cfg(over: Partial<SessionConfig> = {}): SessionConfig {
  return {
    localAs: 64512,
    localId: '10.0.0.1',
    peerAs: 64512,
    peerAddress: '10.0.0.2',
    holdTime: 90,
    largeHoldTime: 240,
    passive: false,
    connectRetry: { baseMs: 5000, maxMs: 60_000, jitter: 0 },
    idleHold: { baseMs: 1000, maxMs: 30_000, jitter: 0 },
    autoRestart: true,
    families: ['ipv4-unicast', 'ipv6-unicast'],
    routeRefresh: true,
    enhancedRouteRefresh: false,
    extendedMessage: false,
    addPath: {},
    fourOctetAs: true,
    ...over,
  };
}

/** The peer's OPEN with test defaults (AS 64512, id 10.0.0.2, hold 90, IPv4+IPv6, 4-octet AS, route refresh). */
export function peerOpen(over: Partial<OpenMessage> = {}, extraCaps: Capability[] = []): OpenMessage {
  return {
    type: 'open',
    version: 4,
    myAs: 64512,
    holdTime: 90,
    bgpId: '10.0.0.2',
    capabilities: [
      { type: 'multiprotocol', afi: 1, safi: 1 },
      { type: 'multiprotocol', afi: 2, safi: 1 },
      { type: 'route-refresh' },
      { type: 'four-octet-as', asn: 64512 },
      ...extraCaps,
    ],
    ...over,
  };
}
