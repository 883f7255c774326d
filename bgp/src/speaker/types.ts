/**
 * Types of the speaker: the glue between sessions (../session) and the RIB (../rib). The
 * speaker owns no protocol logic of its own; it routes upward session events into the RIB,
 * and the RIB's flushes out to the sessions as packed UPDATEs.
 *
 * Invariants: every dependency with I/O (sessions, listener, clock, local-address lookup) is
 * injected through `SpeakerComponents`, so tests drive the speaker with fakes; events out are a
 * discriminated union delivered in order.
 */
import type { Family, PathAttributes } from '../codec/types.js';
import type { BestChange, BgpFilterSpec, Rib } from '../rib/index.js';
import type { ListenerMetrics } from '../session/listener.js';
import type { Clock, LocalGracefulRestart, PeerTransport, SessionConfig, SessionLogger, SessionState, Upward } from '../session/index.js';
import type { Socket } from 'node:net';

/** One peer as the speaker is configured with it. */
export interface SpeakerPeerConfig {
  address: string;
  asn: number;
  /** Default 179. */
  port?: number;
  /** Source address for outbound connections and next hop self. */
  localAddress?: string;
  /** Never connect; wait for the peer. */
  passive?: boolean;
  /** RFC 4456 client of our route reflector. */
  routeReflectorClient?: boolean;
  /** Always put our address in NEXT_HOP ("keep": never; default: self toward eBGP only). */
  nextHop?: 'auto' | 'self' | 'keep';
  /** RFC 2385 TCP-MD5 key. */
  password?: string;
  /** RFC 5082 GTSM hop count. */
  ttlSecurity?: number;
  families?: Family[];
  /** Graceful restart with this peer (RFC 4724), restart time we advertise in seconds. */
  gracefulRestart?: { restartTime: number };
  /** Cease 1 when the peer sends more than `limit` prefixes; reconnect after `restartAfterMs`. */
  maxPrefixes?: { limit: number; restartAfterMs: number };
  /** Hold time offered, seconds. */
  holdTime?: number;
  /** RFC 9687 SendHoldTime, seconds (0 = off; default max(8 min, 2 × hold time)). */
  sendHoldTime?: number;
  /** BFD with this peer (RFC 5880/5881, ms): a BFD Down drops the BGP connection at once. */
  bfd?: { minRxMs: number; minTxMs: number; multiplier: number };
  /** Calico BGPFilters applied to this peer, in order (import and export rules; rib/bgp-filter.ts). */
  filters?: BgpFilterSpec[];
  /** Free-form label shown in status (e.g. "global", "route reflector client"). */
  type?: string;
}

/** A prefix the speaker originates, with optional attributes. */
export interface OriginatedRoute {
  /** CIDR text. */
  prefix: string;
  attrs?: PathAttributes;
}

/** Init options of a speaker. */
export interface SpeakerOptions {
  routerId: string;
  asn: number;
  /** Where to listen for inbound connections; null = never. */
  listen: { address: string; port: number } | null;
  peers: SpeakerPeerConfig[];
  originate?: OriginatedRoute[];
  /** We restarted (RFC 4724 R bit on the first sessions; the RIB defers selection). */
  restarting?: boolean;
  /** Session defaults applied to every peer (timers, backoff). */
  session?: Partial<SessionConfig>;
}

/** The subset of `PeerSession` the speaker drives (a fake implements it in tests). */
export interface SessionHandle {
  readonly peerAddress: string;
  readonly transport: PeerTransport;
  readonly state: SessionState;
  on(listener: (e: Upward) => void): () => void;
  start(): void;
  /** ManualStop; `data` goes in the Cease (e.g. the RFC 8538 Hard Reset's encapsulated code). */
  stop(subcode?: number, data?: Uint8Array): void;
  reset(subcode: number, restartAfterMs?: number, data?: Uint8Array): void;
  destroy(subcode?: number, data?: Uint8Array): void;
  /** Graceful restart capability for every OPEN sent from now on (RFC 4724 §4.1 R bit cleared). */
  setGracefulRestart(gracefulRestart: LocalGracefulRestart | undefined): void;
  acceptIncoming(socket: Socket): void;
  sendUpdates(messages: readonly Uint8Array[]): boolean;
  sendEndOfRib(family: Family): boolean;
  sendRouteRefresh(family: Family, subtype?: number): boolean;
  drained(signal?: AbortSignal): Promise<void>;
  /** Closes the connections without a NOTIFICATION, as a transport failure (BFD Down; graceful restart applies). */
  dropConnection?(): void;
}

/** The subset of `BgpListener` the speaker uses. */
export interface ListenerHandle {
  listen(signal?: AbortSignal): Promise<{ address: string; port: number }>;
  register(target: SessionHandle): () => void;
  close(): Promise<void>;
}

/** Local addresses usable as our next hop toward a peer. */
export interface LocalAddresses {
  v4?: string;
  v6: string[];
}

/** Injected dependencies. */
export interface SpeakerComponents {
  /** Creates the session of one peer. */
  sessionFactory: (init: { config: SessionConfig; transport: PeerTransport }) => SessionHandle;
  /** Creates the listener (absent: the speaker never listens). */
  listenerFactory?: (init: { host: string; port: number }) => ListenerHandle;
  /** The RIB (built by the embedder with the speaker's AS, router ID, cluster ID, GR settings). */
  rib: Rib;
  clock: Clock;
  logger: SessionLogger;
  /** Our addresses toward a peer (next hop self); default: the kernel's source address choice. */
  localAddresses?: (peer: SpeakerPeerConfig) => Promise<LocalAddresses>;
  metrics?: SpeakerMetrics;
  /** BFD sessions (bfd/shell.ts `BfdService`); peers with `bfd` need it. */
  bfd?: {
    add(peer: string, local: string | undefined, config: { minRxMs: number; minTxMs: number; multiplier: number }, onUp: () => void, onDown: (diag: number) => void): () => void;
  };
}

/** The metrics the speaker updates (see metrics.ts for the prom-client factory). */
export interface SpeakerMetrics extends ListenerMetrics {
  sessionState(peer: string, state: SessionState): void;
  updatesReceived(peer: string, n: number): void;
  updatesSent(peer: string, n: number): void;
  /** Called by the collector; the speaker supplies counts on demand. */
  setPrefixSource(fn: () => Array<{ peer: string; received: number; accepted: number; advertised: number }>): void;
}

/** Events out of the speaker for the embedding code. */
export type SpeakerEvent =
  | { type: 'best'; changes: BestChange[] }
  | { type: 'peer-state'; peer: string; from: SessionState; to: SessionState }
  | { type: 'peer-down'; peer: string; reason: string };

/** Status of one peer. */
export interface PeerRuntimeStatus {
  address: string;
  asn: number;
  state: SessionState;
  /** Epoch ms of the last state change. */
  since: number;
  /** Last error or event. */
  info: string;
  type: string;
  received: number;
  accepted: number;
  advertised: number;
  updatesIn: number;
  updatesOut: number;
  withdrawalsIn: number;
}
