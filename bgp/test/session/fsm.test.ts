/** Table-driven tests of the connection FSM reducer (RFC 4271 §8.2.2): every state × relevant event. */
import { describe, expect, it } from 'vitest';
import { initialFsm, step, type FsmState } from '../../src/session/fsm.js';
import type { SessionAction, SessionConfig, SessionEvent, SessionState } from '../../src/session/types.js';
import { cfg, peerOpen } from './helpers.js';

const C = 'o1';
const NOTIF_CEASE_ADMIN = { code: 6, subcode: 2 };

/** Steps through `events` from `s`, collecting every action. */
function drive(s: FsmState, events: SessionEvent[], now = 0): { s: FsmState; actions: SessionAction[] } {
  const actions: SessionAction[] = [];
  for (const e of events) {
    const r = step(s, e, now);
    s = r.state;
    actions.push(...r.actions);
  }
  return { s, actions };
}

/** An FSM brought to `state` the usual way (active peer, outbound connection o1). */
function at(state: SessionState, config: SessionConfig = cfg()): FsmState {
  const path: Record<SessionState, SessionEvent[]> = {
    Idle: [],
    Connect: [{ type: 'manual-start' }],
    Active: [{ type: 'manual-start' }, { type: 'tcp-fails', conn: C }],
    OpenSent: [{ type: 'manual-start' }, { type: 'tcp-acked', conn: C }],
    OpenConfirm: [{ type: 'manual-start' }, { type: 'tcp-acked', conn: C }, { type: 'open', conn: C, message: peerOpen() }],
    Established: [
      { type: 'manual-start' },
      { type: 'tcp-acked', conn: C },
      { type: 'open', conn: C, message: peerOpen() },
      { type: 'keepalive', conn: C },
    ],
  };
  const s = drive(initialFsm(config, { seed: 1 }), path[state]).s;
  expect(s.state).toBe(state);
  return s;
}

type Check = (a: SessionAction[]) => void;
const sends = (t: string): Check => (a) => expect(a.some((x) => x.type === 'send' && x.message.type === t)).toBe(true);
const closesWith = (n?: { code: number; subcode: number }): Check => (a) => {
  const c = a.find((x) => x.type === 'close');
  expect(c).toBeDefined();
  if (n) expect(c && c.type === 'close' && c.notification).toMatchObject(n);
  else expect(c && c.type === 'close' && c.notification).toBeFalsy();
};
const arms = (timer: string, ms?: number): Check => (a) =>
  expect(a.some((x) => x.type === 'arm-timer' && x.timer === timer && (ms === undefined || x.ms === ms))).toBe(true);
const upward = (t: string): Check => (a) => expect(a.some((x) => x.type === 'upward' && x.event.type === t)).toBe(true);
const noActions: Check = (a) => expect(a).toEqual([]);
const connects: Check = (a) => expect(a.some((x) => x.type === 'connect')).toBe(true);

const notif = (code: number, subcode: number): SessionEvent => ({
  type: 'notification',
  conn: C,
  message: { type: 'notification', code, subcode, data: new Uint8Array() },
});
const hdrErr: SessionEvent = { type: 'header-error', conn: C, notification: { code: 1, subcode: 2, data: new Uint8Array() } };
const openErr: SessionEvent = { type: 'open-error', conn: C, notification: { code: 2, subcode: 4, data: new Uint8Array() } };
const updErr: SessionEvent = { type: 'update-error', conn: C, notification: { code: 3, subcode: 1, data: new Uint8Array() } };
const upd: SessionEvent = {
  type: 'update',
  conn: C,
  payload: { kind: 'raw', bytes: new Uint8Array() },
};
const rr: SessionEvent = { type: 'route-refresh', conn: C, message: { type: 'route-refresh', afi: 1, safi: 1, subtype: 0 } };

