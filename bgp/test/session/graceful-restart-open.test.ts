/**
 * RFC 4724 §4.1: the graceful restart capability in our OPEN comes from the state at the time
 * the OPEN is built, so a reconnect after our restart is over carries R=0 (`set-graceful-restart`).
 */
import { describe, expect, it } from 'vitest';
import type { Capability } from '../../src/codec/types.js';
import { initialPeer, peerStep, type PeerState } from '../../src/session/peer.js';
import type { LocalGracefulRestart, SessionAction, SessionEvent } from '../../src/session/types.js';
import { cfg, peerOpen } from './helpers.js';

function drive(p: PeerState, events: SessionEvent[]): { p: PeerState; actions: SessionAction[] } {
  const actions: SessionAction[] = [];
  for (const e of events) {
    const r = peerStep(p, e, 0);
    p = r.state;
    actions.push(...r.actions);
  }
  return { p, actions };
}

/** The GR capability of every OPEN among `actions`. */
function grOfOpens(actions: SessionAction[]): Array<Extract<Capability, { type: 'graceful-restart' }> | undefined> {
  return actions.flatMap((a) => {
    if (a.type !== 'send' || a.message.type !== 'open') return [];
    const c = a.message.capabilities.find((x) => x.type === 'graceful-restart');
    return [c?.type === 'graceful-restart' ? c : undefined];
  });
}

const restarting: LocalGracefulRestart = { restartTime: 120, restarting: true, notification: true, forwarding: ['ipv4-unicast'] };
const grOpen = peerOpen({}, [{ type: 'graceful-restart', restarting: false, notification: true, restartTime: 120, families: [{ afi: 1, safi: 1, forwardingState: true }] }]);
const up = (conn: string): SessionEvent[] => [{ type: 'tcp-acked', conn }, { type: 'open', conn, message: grOpen }, { type: 'keepalive', conn }];

describe('set-graceful-restart (RFC 4724 §4.1)', () => {
  it('the first OPEN carries R=1; after the update a reconnect carries R=0 with the same F and N bits', () => {
    const first = drive(initialPeer(cfg({ families: ['ipv4-unicast'], gracefulRestart: restarting }), 1), [{ type: 'manual-start' }, ...up('o1')]);
    expect(first.p.primary.state).toBe('Established');
    expect(grOfOpens(first.actions)).toEqual([{ type: 'graceful-restart', restarting: true, notification: true, restartTime: 120, families: [{ afi: 1, safi: 1, forwardingState: true }] }]);

    // Still restarting: a reconnect (connection lost, automatic restart) keeps R=1.
    const again = drive(first.p, [{ type: 'tcp-fails', conn: 'o1' }, { type: 'timer', timer: 'idle-hold' }, ...up('o2')]);
    expect(again.p.primary.state).toBe('Established');
    expect(grOfOpens(again.actions).map((g) => g?.restarting)).toEqual([true]);

    // Restart over: no action now (the OPEN already sent stays as it was)...
    const set = peerStep(again.p, { type: 'set-graceful-restart', gracefulRestart: { ...restarting, restarting: false } }, 0);
    expect(set.actions).toEqual([]);
    expect(set.state.primary.state).toBe('Established');
    // ...and the next connection's OPEN carries R=0, N and F unchanged.
    const later = drive(set.state, [{ type: 'tcp-fails', conn: 'o2' }, { type: 'timer', timer: 'idle-hold' }, ...up('o3')]);
    expect(grOfOpens(later.actions)).toEqual([{ type: 'graceful-restart', restarting: false, notification: true, restartTime: 120, families: [{ afi: 1, safi: 1, forwardingState: true }] }]);
  });

  it('applies to an inbound connection accepted later, and undefined removes the capability', () => {
    const p = drive(initialPeer(cfg({ families: ['ipv4-unicast'], gracefulRestart: restarting, passive: true }), 1), [
      { type: 'manual-start' },
      { type: 'set-graceful-restart', gracefulRestart: { ...restarting, restarting: false } },
      { type: 'tcp-incoming', conn: 'i1' },
    ]);
    expect(grOfOpens(p.actions).map((g) => g?.restarting)).toEqual([false]);
    const q = drive(initialPeer(cfg({ gracefulRestart: restarting, passive: true }), 1), [
      { type: 'set-graceful-restart', gracefulRestart: undefined },
      { type: 'manual-start' },
      { type: 'tcp-incoming', conn: 'i1' },
    ]);
    expect(grOfOpens(q.actions)).toEqual([undefined]);
  });
});
