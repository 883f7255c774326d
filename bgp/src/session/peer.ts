/**
 * One peer's session as a pure reducer over up to two connection FSMs (fsm.ts), applying
 * connection collision detection (RFC 4271 §6.8).
 *
 * The primary FSM makes the outbound attempts and restarts after errors. An inbound connection
 * that arrives while the primary already owns a connection (a pending attempt in Connect, or an
 * open one from OpenSent on) gets a second, non-restartable FSM. When one of them receives the
 * peer's OPEN and enters OpenConfirm while the other is in OpenConfirm or Established, one of
 * the two is dumped (Event 23, NOTIFICATION Cease / Connection Collision Resolution, RFC 4486),
 * by the same rule whether the other is in OpenConfirm or already Established (RFC 4271 §8.1.1
 * CollisionDetectEstablishedState): when our BGP identifier is lower than the peer's, the
 * connection we initiated is closed, otherwise the one the peer initiated (§6.8, identifiers
 * compared as unsigned 32-bit integers); of two connections in one direction the newer stays.
 * Why not "an Established session always wins": the two sides see the two connections' OPENs
 * and KEEPALIVEs in different orders, so one side may already be Established on connection X
 * when the other still has X and Y in OpenConfirm; a rule that depends on that state makes the
 * sides keep different connections and both sessions fail (seen in a 20-node mesh: every
 * pair connects at once when a node appears). The identifier rule gives both sides one answer.
 * The connection that loses on receipt of its OPEN gets no KEEPALIVE first (§6.8 resolves the
 * collision on the OPEN), so the peer never sees it Established.
 *
 * Graceful restart (RFC 4724 §4.2): a new inbound connection whose OPEN has the Restart State
 * bit set, from a peer whose Established session was opened without it, means the peer
 * restarted since: the old session is closed without NOTIFICATION and the new one goes on.
 *
 * Invariants: at most two FSMs; the secondary never owns timers without a connection scope
 * (connect-retry, idle-hold); when only the secondary still has a connection it is promoted.
 * The upward `state` event reports the most advanced state of the two.
 */
import { CeaseSubcode } from '../codec/types.js';
import { eventConn, initialFsm, step, withGracefulRestart, type FsmState, type StepResult } from './fsm.js';
import { idToNumber } from './open.js';
import { cease, fail, type Draft } from './transitions.js';
import { STATE_ORDER, type SessionAction, type SessionConfig, type SessionEvent, type SessionState } from './types.js';

/** A peer: its configuration and one or two connection FSMs. Treated as immutable. */
export interface PeerState {
  readonly config: SessionConfig;
  readonly primary: FsmState;
  readonly secondary: FsmState | null;
}

/** A new peer in Idle; `seed` seeds the backoff jitter. */
export function initialPeer(config: SessionConfig, seed: number): PeerState {
  return { config, primary: initialFsm(config, { seed }), secondary: null };
}

/** The state reported for the peer: the most advanced of its connections. */
export function peerState(p: PeerState): SessionState {
  const a = p.primary.state;
  const b = p.secondary?.state;
  return b !== undefined && STATE_ORDER[b] > STATE_ORDER[a] ? b : a;
}

/** The FSM that is Established, if any. */
export function establishedFsm(p: PeerState): FsmState | undefined {
  if (p.primary.state === 'Established') return p.primary;
  if (p.secondary?.state === 'Established') return p.secondary;
  return undefined;
}

type Which = 'primary' | 'secondary';

/** Feeds one event to the peer. Pure. */
export function peerStep(state: PeerState, event: SessionEvent, now: number): StepResult<PeerState> {
  const before = peerState(state);
  const actions: SessionAction[] = [];
  let p = route(state, event, now, actions);
  p = tidy(p, actions);
  const after = peerState(p);
  if (after !== before) actions.push({ type: 'upward', event: { type: 'state', from: before, to: after } });
  return { state: p, actions };
}

/** Runs `event` on one FSM, then collision detection if that FSM just entered OpenConfirm. */
function run(p: PeerState, which: Which, event: SessionEvent, now: number, out: SessionAction[]): PeerState {
  const fsm = fsmOf(p, which);
  if (!fsm) return p;
  const r = step(fsm, event, now);
  const next = r.state === fsm ? p : replaceFsm(p, which, r.state);
  const v = fsm.state !== 'OpenConfirm' && r.state.state === 'OpenConfirm' ? collision(next, which) : NO_COLLISION;
  // §6.8: a connection dumped on receipt of its OPEN is closed without the KEEPALIVE that confirms it.
  const dumpsThis = v.kind === 'dump' && v.loser === which;
  out.push(...(dumpsThis ? r.actions.filter((a) => !(a.type === 'send' && a.message.type === 'keepalive')) : r.actions));
  const otherWhich: Which = which === 'primary' ? 'secondary' : 'primary';
  const y = fsmOf(next, otherWhich);
  switch (v.kind) {
    case 'none':
      return next;
    case 'peer-restarted':
      return y ? replaceFsm(next, otherWhich, dropForRestart(y, now, out)) : next;
    case 'dump': {
      const conn = fsmOf(next, v.loser)?.conn;
      return conn ? run(next, v.loser, { type: 'collision-dump', conn }, now, out) : next;
    }
  }
}