type Row = [from: SessionState, event: SessionEvent, to: SessionState, ...checks: Check[]];
const rows: Row[] = [
  // Idle
  ['Idle', { type: 'manual-start' }, 'Connect', connects, arms('connect-retry', 5000)],
  ['Idle', { type: 'automatic-start' }, 'Idle', noActions], // not enabled: a manually stopped peer stays down
  ['Idle', { type: 'manual-stop' }, 'Idle'],
  ['Idle', { type: 'tcp-incoming', conn: 'i1' }, 'Idle', closesWith({ code: 6, subcode: 5 })],
  ['Idle', { type: 'keepalive', conn: C }, 'Idle', noActions],
  ['Idle', { type: 'timer', timer: 'hold', conn: C }, 'Idle', noActions],
  // Connect
  ['Connect', { type: 'manual-stop' }, 'Idle', closesWith()],
  ['Connect', { type: 'timer', timer: 'connect-retry' }, 'Connect', closesWith(), connects, arms('connect-retry', 10_000)],
  ['Connect', { type: 'tcp-acked', conn: C }, 'OpenSent', sends('open'), arms('hold', 240_000)],
  ['Connect', { type: 'tcp-incoming', conn: 'i1' }, 'OpenSent', closesWith(), sends('open')],
  ['Connect', { type: 'tcp-fails', conn: C }, 'Active', arms('connect-retry', 10_000)],
  ['Connect', { type: 'tcp-fails', conn: 'o9' }, 'Connect', noActions], // a stale attempt
  ['Connect', { type: 'automatic-stop', subcode: 6 }, 'Idle', arms('idle-hold', 1000)],
  // Active
  ['Active', { type: 'manual-stop' }, 'Idle'],
  ['Active', { type: 'timer', timer: 'connect-retry' }, 'Connect', connects],
  ['Active', { type: 'tcp-incoming', conn: 'i1' }, 'OpenSent', sends('open'), arms('hold', 240_000)],
  ['Active', { type: 'keepalive', conn: C }, 'Active', noActions],
  // OpenSent
  ['OpenSent', { type: 'manual-stop' }, 'Idle', closesWith(NOTIF_CEASE_ADMIN)],
  ['OpenSent', { type: 'automatic-stop', subcode: 1 }, 'Idle', closesWith({ code: 6, subcode: 1 }), arms('idle-hold')],
  ['OpenSent', { type: 'timer', timer: 'hold', conn: C }, 'Idle', closesWith({ code: 4, subcode: 0 }), arms('idle-hold')],
  ['OpenSent', { type: 'tcp-fails', conn: C }, 'Active', closesWith(), arms('connect-retry')],
  ['OpenSent', { type: 'open', conn: C, message: peerOpen() }, 'OpenConfirm', sends('keepalive'), arms('hold', 90_000), arms('keepalive', 30_000)],
  ['OpenSent', { type: 'open', conn: C, message: peerOpen({ version: 3 }) }, 'Idle', closesWith({ code: 2, subcode: 1 })],
  ['OpenSent', hdrErr, 'Idle', closesWith({ code: 1, subcode: 2 })],
  ['OpenSent', openErr, 'Idle', closesWith({ code: 2, subcode: 4 })],
  ['OpenSent', notif(2, 1), 'Idle', closesWith()],
  ['OpenSent', notif(6, 2), 'Idle', closesWith()],
  ['OpenSent', { type: 'keepalive', conn: C }, 'Idle', closesWith({ code: 5, subcode: 1 })],
  ['OpenSent', upd, 'Idle', closesWith({ code: 5, subcode: 1 })],
  ['OpenSent', { type: 'collision-dump', conn: C }, 'Idle', closesWith({ code: 6, subcode: 7 })],
  ['OpenSent', { type: 'timer', timer: 'keepalive', conn: C }, 'OpenSent', noActions],
  // OpenConfirm
  ['OpenConfirm', { type: 'manual-stop' }, 'Idle', closesWith(NOTIF_CEASE_ADMIN)],
  ['OpenConfirm', { type: 'timer', timer: 'hold', conn: C }, 'Idle', closesWith({ code: 4, subcode: 0 })],
  ['OpenConfirm', { type: 'timer', timer: 'keepalive', conn: C }, 'OpenConfirm', sends('keepalive'), arms('keepalive', 30_000)],
  ['OpenConfirm', { type: 'tcp-fails', conn: C }, 'Idle', closesWith(), arms('idle-hold')],
  ['OpenConfirm', { type: 'keepalive', conn: C }, 'Established', upward('established'), arms('hold', 90_000)],
  ['OpenConfirm', notif(6, 4), 'Idle', closesWith()],
  ['OpenConfirm', hdrErr, 'Idle', closesWith({ code: 1, subcode: 2 })],
  ['OpenConfirm', openErr, 'Idle', closesWith({ code: 2, subcode: 4 })],
  ['OpenConfirm', { type: 'collision-dump', conn: C }, 'Idle', closesWith({ code: 6, subcode: 7 })],
  ['OpenConfirm', { type: 'open', conn: C, message: peerOpen() }, 'Idle', closesWith({ code: 5, subcode: 2 })],
  ['OpenConfirm', upd, 'Idle', closesWith({ code: 5, subcode: 2 })],
  // Established
  ['Established', { type: 'manual-stop', subcode: 3 }, 'Idle', closesWith({ code: 6, subcode: 3 }), upward('down')],
  ['Established', { type: 'automatic-stop', subcode: 1, restartAfterMs: 7000 }, 'Idle', closesWith({ code: 6, subcode: 1 }), arms('idle-hold', 7000)],
  ['Established', { type: 'timer', timer: 'hold', conn: C }, 'Idle', closesWith({ code: 4, subcode: 0 }), upward('down')],
  ['Established', { type: 'timer', timer: 'hold', conn: 'o0' }, 'Established', noActions], // a stale timer
  ['Established', { type: 'timer', timer: 'keepalive', conn: C }, 'Established', sends('keepalive'), arms('keepalive', 30_000)],
  ['Established', { type: 'tcp-fails', conn: C }, 'Idle', upward('down'), arms('idle-hold')],
  ['Established', { type: 'keepalive', conn: C }, 'Established', arms('hold', 90_000)],
  ['Established', upd, 'Established', arms('hold', 90_000), upward('update')],
  ['Established', updErr, 'Idle', closesWith({ code: 3, subcode: 1 }), upward('down')],
  ['Established', hdrErr, 'Idle', closesWith({ code: 1, subcode: 2 })],
  ['Established', notif(6, 2), 'Idle', upward('down')],
  ['Established', rr, 'Established', upward('route-refresh')],
  ['Established', { ...rr, message: { type: 'route-refresh', afi: 25, safi: 65, subtype: 0 } } as SessionEvent, 'Established', arms('hold')],
  ['Established', { type: 'open', conn: C, message: peerOpen() }, 'Idle', closesWith({ code: 5, subcode: 3 })],
  ['Established', { type: 'collision-dump', conn: C }, 'Idle', closesWith({ code: 6, subcode: 7 })],
  ['Established', { type: 'manual-start' }, 'Established', noActions],
];

