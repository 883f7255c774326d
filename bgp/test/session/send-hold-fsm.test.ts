/** The RFC 9687 SendHoldTimer in the pure FSM: armed while output waits, stopped when it flushes, NOTIFICATION 8 on expiry. */
import { describe, expect, it } from 'vitest';
import { initialFsm, step, type FsmState } from '../../src/session/fsm.js';
import type { SessionAction, SessionConfig, SessionEvent } from '../../src/session/types.js';
import { cfg, peerOpen } from './helpers.js';

const C = 'o1';

function established(config: SessionConfig, peerHold = 90): FsmState {
  let s = initialFsm(config, { seed: 1 });
  for (const e of [{ type: 'manual-start' }, { type: 'tcp-acked', conn: C }, { type: 'open', conn: C, message: { ...peerOpen(), holdTime: peerHold } }, { type: 'keepalive', conn: C }] as SessionEvent[]) s = step(s, e, 0).state;
  expect(s.state).toBe('Established');
  return s;
}

function run(s: FsmState, e: SessionEvent): { s: FsmState; a: SessionAction[] } {
  const r = step(s, e, 0);
  return { s: r.state, a: r.actions };
}

describe('SendHoldTimer (RFC 9687)', () => {
  it('defaults to max(8 min, 2 × hold time), restarts on progress, stops when flushed', () => {
    const s = established(cfg());
    expect(run(s, { type: 'send-progress', conn: C, pending: true }).a).toEqual([{ type: 'arm-timer', timer: 'send-hold', ms: 480_000, conn: C }]);
    expect(run(s, { type: 'send-progress', conn: C, pending: false }).a).toEqual([{ type: 'cancel-timer', timer: 'send-hold', conn: C }]);
    const long = established(cfg({ holdTime: 600 }), 600);
    expect(run(long, { type: 'send-progress', conn: C, pending: true }).a).toMatchObject([{ ms: 1_200_000 }]);
  });

  it('expiry sends NOTIFICATION 8/0, closes the connection and reports the session down', () => {
    const r = run(established(cfg({ sendHoldTime: 5 })), { type: 'timer', timer: 'send-hold', conn: C });
    expect(r.s.state).toBe('Idle');
    expect(r.a).toContainEqual({ type: 'close', conn: C, notification: { code: 8, subcode: 0, data: new Uint8Array(0) } });
    expect(r.a.some((x) => x.type === 'upward' && x.event.type === 'down')).toBe(true);
  });

  it('is off with sendHoldTime 0 and with a negotiated hold time of 0', () => {
    expect(run(established(cfg({ sendHoldTime: 0 })), { type: 'send-progress', conn: C, pending: true }).a).toEqual([{ type: 'cancel-timer', timer: 'send-hold', conn: C }]);
    expect(run(established(cfg({ holdTime: 0 }), 0), { type: 'send-progress', conn: C, pending: true }).a).toEqual([{ type: 'cancel-timer', timer: 'send-hold', conn: C }]);
  });
});
