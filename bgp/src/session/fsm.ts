/**
 * The RFC 4271 §8 finite state machine of one BGP connection, as a pure reducer:
 * `step(state, event, now) → { state, actions }`. No I/O, no clock, no randomness beyond the
 * PRNG state carried in `FsmState`: the shell (shell.ts) executes the actions, and feeds back
 * timer expiries, TCP events and decoded messages as events.
 *
 * Invariants:
 * - `state.conn` is the only connection this FSM acts on; events for another connection are
 *   ignored here (the peer reducer in peer.ts routes them or rejects them).
 * - Every path into Idle goes through `fail` (transitions.ts), which closes the connection,
 *   cancels the hold/keepalive/connect-retry timers and emits `down` when leaving Established.
 * - Not implemented from §8.1.1's optional attributes: DelayOpen, SendNOTIFICATIONwithoutOPEN,
 *   CollisionDetectEstablishedState inside one FSM (the peer reducer applies §6.8 across its two
 *   FSMs, against an Established connection too: peer.ts).
 */
import { Notification, OpenSubcode } from '../codec/types.js';
import { familyOf } from './open.js';
import {
  adopt,
  armKeepalive,
  cease,
  fail,
  fsmError,
  manualStop,
  receiveOpen,
  restartHold,
  sendProgress,
  start,
  startConnect,
  toActive,
  toEstablished,
  type Draft,
  type FsmState,
} from './transitions.js';
import { CeaseSubcode } from '../codec/types.js';
import type { LocalGracefulRestart, SessionAction, SessionConfig, SessionEvent } from './types.js';

export type { FsmState } from './transitions.js';
export { FsmSubcode } from './transitions.js';

/** The result of one reducer step. */
export interface StepResult<S> {
  state: S;
  actions: SessionAction[];
}

/** A fresh FSM in Idle. `seed` seeds the jitter PRNG; `restartable` is false for a collision's second FSM. */
export function initialFsm(config: SessionConfig, opts: { seed: number; restartable?: boolean }): FsmState {
  return {
    config,
    state: 'Idle',
    conn: null,
    outbound: false,
    restartable: opts.restartable ?? true,
    enabled: false,
    connectRetryCounter: 0,
    failures: 0,
    establishedAt: null,
    rng: opts.seed >>> 0,
    connSeq: 0,
    negotiated: null,
    restartPending: null,
  };
}

/** The connection an event concerns, if any. */
export function eventConn(e: SessionEvent): string | undefined {
  switch (e.type) {
    case 'manual-start':
    case 'manual-stop':
    case 'automatic-start':
    case 'automatic-stop':
    case 'set-graceful-restart':
      return undefined;
    case 'timer':
      return e.conn;
    default:
      return e.conn;
  }
}

/** Feeds one event to the FSM. Pure: `state` is not modified (and is returned when nothing changed). */
export function step(state: FsmState, event: SessionEvent, now: number): StepResult<FsmState> {
  // Configuration only: the next OPEN this FSM builds uses it (RFC 4724 §4.1 R bit).
  if (event.type === 'set-graceful-restart') return { state: withGracefulRestart(state, event.gracefulRestart), actions: [] };
  const d: Draft = { s: { ...state }, out: [], now };
  const conn = eventConn(event);
  // Events about another connection are not ours (the pending outbound in Connect is `conn`).
  const foreign = conn !== undefined && conn !== state.conn && event.type !== 'tcp-incoming';
  if (!foreign) dispatch(d, event);
  // An event that changed nothing (an UPDATE or KEEPALIVE in Established) returns `state` itself,
  // so the caller can skip copying what holds it.
  return { state: sameFields(state, d.s) ? state : d.s, actions: d.out };
}

function sameFields(a: FsmState, b: FsmState): boolean {
  for (const k in b) if (a[k as keyof FsmState] !== b[k as keyof FsmState]) return false;
  return true;
}

/** `state` advertising `gr` in the OPENs it builds from now on. */
export function withGracefulRestart<S extends { readonly config: SessionConfig }>(state: S, gr: LocalGracefulRestart | undefined): S {
  const config: SessionConfig = { ...state.config };
  if (gr) config.gracefulRestart = gr;
  else delete config.gracefulRestart;
  return { ...state, config };
}

function dispatch(d: Draft, e: SessionEvent): void {
  switch (d.s.state) {
    case 'Idle':
      return idle(d, e);
    case 'Connect':
      return connect(d, e);
    case 'Active':
      return active(d, e);
    case 'OpenSent':
      return openSent(d, e);
    case 'OpenConfirm':
      return openConfirm(d, e);
    case 'Established':
      return established(d, e);
  }
}

