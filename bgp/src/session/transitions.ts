/**
 * The transition helpers the FSM reducer (fsm.ts) is built from: start a connection attempt,
 * adopt a connection and send OPEN, settle the OPEN exchange, and fall back to Idle after an
 * error with the NOTIFICATION, timer cancellations and restart backoff that RFC 4271 §8.2.2
 * prescribes. They mutate a draft `FsmState` owned by one `step` call and append to its action
 * list; nothing outside that call ever sees the draft.
 */
import type { DecodeOptions } from '../codec/attributes-decode.js';
import { CeaseSubcode, Notification } from '../codec/types.js';
import { backoffDelay } from './backoff.js';
import { buildOpen, negotiate } from './open.js';
import type { ConnId, DownReason, Negotiated, SessionNotification, SessionAction, SessionConfig, SessionState } from './types.js';

/** One connection's FSM state (RFC 4271 §8). Treated as immutable by callers of `step`. */
export interface FsmState {
  readonly config: SessionConfig;
  state: SessionState;
  /** The connection this FSM owns: pending outbound in Connect, open from OpenSent on. */
  conn: ConnId | null;
  /** Whether `conn` was initiated by us (used by collision resolution, RFC 4271 §6.8). */
  outbound: boolean;
  /** False for an FSM created for a colliding inbound connection: it never reconnects. */
  restartable: boolean;
  /** Started and not manually stopped; automatic restarts only happen while enabled. */
  enabled: boolean;
  /** RFC 4271 §8.1.1 ConnectRetryCounter: consecutive failed attempts (drives connect backoff). */
  connectRetryCounter: number;
  /** Consecutive session failures (drives the idle-hold backoff). */
  failures: number;
  /** When the session last reached Established (ms), for DampPeerOscillations. */
  establishedAt: number | null;
  /** PRNG state for jitter (see backoff.ts). */
  rng: number;
  /** Counter naming outbound connections `o<n>`. */
  connSeq: number;
  /** Set from OpenConfirm on. */
  negotiated: Negotiated | null;
  /**
   * Why the FSM waits in Idle with the idle-hold timer armed: 'backoff' after an error (an
   * inbound connection is then accepted at once), 'hold-down' after an AutomaticStop with an
   * explicit delay (e.g. max-prefix: inbound connections are refused until it expires).
   */
  restartPending: 'backoff' | 'hold-down' | null;
}

/** A draft being built by one `step` call. */
export interface Draft {
  s: FsmState;
  out: SessionAction[];
  now: number;
}

/** RFC 6608 §3 FSM error subcodes. */
export const FsmSubcode = {
  Unspecified: 0,
  UnexpectedInOpenSent: 1,
  UnexpectedInOpenConfirm: 2,
  UnexpectedInEstablished: 3,
} as const;

const EMPTY = new Uint8Array(0);

/** A Cease NOTIFICATION (RFC 4486) with `subcode`. */
export function cease(subcode: number, data: Uint8Array = EMPTY): SessionNotification {
  return { code: Notification.Cease, subcode, data };
}

/** An FSM Error NOTIFICATION (RFC 6608) for an unexpected message in the current state. */
export function fsmError(state: SessionState): SessionNotification {
  const subcode =
    state === 'OpenSent'
      ? FsmSubcode.UnexpectedInOpenSent
      : state === 'OpenConfirm'
        ? FsmSubcode.UnexpectedInOpenConfirm
        : state === 'Established'
          ? FsmSubcode.UnexpectedInEstablished
          : FsmSubcode.Unspecified;
  return { code: Notification.FsmError, subcode, data: EMPTY };
}

/** Arms the ConnectRetryTimer with the backoff for the current ConnectRetryCounter. */
function armConnectRetry(d: Draft): void {
  const b = backoffDelay(d.s.config.connectRetry, d.s.connectRetryCounter, d.s.rng);
  d.s.rng = b.seed;
  d.out.push({ type: 'arm-timer', timer: 'connect-retry', ms: b.ms });
}

/** Idle → Connect: initiate an outbound connection and arm the ConnectRetryTimer (RFC 4271 §8.2.2 Idle, Event 1). */
export function startConnect(d: Draft): void {
  d.s.connSeq += 1;
  const conn = `o${d.s.connSeq}`;
  d.s.conn = conn;
  d.s.outbound = true;
  d.s.state = 'Connect';
  d.out.push({ type: 'connect', conn });
  armConnectRetry(d);
}

