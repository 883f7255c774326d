/**
 * Property test of the peer reducer: random but realistic event sequences (the shell's view:
 * connections the reducer asked for or the listener accepted, timers it armed, messages on open
 * connections) must keep the invariants the shell relies on — no leaked connection, no timer
 * left for a connection that is gone, the timers each state needs, purity, no exception.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { initialPeer, peerStep, type PeerState } from '../../src/session/peer.js';
import type { SessionAction, SessionEvent } from '../../src/session/types.js';
import { cfg as baseCfg, peerOpen } from './helpers.js';
import type { SessionConfig } from '../../src/session/types.js';

const cfg = (over: Partial<SessionConfig>): SessionConfig =>
  baseCfg({ gracefulRestart: { restartTime: 120, restarting: false, forwarding: [] }, ...over });

/** What the shell would hold after executing the actions. */
interface World {
  p: PeerState;
  open: Set<string>; // connections that exist (pending or established)
  timers: Set<string>; // "timer" or "timer|conn"
  nextIn: number;
  now: number;
}

function apply(w: World, actions: SessionAction[]): void {
  for (const a of actions) {
    switch (a.type) {
      case 'connect':
        w.open.add(a.conn);
        break;
      case 'close':
        w.open.delete(a.conn);
        for (const t of [...w.timers]) if (t.endsWith(`|${a.conn}`)) w.timers.delete(t);
        break;
      case 'arm-timer':
        w.timers.add(a.conn ? `${a.timer}|${a.conn}` : a.timer);
        break;
      case 'cancel-timer':
        w.timers.delete(a.conn ? `${a.timer}|${a.conn}` : a.timer);
        break;
      default:
        break;
    }
  }
}

type Pick = { kind: number; which: number; arg: number };

/** Connections whose FSM is in `state`. */
function inState(w: World, state: string): string[] {
  return [w.p.primary, w.p.secondary].flatMap((f) => (f && f.state === state && f.conn ? [f.conn] : []));
}

/** Event kinds below, weighted towards the ones that move a session forward. */
const WEIGHTED = [0, 1, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 6, 6, 6, 6, 7, 7, 7, 8, 8, 8, 9, 9, 10, 11, 11, 12, 13, 14, 14, 14];

/** Turns a random pick into an event that the shell could really deliver in world `w`. */
function eventFor(w: World, pick: Pick): SessionEvent | undefined {
  const conns = [...w.open];
  const conn = conns.length > 0 ? conns[pick.which % conns.length] : undefined;
  const timers = [...w.timers];
  switch (WEIGHTED[pick.kind % WEIGHTED.length]) {
    case 0:
      return { type: 'manual-start' };
    case 1:
      return pick.arg % 4 === 0 ? { type: 'manual-stop' } : { type: 'automatic-start' };
    case 2: {
      if (timers.length === 0) return undefined;
      const [timer, c] = (timers[pick.which % timers.length] as string).split('|');
      return { type: 'timer', timer: timer as 'hold', ...(c ? { conn: c } : {}) };
    }
    case 3:
      w.nextIn += 1;
      w.open.add(`i${w.nextIn}`);
      return { type: 'tcp-incoming', conn: `i${w.nextIn}` };
    case 4:
      return conn?.startsWith('o') ? { type: 'tcp-acked', conn } : undefined;
    case 5:
      if (!conn) return undefined;
      w.open.delete(conn); // the socket is gone; the shell forgets its timers
      for (const t of [...w.timers]) if (t.endsWith(`|${conn}`)) w.timers.delete(t);
      return { type: 'tcp-fails', conn };
    case 6:
    case 7: {
      // mostly to a connection that awaits an OPEN, so that sessions make progress
      const waiting = inState(w, 'OpenSent');
      const c = pick.arg % 4 !== 0 && waiting.length > 0 ? waiting[pick.which % waiting.length] : conn;
      // some with graceful restart and R=0 (a peer that did not restart: a later R=1 OPEN then means it did)
      const gr = pick.arg % 5 < 3 ? [{ type: 'graceful-restart' as const, restarting: false, notification: false, restartTime: 120, families: [] }] : [];
      return c ? { type: 'open', conn: c, message: peerOpen({ bgpId: pick.arg % 2 ? '10.0.0.2' : '10.0.0.3', holdTime: [0, 3, 90][pick.arg % 3] }, gr) } : undefined;
    }
    case 8:
    case 9: {
      const confirming = inState(w, 'OpenConfirm');
      const c = pick.arg % 4 !== 0 && confirming.length > 0 ? confirming[pick.which % confirming.length] : conn;
      return c ? { type: 'keepalive', conn: c } : undefined;
    }
    case 10:
      return conn ? { type: 'notification', conn, message: { type: 'notification', code: 6, subcode: pick.arg % 10, data: new Uint8Array() } } : undefined;
    case 11:
      return conn ? { type: 'update', conn, payload: { kind: 'raw', bytes: new Uint8Array() } } : undefined;
    case 12:
      return { type: 'automatic-stop', subcode: 1, ...(pick.arg % 2 ? { restartAfterMs: 5000 } : {}) };
    case 13: {
      if (!conn) return undefined;
      const notification = { code: 1 + (pick.arg % 3), subcode: 1, data: new Uint8Array() };
      const type = (['header-error', 'open-error', 'update-error'] as const)[pick.arg % 3] as 'header-error';
      return { type, conn, notification };
    }
    default: {
      // an OPEN from a graceful-restart peer, with R=1 once a session is Established (the peer
      // restarted: the new connection then replaces the Established one, opened with R=0)
      const waiting = inState(w, 'OpenSent');
      const c = pick.arg % 4 !== 0 && waiting.length > 0 ? waiting[pick.which % waiting.length] : conn;
      const restarting = inState(w, 'Established').length > 0;
      return c ? { type: 'open', conn: c, message: peerOpen({}, [{ type: 'graceful-restart', restarting, notification: false, restartTime: 120, families: [] }]) } : undefined;
    }
  }
}