/** Stop events, handled alike in every state but Idle. */
function stops(d: Draft, e: SessionEvent): boolean {
  if (e.type === 'manual-stop') {
    manualStop(d, e.subcode, e.data);
    return true;
  }
  if (e.type === 'automatic-stop') {
    const sentOpen = d.s.state === 'OpenSent' || d.s.state === 'OpenConfirm' || d.s.state === 'Established';
    const notification = sentOpen ? cease(e.subcode, e.data) : undefined;
    fail(d, { ...(notification ? { notification } : {}), counts: true, ...(e.restartAfterMs !== undefined ? { restartAfterMs: e.restartAfterMs } : {}) });
    return true;
  }
  return false;
}

/**
 * RFC 4271 §8.2.2 Idle: starts leave it; an inbound connection is refused, except while only the
 * error backoff is pending (a deliberate deviation, see the `tcp-incoming` case).
 */
function idle(d: Draft, e: SessionEvent): void {
  switch (e.type) {
    case 'manual-start':
      d.s.enabled = true;
      d.s.connectRetryCounter = 0;
      d.out.push({ type: 'cancel-timer', timer: 'idle-hold' });
      return start(d);
    case 'automatic-start':
      if (d.s.enabled && d.s.restartable) start(d);
      return;
    case 'timer':
      if (e.timer === 'idle-hold' && d.s.enabled && d.s.restartable) start(d);
      return;
    case 'manual-stop':
      d.s.enabled = false;
      d.out.push({ type: 'cancel-timer', timer: 'idle-hold' });
      return;
    case 'tcp-incoming':
      if (d.s.restartPending === 'backoff' && d.s.enabled && d.s.restartable) {
        // Waiting only to back off after an error: take the peer's connection now (as an
        // AutomaticStart with passive TCP establishment, Event 5). Refusing it instead lets two
        // peers that back off out of phase refuse each other forever.
        d.out.push({ type: 'cancel-timer', timer: 'idle-hold' });
        d.s.restartPending = null;
        return adopt(d, e.conn, false);
      }
      // RFC 4486 §4: Connection Rejected (stopped, or held down after an AutomaticStop).
      d.out.push({ type: 'close', conn: e.conn, notification: cease(CeaseSubcode.ConnectionRejected) });
      return;
    default:
      return; // RFC 4271 §8.2.2: other events are ignored in Idle.
  }
}

/** RFC 4271 §8.2.2 Connect: an outbound connection (`conn`) is pending. */
function connect(d: Draft, e: SessionEvent): void {
  if (stops(d, e)) return;
  switch (e.type) {
    case 'timer':
      if (e.timer !== 'connect-retry') return;
      // Event 9: drop the attempt, count it, try again.
      if (d.s.conn !== null) d.out.push({ type: 'close', conn: d.s.conn });
      d.s.connectRetryCounter += 1;
      return startConnect(d);
    case 'tcp-acked':
      return adopt(d, e.conn, true);
    case 'tcp-incoming':
      // Event 17 while our own attempt is pending: use the peer's connection, drop ours.
      if (d.s.conn !== null) d.out.push({ type: 'close', conn: d.s.conn });
      return adopt(d, e.conn, false);
    case 'tcp-fails':
      // Event 18: go on listening, retry when the ConnectRetryTimer expires (with backoff).
      d.s.connectRetryCounter += 1;
      d.out.push({ type: 'cancel-timer', timer: 'connect-retry' });
      return toActive(d);
    case 'manual-start':
    case 'automatic-start':
      return;
    default:
      return fail(d, { counts: true }); // §8.2.2 Connect: any other event → Idle.
  }
}

/** RFC 4271 §8.2.2 Active: listening for the peer. */
function active(d: Draft, e: SessionEvent): void {
  if (stops(d, e)) return;
  switch (e.type) {
    case 'timer':
      if (e.timer === 'connect-retry' && !d.s.config.passive) startConnect(d);
      return;
    case 'tcp-incoming':
      return adopt(d, e.conn, false);
    default:
      return; // no connection is owned in Active; stray events are ignored
  }
}

