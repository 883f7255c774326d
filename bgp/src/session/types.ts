/**
 * Types of the BGP session layer (RFC 4271 §8): configuration, FSM states, the events fed to the
 * pure reducers, the actions they return for the shell to execute, and the `Negotiated` record
 * an OPEN exchange produces.
 *
 * Invariants: every union here is discriminated by `type` (or `cause`) and handled by an
 * exhaustive switch; durations inside actions are milliseconds, hold/keepalive times inside
 * `Negotiated` are seconds as on the wire. Connection ids are opaque strings: the reducer names
 * the outbound connections it asks for (`o<n>`), the shell names the inbound ones it accepts
 * (`i<n>`), so the two never collide.
 */
import type {
  BgpMessage,
  CodecContext,
  Family,
  NotificationMessage,
  OpenMessage,
  RouteRefreshMessage,
  UpdateOutcome,
} from '../codec/types.js';
import type { DecodeOptions } from '../codec/attributes-decode.js';

/** RFC 4271 §8.2.2 states. */
export type SessionState = 'Idle' | 'Connect' | 'Active' | 'OpenSent' | 'OpenConfirm' | 'Established';

/** Progress order of the states (used to report the most advanced of two connections). */
export const STATE_ORDER: Readonly<Record<SessionState, number>> = {
  Idle: 0,
  Connect: 1,
  Active: 2,
  OpenSent: 3,
  OpenConfirm: 4,
  Established: 5,
};

/** An opaque connection id: `o<n>` for connections the reducer asked for, `i<n>` for accepted ones. */
export type ConnId = string;

/** The timers of RFC 4271 §8 (plus the idle-hold timer of §8.1.1 used for automatic restart, and RFC 9687's SendHoldTimer). */
export type TimerName = 'connect-retry' | 'hold' | 'keepalive' | 'idle-hold' | 'send-hold';

/** ADD-PATH mode per family (RFC 7911 §4): what we are willing to do. */
export type AddPathMode = 'receive' | 'send' | 'both';

/** Graceful restart capability we advertise (RFC 4724 §3). */
export interface LocalGracefulRestart {
  /** Restart Time in seconds (12 bits, at most 4095). */
  restartTime: number;
  /** R bit: we are restarting now (set on the first session after our own restart). */
  restarting: boolean;
  /** RFC 8538 N bit. */
  notification?: boolean;
  /** Families for which we preserved forwarding state across our restart (F bit). */
  forwarding: Family[];
}

/** Exponential reconnect backoff (RFC 4271 §8.1.1 IdleHoldTime / DampPeerOscillations, §10 jitter). */
export interface BackoffConfig {
  /** First delay in ms. */
  baseMs: number;
  /** Upper bound of the delay in ms. */
  maxMs: number;
  /** Fraction taken off at random: delay * (1 - jitter * r), r in [0,1). RFC 4271 §10 uses 0.25. */
  jitter: number;
}

/** Static configuration of one peer's session. */
export interface SessionConfig {
  /** Our AS number (4-octet capable). */
  localAs: number;
  /** Our BGP identifier, dotted quad. */
  localId: string;
  /** The peer's configured AS. */
  peerAs: number;
  /** The peer's address (for logs; the shell connects to it). */
  peerAddress: string;
  /** Hold time we offer, seconds: 0 or 3..65535 (RFC 4271 §4.2). */
  holdTime: number;
  /** KEEPALIVE interval in seconds when set; otherwise negotiated hold time / 3 (RFC 4271 §10). */
  keepaliveTime?: number;
  /**
   * RFC 9687 SendHoldTime, seconds: how long our output may make no progress (the peer not
   * reading) in OpenConfirm/Established before the session is dropped with NOTIFICATION 8.
   * Default: the larger of 8 minutes and twice the negotiated hold time; 0 turns it off. Not
   * used when the negotiated hold time is 0 (no keepalives: a silent session is intended).
   */
  sendHoldTime?: number;
  /** Hold time while waiting for the peer's OPEN, seconds (RFC 4271 §8.2.2 suggests 4 minutes). */
  largeHoldTime: number;
  /** Never initiate connections; wait for the peer (RFC 4271 §8.1.1 PassiveTcpEstablishment). */
  passive: boolean;
  /** ConnectRetryTimer backoff (first value is ConnectRetryTime). */
  connectRetry: BackoffConfig;
  /** Delay before an automatic restart after an error (IdleHoldTimer), grown per consecutive failure. */
  idleHold: BackoffConfig;
  /**
   * RFC 4271 §8.1.1 DampPeerOscillations: when set, the failure count (and so the idle-hold
   * delay) is reset only after the session stayed Established this long (ms); when unset it is
   * reset on every Established.
   */
  dampPeerOscillationsMs?: number;
  /** Restart automatically after errors (AutomaticStart after the idle-hold timer). */
  autoRestart: boolean;
  /** Families to negotiate (RFC 4760). */
  families: Family[];
  /** Advertise ROUTE-REFRESH (RFC 2918). */
  routeRefresh: boolean;
  /** Advertise enhanced route refresh (RFC 7313). */
  enhancedRouteRefresh: boolean;
  /** Advertise extended messages (RFC 8654). */
  extendedMessage: boolean;
  /** ADD-PATH modes we offer per family (RFC 7911). */
  addPath: Partial<Record<Family, AddPathMode>>;
  /** Graceful restart to advertise (RFC 4724), or none. */
  gracefulRestart?: LocalGracefulRestart;
  /** Advertise 4-octet AS (RFC 6793); required when localAs > 65535. */
  fourOctetAs: boolean;
}