/**
 * → Active: wait for the peer to connect. An active peer re-arms the ConnectRetryTimer to try
 * again (§8.2.2 Active, Event 9); a passive-only peer just listens.
 */
export function toActive(d: Draft): void {
  d.s.state = 'Active';
  d.s.conn = null;
  if (!d.s.config.passive) armConnectRetry(d);
}

/** Idle → Connect or Active per the passive setting (§8.2.2 Idle, Events 1/3/4/5). */
export function start(d: Draft): void {
  d.s.restartPending = null;
  if (d.s.config.passive) toActive(d);
  else startConnect(d);
}

/** A TCP connection is up (Events 16/17): stop ConnectRetry, send OPEN, arm the large hold timer → OpenSent. */
export function adopt(d: Draft, conn: ConnId, outbound: boolean): void {
  // Peer-level timers (connect-retry, idle-hold) belong to the restartable (primary) FSM only.
  if (d.s.restartable) d.out.push({ type: 'cancel-timer', timer: 'connect-retry' });
  d.s.conn = conn;
  d.s.outbound = outbound;
  d.s.state = 'OpenSent';
  d.out.push({ type: 'send', conn, message: buildOpen(d.s.config) });
  // RFC 4271 §8.2.2 Connect, Event 16/17: "sets the HoldTimer to a large value" (4 minutes suggested).
  d.out.push({ type: 'arm-timer', timer: 'hold', ms: d.s.config.largeHoldTime * 1000, conn });
}

/** The RFC 9687 SendHoldTime in ms for the negotiated session, or 0 when it is off. */
export function sendHoldMs(d: Draft): number {
  const hold = d.s.negotiated?.holdTime ?? 0;
  if (hold === 0) return 0;
  const configured = d.s.config.sendHoldTime;
  if (configured !== undefined) return configured * 1000;
  return Math.max(480, 2 * hold) * 1000; // RFC 9687: no less than 8 minutes by default
}

/** RFC 9687: output is waiting → (re)start the SendHoldTimer; all written → stop it. */
export function sendProgress(d: Draft, conn: ConnId, pending: boolean): void {
  const ms = sendHoldMs(d);
  if (pending && ms > 0) d.out.push({ type: 'arm-timer', timer: 'send-hold', ms, conn });
  else d.out.push({ type: 'cancel-timer', timer: 'send-hold', conn });
}

/** Re-arms the hold timer with the negotiated value, or cancels it when 0 (RFC 4271 §4.4). */
export function restartHold(d: Draft, conn: ConnId): void {
  const hold = d.s.negotiated?.holdTime ?? 0;
  if (hold > 0) d.out.push({ type: 'arm-timer', timer: 'hold', ms: hold * 1000, conn });
  else d.out.push({ type: 'cancel-timer', timer: 'hold', conn });
}

/** Arms the keepalive timer when keepalives are on. */
export function armKeepalive(d: Draft, conn: ConnId): void {
  const ka = d.s.negotiated?.keepaliveTime ?? 0;
  if (ka > 0) d.out.push({ type: 'arm-timer', timer: 'keepalive', ms: ka * 1000, conn });
}

/**
 * How UPDATEs from the peer are decoded: external peers get RFC 7606's eBGP rules (LOCAL_PREF,
 * ORIGINATOR_ID, CLUSTER_LIST discarded whatever their length, §7.5/§7.9/§7.10) and RFC 4271
 * §6.3's check that their AS leads the AS_PATH (malformed → treat-as-withdraw, RFC 7606 §7.2).
 */
export function decodeOptions(n: Negotiated): DecodeOptions {
  return n.ibgp ? { ibgp: true } : { ibgp: false, peerAs: n.peerAs };
}

/** OpenSent, Event 19: validate the OPEN; on success send KEEPALIVE and go to OpenConfirm. */
export function receiveOpen(d: Draft, conn: ConnId, open: Parameters<typeof negotiate>[1]): void {
  const r = negotiate(d.s.config, open);
  if (!r.ok) {
    fail(d, { notification: r.notification, counts: true });
    return;
  }
  d.s.negotiated = r.negotiated;
  d.s.state = 'OpenConfirm';
  d.out.push({ type: 'set-context', conn, receive: r.negotiated.receiveContext, send: r.negotiated.sendContext, decode: decodeOptions(r.negotiated) });
  d.out.push({ type: 'send', conn, message: { type: 'keepalive' } });
  restartHold(d, conn);
  armKeepalive(d, conn);
}