function route(p: PeerState, e: SessionEvent, now: number, out: SessionAction[]): PeerState {
  if (e.type === 'set-graceful-restart') {
    // RFC 4724 §4.1: later OPENs (of either FSM, and of FSMs created for later connections) use it.
    const primary = withGracefulRestart(p.primary, e.gracefulRestart);
    const secondary = p.secondary ? withGracefulRestart(p.secondary, e.gracefulRestart) : null;
    return { ...withGracefulRestart(p, e.gracefulRestart), primary, secondary };
  }
  const conn = eventConn(e);
  if (conn === undefined) {
    if (e.type === 'manual-stop' || e.type === 'automatic-stop') {
      const q = run(p, 'secondary', { type: 'manual-stop', ...(e.subcode !== undefined ? { subcode: e.subcode } : {}), ...(e.data ? { data: e.data } : {}) }, now, out);
      return run(q, 'primary', e, now, out);
    }
    return run(p, 'primary', e, now, out);
  }
  if (p.primary.conn === conn) return run(p, 'primary', e, now, out);
  if (p.secondary?.conn === conn) return run(p, 'secondary', e, now, out);
  if (e.type === 'tcp-incoming') return incoming(p, conn, now, out);
  // A connection no FSM owns (a superseded attempt, a dumped connection): make sure it is gone.
  if (e.type === 'tcp-acked' || e.type === 'open' || e.type === 'keepalive' || e.type === 'update') {
    out.push({ type: 'close', conn });
  }
  return p;
}

/** A new inbound connection (Event 17): the primary takes it unless it has a connection (pending or open). */
function incoming(p: PeerState, conn: string, now: number, out: SessionAction[]): PeerState {
  const s = p.primary.state;
  // In Connect our own attempt is pending: RFC 4271 §6.8 gives the inbound connection its own FSM
  // and lets collision detection choose, so both sides connecting at once do not drop both attempts.
  if (s === 'Idle' || s === 'Active') return run(p, 'primary', { type: 'tcp-incoming', conn }, now, out);
  if (p.secondary !== null) {
    // A third connection at once: refuse it (RFC 4486 Connection Rejected).
    out.push({ type: 'close', conn, notification: cease(CeaseSubcode.ConnectionRejected) });
    return p;
  }
  const secondary: FsmState = {
    ...initialFsm(p.config, { seed: p.primary.rng ^ 0x5bd1e995, restartable: false }),
    enabled: true,
    state: 'Active',
  };
  return run({ ...p, secondary }, 'secondary', { type: 'tcp-incoming', conn }, now, out);
}

/** What collision detection decided. */
type Collision = { kind: 'none' } | { kind: 'dump'; loser: Which } | { kind: 'peer-restarted' };
const NO_COLLISION: Collision = { kind: 'none' };

/** RFC 4271 §6.8 collision detection, run when `which` entered OpenConfirm. Pure. */
function collision(p: PeerState, which: Which): Collision {
  const x = fsmOf(p, which);
  const otherWhich: Which = which === 'primary' ? 'secondary' : 'primary';
  const y = fsmOf(p, otherWhich);
  if (!x || !y || y.conn === null || !x.negotiated) return NO_COLLISION;
  if (y.state !== 'OpenConfirm' && y.state !== 'Established') return NO_COLLISION;
  if (y.state === 'Established' && peerRestarted(y, x)) return { kind: 'peer-restarted' };
  if (x.outbound === y.outbound) return { kind: 'dump', loser: otherWhich }; // same direction: the older connection gives way
  const closeOutbound = idToNumber(p.config.localId) < idToNumber(x.negotiated.peerId);
  return { kind: 'dump', loser: x.outbound === closeOutbound ? which : otherWhich };
}

/**
 * RFC 4724 §4.2 with §3's Restart State bit: the new inbound connection `x` says the peer
 * restarted (R=1) while the Established session `y` was opened by a peer that had not (R=0).
 */
function peerRestarted(y: FsmState, x: FsmState): boolean {
  const before = y.negotiated?.peerGracefulRestart;
  return !x.outbound && before !== undefined && !before.restarting && x.negotiated?.peerGracefulRestart?.restarting === true;
}

/** Closes an Established FSM without NOTIFICATION because its peer restarted (graceful restart helper). */
function dropForRestart(y: FsmState, now: number, out: SessionAction[]): FsmState {
  const d: Draft = { s: { ...y }, out, now };
  fail(d, { counts: false, reason: { cause: 'peer-restarted' } });
  return d.s;
}

function fsmOf(p: PeerState, which: Which): FsmState | null {
  return which === 'primary' ? p.primary : p.secondary;
}

function replaceFsm(p: PeerState, which: Which, fsm: FsmState): PeerState {
  return which === 'primary' ? { ...p, primary: fsm } : { ...p, secondary: fsm };
}

/**
 * Drops a secondary that went Idle, and promotes the secondary when the primary no longer has
 * an open connection (Idle or Active, or Connect once the secondary is Established), carrying the counters over and cancelling the primary's
 * connect-retry and idle-hold timers.
 */
function tidy(p: PeerState, out: SessionAction[]): PeerState {
  const sec = p.secondary;
  if (sec === null) return p;
  if (sec.state === 'Idle') return { ...p, secondary: null };
  const ps = p.primary.state;
  const pendingLoses = ps === 'Connect' && sec.state === 'Established';
  if (ps !== 'Idle' && ps !== 'Active' && !pendingLoses) return p;
  if (ps === 'Idle' && !p.primary.enabled) return p; // stopped: the secondary is being stopped too
  // An attempt still pending when the inbound session is up is abandoned.
  if (pendingLoses && p.primary.conn !== null) out.push({ type: 'close', conn: p.primary.conn });
  out.push({ type: 'cancel-timer', timer: 'connect-retry' }, { type: 'cancel-timer', timer: 'idle-hold' });
  const old = p.primary;
  const primary: FsmState = {
    ...sec,
    restartable: true,
    enabled: old.enabled,
    failures: old.failures,
    connectRetryCounter: old.connectRetryCounter,
    rng: old.rng,
    connSeq: old.connSeq,
  };
  return { ...p, primary, secondary: null };
}