/** The peer's graceful restart capability as received (RFC 4724 §3). */
export interface PeerGracefulRestart {
  restartTime: number;
  restarting: boolean;
  notification: boolean;
  families: Array<{ family: Family; forwardingState: boolean }>;
}

/** What an OPEN exchange settled (RFC 4271 §4.2, RFC 5492 and the capability RFCs). */
export interface Negotiated {
  localAs: number;
  /** The peer's AS, from the 4-octet AS capability when present (RFC 6793 §4.1). */
  peerAs: number;
  localId: string;
  peerId: string;
  /** localAs === peerAs. */
  ibgp: boolean;
  /** Negotiated hold time in seconds; 0 = no hold timer and no keepalives (RFC 4271 §4.4). */
  holdTime: number;
  /** KEEPALIVE interval in seconds; 0 when holdTime is 0. */
  keepaliveTime: number;
  /** Families both sides advertised (IPv4 unicast implied when the peer sent no MP capability). */
  families: Family[];
  fourOctetAs: boolean;
  routeRefresh: boolean;
  enhancedRouteRefresh: boolean;
  extendedMessage: boolean;
  /** ADD-PATH per direction (RFC 7911 §5). */
  addPath: { receive: Family[]; send: Family[] };
  /** The peer's graceful restart capability, when it sent one (RFC 4724). */
  peerGracefulRestart: PeerGracefulRestart | undefined;
  /** Both sides advertised graceful restart. */
  gracefulRestart: boolean;
  /** Codec context for decoding what the peer sends. */
  receiveContext: CodecContext;
  /** Codec context for encoding what we send. */
  sendContext: CodecContext;
  /** The peer's OPEN as received. */
  peerOpen: OpenMessage;
}

/** How a received UPDATE reaches the FSM: decoded by the shell, or raw for a speaker that decodes itself. */
export type UpdatePayload = { kind: 'decoded'; outcome: UpdateOutcome } | { kind: 'raw'; bytes: Uint8Array };

/** The NOTIFICATION fields an error event carries (the codec's `BgpCodecError.notification`). */
export interface SessionNotification {
  code: number;
  subcode: number;
  data: Uint8Array;
}