/** Common handling of the error events that carry a NOTIFICATION to send, and received NOTIFICATIONs. */
function errors(d: Draft, e: SessionEvent): boolean {
  switch (e.type) {
    case 'header-error':
    case 'open-error':
    case 'update-error':
      fail(d, { notification: e.notification, counts: true });
      return true;
    case 'notification': {
      // Event 24 NotifMsgVerErr (OPEN error, unsupported version) is not counted: the peer may retry with another version.
      const verErr = e.message.code === Notification.OpenMessageError && e.message.subcode === OpenSubcode.UnsupportedVersionNumber;
      fail(d, { received: { code: e.message.code, subcode: e.message.subcode, data: e.message.data }, counts: !verErr });
      return true;
    }
    case 'tcp-fails':
      fail(d, { counts: true });
      return true;
    case 'collision-dump':
      // Event 23 (RFC 4271 §6.8): Cease, Connection Collision Resolution (RFC 4486).
      fail(d, { notification: cease(CeaseSubcode.ConnectionCollisionResolution), counts: false });
      return true;
    case 'timer':
      if (e.timer === 'send-hold') {
        // RFC 9687 §4: SendHoldTimer_Expires → NOTIFICATION 8, close the connection, Idle.
        fail(d, { notification: { code: Notification.SendHoldTimerExpired, subcode: 0, data: new Uint8Array(0) }, counts: true });
        return true;
      }
      if (e.timer !== 'hold') return false;
      // Event 10: RFC 4271 §6.5 Hold Timer Expired.
      fail(d, { notification: { code: Notification.HoldTimerExpired, subcode: 0, data: new Uint8Array(0) }, counts: true });
      return true;
    default:
      return false;
  }
}

/** RFC 4271 §8.2.2 OpenSent: our OPEN is out, waiting for theirs. */
function openSent(d: Draft, e: SessionEvent): void {
  if (stops(d, e)) return;
  if (e.type === 'tcp-fails' && d.s.restartable) {
    // Event 18 in OpenSent: close, restart the ConnectRetryTimer, continue to listen → Active.
    d.out.push({ type: 'close', conn: e.conn }, { type: 'cancel-timer', timer: 'hold', conn: e.conn });
    d.s.connectRetryCounter += 1;
    return toActive(d);
  }
  if (errors(d, e)) return;
  switch (e.type) {
    case 'open':
      return receiveOpen(d, e.conn, e.message);
    case 'keepalive':
    case 'update':
    case 'route-refresh':
      return fail(d, { notification: fsmError('OpenSent'), counts: true });
    default:
      return; // timers other than hold, starts, other connections: ignored
  }
}

/** RFC 4271 §8.2.2 OpenConfirm: OPENs exchanged, waiting for the first KEEPALIVE. */
function openConfirm(d: Draft, e: SessionEvent): void {
  if (stops(d, e) || errors(d, e)) return;
  switch (e.type) {
    case 'timer':
      if (e.timer === 'keepalive' && d.s.conn !== null) keepaliveTick(d, d.s.conn);
      return;
    case 'keepalive':
      return toEstablished(d, e.conn);
    case 'send-progress':
      return sendProgress(d, e.conn, e.pending);
    case 'open':
    case 'update':
    case 'route-refresh':
      return fail(d, { notification: fsmError('OpenConfirm'), counts: true });
    default:
      return;
  }
}

/** KeepaliveTimer expiry (Event 11): send KEEPALIVE, re-arm. */
function keepaliveTick(d: Draft, conn: string): void {
  d.out.push({ type: 'send', conn, message: { type: 'keepalive' } });
  armKeepalive(d, conn);
}

/** RFC 4271 §8.2.2 Established: exchange UPDATEs. */
function established(d: Draft, e: SessionEvent): void {
  if (stops(d, e) || errors(d, e)) return;
  switch (e.type) {
    case 'timer':
      if (e.timer === 'keepalive' && d.s.conn !== null) keepaliveTick(d, d.s.conn);
      return;
    case 'keepalive':
      return restartHold(d, e.conn);
    case 'send-progress':
      return sendProgress(d, e.conn, e.pending);
    case 'update':
      restartHold(d, e.conn);
      d.out.push({ type: 'upward', event: { type: 'update', conn: e.conn, payload: e.payload } });
      return;
    case 'route-refresh': {
      restartHold(d, e.conn);
      const n = d.s.negotiated;
      const family = familyOf(e.message.afi, e.message.safi);
      // RFC 2918 §4: a ROUTE-REFRESH for a family not negotiated is ignored.
      if (n && (n.routeRefresh || n.enhancedRouteRefresh) && family && n.families.includes(family)) {
        d.out.push({ type: 'upward', event: { type: 'route-refresh', conn: e.conn, message: e.message } });
      }
      return;
    }
    case 'open':
      return fail(d, { notification: fsmError('Established'), counts: true });
    default:
      return;
  }
}