function checkInvariants(w: World): void {
  const { primary, secondary } = w.p;
  const owned = new Set([primary.conn, secondary?.conn].filter((c): c is string => c !== null && c !== undefined));
  // every connection the shell still holds is owned by an FSM: nothing leaks
  for (const c of w.open) expect(owned, `leaked connection ${c}`).toContain(c);
  // no per-connection timer for a connection nobody owns
  for (const t of w.timers) {
    const c = t.split('|')[1];
    if (c) expect(owned, `timer ${t} outlived its connection`).toContain(c);
  }
  for (const f of [primary, secondary]) {
    if (!f) continue;
    expect(f.conn === null, `${f.state} conn ${f.conn}`).toBe(f.state === 'Idle' || f.state === 'Active');
    expect(f.negotiated !== null).toBe(f.state === 'OpenConfirm' || f.state === 'Established');
    if (f.state === 'OpenSent' || ((f.state === 'OpenConfirm' || f.state === 'Established') && (f.negotiated?.holdTime ?? 0) > 0)) {
      expect(w.timers, `${f.state} needs a hold timer`).toContain(`hold|${f.conn}`);
    }
    if ((f.state === 'OpenConfirm' || f.state === 'Established') && (f.negotiated?.holdTime ?? 0) > 0) expect(w.timers).toContain(`keepalive|${f.conn}`);
  }
  if (secondary) expect(secondary.state).not.toBe('Idle');
  if (primary.state === 'Connect') expect(w.timers).toContain('connect-retry');
  if (primary.state === 'Idle' && primary.enabled) expect(w.timers, 'idle Idle without restart').toContain('idle-hold');
  if (primary.state === 'Idle' && !primary.enabled) expect(w.timers.has('idle-hold')).toBe(false);
}

describe('peer reducer invariants under random event sequences', () => {
  it.each([false, true])('passive=%s', (passive) => {
    const reached = new Set<string>();
    fc.assert(
      fc.property(fc.noBias(fc.array(fc.record({ kind: fc.nat(1_000_000), which: fc.nat(1000), arg: fc.nat(1000) }), { minLength: 10, maxLength: 60 })), (picks) => {
        const w: World = { p: initialPeer(cfg({ passive }), 3), open: new Set(), timers: new Set(), nextIn: 0, now: 0 };
        for (const pick of picks) {
          const e = eventFor(w, pick);
          if (!e) continue;
          w.now += 1000;
          const frozen = JSON.stringify(w.p);
          const r = peerStep(w.p, e, w.now);
          expect(JSON.stringify(w.p)).toBe(frozen);
          w.p = r.state;
          apply(w, r.actions);
          checkInvariants(w);
          reached.add(w.p.primary.state);
          if (w.p.secondary) reached.add(`secondary:${w.p.secondary.state}`);
          if (r.actions.some((a) => a.type === 'close' && a.notification?.subcode === 7 && a.notification.code === 6)) reached.add('collision-dump');
          if (r.actions.some((a) => a.type === 'upward' && a.event.type === 'down' && a.event.reason.cause === 'peer-restarted')) reached.add('peer-restarted');
        }
      }),
      { numRuns: 1000, seed: 7 },
    );
    // the generator really explores the interesting states
    for (const s of ['Active', 'OpenSent', 'OpenConfirm', 'Established', 'secondary:OpenSent', 'secondary:OpenConfirm', 'collision-dump', 'peer-restarted']) {
      expect(reached).toContain(s);
    }
    if (!passive) expect(reached).toContain('Connect');
  });
});