describe('FSM transitions (RFC 4271 §8.2.2)', () => {
  it.each(rows.map((r, i) => [i, r[0], r[1].type + ('timer' in r[1] ? `:${r[1].timer}` : ''), r] as const))(
    '#%i %s + %s',
    (_i, _from, _ev, row) => {
      const [from, event, to, ...checks] = row;
      const before = at(from);
      const frozen = JSON.stringify(before);
      const r = step(before, event, 1000);
      expect(r.state.state).toBe(to);
      for (const c of checks) c(r.actions);
      expect(JSON.stringify(before)).toBe(frozen); // pure: the input state is untouched
    },
  );
});

describe('FSM behaviours', () => {
  it('a passive peer waits in Active and never connects', () => {
    const s = at('Idle', cfg({ passive: true }));
    const r = drive(s, [{ type: 'manual-start' }, { type: 'timer', timer: 'connect-retry' }]);
    expect(r.s.state).toBe('Active');
    expect(r.actions.some((a) => a.type === 'connect' || a.type === 'arm-timer')).toBe(false);
    const r2 = step(r.s, { type: 'tcp-incoming', conn: 'i4' }, 0);
    expect(r2.state.state).toBe('OpenSent');
    expect(r2.state.outbound).toBe(false);
  });

  it('hold time 0 disables the hold and keepalive timers', () => {
    const r = drive(at('OpenSent', cfg({ holdTime: 0 })), [{ type: 'open', conn: C, message: peerOpen({ holdTime: 90 }) }]);
    expect(r.s.negotiated?.holdTime).toBe(0);
    expect(r.actions).toContainEqual({ type: 'cancel-timer', timer: 'hold', conn: C });
    expect(r.actions.some((a) => a.type === 'arm-timer' && a.timer === 'keepalive')).toBe(false);
  });

  it('connect retries back off exponentially up to the cap', () => {
    let s = at('Connect');
    const delays: number[] = [];
    for (let i = 0; i < 6; i++) {
      const r = drive(s, [{ type: 'tcp-fails', conn: s.conn as string }]);
      const arm = r.actions.find((a) => a.type === 'arm-timer' && a.timer === 'connect-retry');
      delays.push(arm && arm.type === 'arm-timer' ? arm.ms : -1);
      s = drive(r.s, [{ type: 'timer', timer: 'connect-retry' }]).s;
    }
    expect(delays).toEqual([10_000, 20_000, 40_000, 60_000, 60_000, 60_000]);
  });

  it('jitter keeps delays within [d·(1-j), d] and is reproducible from the seed', () => {
    const config = cfg({ idleHold: { baseMs: 1000, maxMs: 30_000, jitter: 0.25 } });
    const run = (seed: number): number[] => {
      let s = { ...at('Established', config), rng: seed };
      const out: number[] = [];
      for (let i = 0; i < 5; i++) {
        const r = step(s, { type: 'timer', timer: 'hold', conn: s.conn as string }, 0);
        const arm = r.actions.find((a) => a.type === 'arm-timer' && a.timer === 'idle-hold');
        out.push(arm && arm.type === 'arm-timer' ? arm.ms : -1);
        s = drive(r.state, [{ type: 'timer', timer: 'idle-hold' }, { type: 'tcp-acked', conn: `o${r.state.connSeq + 1}` }]).s;
        s = drive(s, [{ type: 'open', conn: s.conn as string, message: peerOpen() }]).s;
        s = { ...s, state: 'Established' };
      }
      return out;
    };
    const a = run(42);
    expect(run(42)).toEqual(a);
    a.forEach((ms, i) => {
      const d = Math.min(30_000, 1000 * 2 ** i);
      expect(ms).toBeGreaterThanOrEqual(d * 0.75);
      expect(ms).toBeLessThanOrEqual(d);
    });
  });

  it('the idle-hold timer restarts the session, and an Established resets the failure count', () => {
    const down = step(at('Established'), { type: 'tcp-fails', conn: C }, 0).state;
    expect(down.failures).toBe(1);
    const restarted = step(down, { type: 'timer', timer: 'idle-hold' }, 1000);
    expect(restarted.state.state).toBe('Connect');
    expect(restarted.actions).toContainEqual({ type: 'connect', conn: 'o2' });
    const up = drive(restarted.state, [
      { type: 'tcp-acked', conn: 'o2' },
      { type: 'open', conn: 'o2', message: peerOpen() },
      { type: 'keepalive', conn: 'o2' },
    ]).s;
    expect(up.failures).toBe(0);
  });

  it('DampPeerOscillations keeps the failure count for sessions shorter than the damping period', () => {
    const config = cfg({ dampPeerOscillationsMs: 60_000 });
    let s = at('Established', config);
    s = { ...s, failures: 3, establishedAt: 0 };
    const flap = step(s, { type: 'tcp-fails', conn: C }, 10_000);
    expect(flap.state.failures).toBe(4);
    expect(flap.actions).toContainEqual({ type: 'arm-timer', timer: 'idle-hold', ms: 8000 });
    const stable = step(s, { type: 'tcp-fails', conn: C }, 120_000);
    expect(stable.state.failures).toBe(1);
  });

  it('in Idle, an inbound connection is taken while only the error backoff is pending', () => {
    const down = step(at('Established'), { type: 'tcp-fails', conn: C }, 0).state;
    expect(down.restartPending).toBe('backoff');
    const r = step(down, { type: 'tcp-incoming', conn: 'i3' }, 10);
    expect(r.state).toMatchObject({ state: 'OpenSent', conn: 'i3', outbound: false, restartPending: null });
    expect(r.actions).toContainEqual({ type: 'cancel-timer', timer: 'idle-hold' });
  });

  it('in Idle, an inbound connection is refused during a hold-down (AutomaticStop with a delay) or after a stop', () => {
    const held = step(at('Established'), { type: 'automatic-stop', subcode: 1, restartAfterMs: 60_000 }, 0).state;
    expect(held.restartPending).toBe('hold-down');
    expect(step(held, { type: 'tcp-incoming', conn: 'i3' }, 10).actions).toEqual([
      { type: 'close', conn: 'i3', notification: { code: 6, subcode: 5, data: new Uint8Array() } },
    ]);
    const stopped = step(at('Established'), { type: 'manual-stop' }, 0).state;
    expect(step(stopped, { type: 'tcp-incoming', conn: 'i3' }, 10).state.state).toBe('Idle');
  });

  it('a manual stop disables automatic restarts', () => {
    const r = drive(at('Established'), [{ type: 'manual-stop' }, { type: 'timer', timer: 'idle-hold' }, { type: 'automatic-start' }]);
    expect(r.s.state).toBe('Idle');
    expect(r.actions.some((a) => a.type === 'connect' || (a.type === 'arm-timer' && a.timer === 'idle-hold'))).toBe(false);
  });

  it('autoRestart off: an error leaves the peer in Idle with no timer', () => {
    const r = step(at('Established', cfg({ autoRestart: false })), { type: 'tcp-fails', conn: C }, 0);
    expect(r.state.state).toBe('Idle');
    expect(r.actions.some((a) => a.type === 'arm-timer')).toBe(false);
  });

  it('the down event says why the session ended', () => {
    const sent = step(at('Established'), updErr, 0).actions.find((a) => a.type === 'upward' && a.event.type === 'down');
    expect(sent).toMatchObject({ event: { reason: { cause: 'notification-sent', notification: { code: 3 } } } });
    const recv = step(at('Established'), notif(6, 4), 0).actions.find((a) => a.type === 'upward' && a.event.type === 'down');
    expect(recv).toMatchObject({ event: { reason: { cause: 'notification-received', notification: { code: 6, subcode: 4 } } } });
    const lost = step(at('Established'), { type: 'tcp-fails', conn: C }, 0).actions.find((a) => a.type === 'upward' && a.event.type === 'down');
    expect(lost).toMatchObject({ event: { reason: { cause: 'connection-lost' } } });
  });

  it('OpenConfirm switches the codec context of the connection', () => {
    const r = step(at('OpenSent', cfg({ addPath: { 'ipv4-unicast': 'both' } })), {
      type: 'open',
      conn: C,
      message: peerOpen({}, [{ type: 'add-path', families: [{ afi: 1, safi: 1, mode: 1 }] }]),
    }, 0);
    const ctx = r.actions.find((a) => a.type === 'set-context');
    expect(ctx && ctx.type === 'set-context' && [...ctx.send.addPath]).toEqual(['ipv4-unicast']);
    expect(ctx && ctx.type === 'set-context' && [...ctx.receive.addPath]).toEqual([]);
  });
});