/** OpenConfirm, Event 26: → Established; reset the counters and tell the speaker. */
export function toEstablished(d: Draft, conn: ConnId): void {
  d.s.state = 'Established';
  d.s.establishedAt = d.now;
  d.s.connectRetryCounter = 0;
  if (d.s.config.dampPeerOscillationsMs === undefined) d.s.failures = 0;
  restartHold(d, conn);
  d.out.push({ type: 'upward', event: { type: 'established', conn, negotiated: d.s.negotiated as Negotiated } });
}

/** How a session ends. */
export interface FailOptions {
  /** NOTIFICATION to send before closing. */
  notification?: SessionNotification;
  /** NOTIFICATION the peer sent (for the down reason). */
  received?: SessionNotification;
  /** Count this as a failure for the backoff (not for stops, collisions or version fallback). */
  counts: boolean;
  /** No automatic restart (ManualStop). */
  disable?: boolean;
  /** Restart after exactly this delay (AutomaticStop with a delay, e.g. max-prefix). */
  restartAfterMs?: number;
  /** Override the down reason. */
  reason?: DownReason;
}

/** Any state → Idle: close the connection, stop the timers, tell the speaker, and maybe schedule a restart. */
export function fail(d: Draft, o: FailOptions): void {
  const s = d.s;
  const conn = s.conn;
  if (conn !== null) {
    d.out.push(o.notification ? { type: 'close', conn, notification: o.notification } : { type: 'close', conn });
    d.out.push({ type: 'cancel-timer', timer: 'hold', conn }, { type: 'cancel-timer', timer: 'keepalive', conn }, { type: 'cancel-timer', timer: 'send-hold', conn });
  }
  if (s.restartable) d.out.push({ type: 'cancel-timer', timer: 'connect-retry' });
  if (s.state === 'Established' && conn !== null && s.negotiated) {
    const reason: DownReason =
      o.reason ??
      (o.notification
        ? { cause: 'notification-sent', notification: o.notification }
        : o.received
          ? { cause: 'notification-received', notification: o.received }
          : { cause: 'connection-lost' });
    d.out.push({ type: 'upward', event: { type: 'down', conn, reason, negotiated: s.negotiated } });
    // RFC 4271 §8.1.1 DampPeerOscillations: a session that stayed up long enough clears the history.
    const damp = s.config.dampPeerOscillationsMs;
    if (damp !== undefined && s.establishedAt !== null && d.now - s.establishedAt >= damp) s.failures = 0;
  }
  if (o.counts) {
    s.failures += 1;
    s.connectRetryCounter += 1;
  }
  s.state = 'Idle';
  s.conn = null;
  s.negotiated = null;
  s.establishedAt = null;
  s.restartPending = null;
  if (o.disable) s.enabled = false;
  scheduleRestart(d, o);
}

function scheduleRestart(d: Draft, o: FailOptions): void {
  const s = d.s;
  if (!s.restartable || !s.enabled || o.disable) return;
  if (o.restartAfterMs !== undefined) {
    s.restartPending = 'hold-down';
    d.out.push({ type: 'arm-timer', timer: 'idle-hold', ms: o.restartAfterMs });
    return;
  }
  if (!s.config.autoRestart) return;
  const b = backoffDelay(s.config.idleHold, Math.max(0, s.failures - 1), s.rng);
  s.rng = b.seed;
  s.restartPending = 'backoff';
  d.out.push({ type: 'arm-timer', timer: 'idle-hold', ms: b.ms });
}

/** ManualStop (Event 2) in any state: Cease (when OPEN was sent), no restart. */
export function manualStop(d: Draft, subcode: number | undefined, data: Uint8Array | undefined): void {
  const sentOpen = d.s.state === 'OpenSent' || d.s.state === 'OpenConfirm' || d.s.state === 'Established';
  const notification = sentOpen ? cease(subcode ?? CeaseSubcode.AdministrativeShutdown, data) : undefined;
  if (d.s.restartable) d.out.push({ type: 'cancel-timer', timer: 'idle-hold' });
  fail(d, { ...(notification ? { notification } : {}), counts: false, disable: true });
  d.s.connectRetryCounter = 0;
}