/** Events fed to the reducers (RFC 4271 §8.1; event numbers in comments). */
export type SessionEvent =
  /** 1 ManualStart / 4 ManualStart_with_PassiveTcpEstablishment (per `config.passive`). */
  | { type: 'manual-start' }
  /** 2 ManualStop: Cease with this subcode (default Administrative Shutdown, RFC 4486). */
  | { type: 'manual-stop'; subcode?: number; data?: Uint8Array }
  /** 3 AutomaticStart / 5 with passive TCP establishment. */
  | { type: 'automatic-start' }
  /** 8 AutomaticStop: Cease with `subcode`, then restart after `restartAfterMs` (or the idle-hold backoff). */
  | { type: 'automatic-stop'; subcode: number; restartAfterMs?: number; data?: Uint8Array }
  /** 9 ConnectRetryTimer_Expires, 10 HoldTimer_Expires, 11 KeepaliveTimer_Expires, 13 IdleHoldTimer_Expires. */
  | { type: 'timer'; timer: TimerName; conn?: ConnId }
  /** 16 Tcp_CR_Acked: our outbound connection is up. */
  | { type: 'tcp-acked'; conn: ConnId }
  /** 14 TcpConnection_Valid + 17 TcpConnectionConfirmed: an inbound connection from this peer. */
  | { type: 'tcp-incoming'; conn: ConnId }
  /** 18 TcpConnectionFails. */
  | { type: 'tcp-fails'; conn: ConnId }
  /** 19 BGPOpen. */
  | { type: 'open'; conn: ConnId; message: OpenMessage }
  /** 21 BGPHeaderErr: with the NOTIFICATION to send. */
  | { type: 'header-error'; conn: ConnId; notification: SessionNotification }
  /** 22 BGPOpenMsgErr: with the NOTIFICATION to send. */
  | { type: 'open-error'; conn: ConnId; notification: SessionNotification }
  /** 23 OpenCollisionDump (the peer reducer raises it; exposed for tests). */
  | { type: 'collision-dump'; conn: ConnId }
  /** 24 NotifMsgVerErr / 25 NotifMsg (the reducer tells them apart by code). */
  | { type: 'notification'; conn: ConnId; message: NotificationMessage }
  /**
   * RFC 9687: the connection's output state changed — `pending` when written data waits for the
   * peer to read it (raised when it starts waiting and, throttled, on each progress while it
   * waits), false once everything was handed to the kernel.
   */
  | { type: 'send-progress'; conn: ConnId; pending: boolean }
  /** 26 KeepAliveMsg. */
  | { type: 'keepalive'; conn: ConnId }
  /** 27 UpdateMsg. */
  | { type: 'update'; conn: ConnId; payload: UpdatePayload }
  /** 28 UpdateMsgErr: with the NOTIFICATION to send (RFC 7606 session reset). */
  | { type: 'update-error'; conn: ConnId; notification: SessionNotification }
  /** ROUTE-REFRESH received (RFC 2918 §4, RFC 7313). */
  | { type: 'route-refresh'; conn: ConnId; message: RouteRefreshMessage }
  /**
   * Not an RFC 4271 event: replaces the graceful restart capability every later OPEN carries
   * (RFC 4724 §4.1: the R bit is cleared once our restart is over). Connections that already
   * sent their OPEN are not affected.
   */
  | { type: 'set-graceful-restart'; gracefulRestart: LocalGracefulRestart | undefined };

/** Why an Established session (or an attempt) ended. */
export type DownReason =
  /** We sent this NOTIFICATION (error, stop, collision). */
  | { cause: 'notification-sent'; notification: SessionNotification }
  /** The peer sent this NOTIFICATION. */
  | { cause: 'notification-received'; notification: SessionNotification }
  /** The TCP connection failed or was closed by the peer. */
  | { cause: 'connection-lost' }
  /** A new connection from a graceful-restart-capable peer replaced the session (RFC 4724 §4.2). */
  | { cause: 'peer-restarted' };

/** Both ends of an Established TCP connection (IPv4-mapped IPv6 addresses shown as IPv4, no zone). */
export interface Endpoints {
  localAddress: string;
  localPort: number;
  remoteAddress: string;
  remotePort: number;
}

/** Upward events for the speaker (delivered by the shell in order). */
export type Upward =
  /** `endpoints` is filled in by the shell from the connection's socket (absent from the pure reducer). */
  | { type: 'established'; conn: ConnId; negotiated: Negotiated; endpoints?: Endpoints }
  | { type: 'update'; conn: ConnId; payload: UpdatePayload }
  | { type: 'route-refresh'; conn: ConnId; message: RouteRefreshMessage }
  | { type: 'down'; conn: ConnId; reason: DownReason; negotiated: Negotiated }
  | { type: 'state'; from: SessionState; to: SessionState };

/** Actions the reducers return, executed in order by the shell. */
export type SessionAction =
  /** Open an outbound TCP connection to the peer, named `conn`. */
  | { type: 'connect'; conn: ConnId }
  /** Encode and write `message` on `conn`. */
  | { type: 'send'; conn: ConnId; message: BgpMessage }
  /** Write `notification` (when present), then close `conn`. */
  | { type: 'close'; conn: ConnId; notification?: SessionNotification }
  /** (Re)arm a timer; `conn` scopes hold/keepalive timers to one connection. */
  | { type: 'arm-timer'; timer: TimerName; ms: number; conn?: ConnId }
  | { type: 'cancel-timer'; timer: TimerName; conn?: ConnId }
  /**
   * Switch the codec contexts of `conn` (after the OPEN exchange); `decode` tells the decoder
   * whether the peer is external (RFC 7606 §7.5/§7.9/§7.10 discards, RFC 4271 §6.3 first AS).
   */
  | { type: 'set-context'; conn: ConnId; receive: CodecContext; send: CodecContext; decode: DecodeOptions }
  | { type: 'upward'; event: Upward };
