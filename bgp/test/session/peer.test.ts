/** Connection collision detection (RFC 4271 §6.8) and the peer reducer's routing of events. */
import { describe, expect, it } from 'vitest';
import { initialPeer, peerState, peerStep, type PeerState } from '../../src/session/peer.js';
import type { SessionAction, SessionConfig, SessionEvent } from '../../src/session/types.js';
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

const open = (conn: string, bgpId = '10.0.0.2'): SessionEvent => ({ type: 'open', conn, message: peerOpen({ bgpId }) });
const ka = (conn: string): SessionEvent => ({ type: 'keepalive', conn });
const closes = (a: SessionAction[]): Array<{ conn: string; subcode?: number }> =>
  a.flatMap((x) => (x.type === 'close' ? [{ conn: x.conn, ...(x.notification ? { subcode: x.notification.subcode } : {}) }] : []));

/** Outbound o1 in OpenSent, then inbound i1 accepted as the second connection. */
function twoConnections(config: SessionConfig = cfg()): PeerState {
  const r = drive(initialPeer(config, 7), [{ type: 'manual-start' }, { type: 'tcp-acked', conn: 'o1' }, { type: 'tcp-incoming', conn: 'i1' }]);
  expect(r.p.primary.conn).toBe('o1');
  expect(r.p.secondary?.conn).toBe('i1');
  expect(r.p.secondary?.state).toBe('OpenSent');
  return r.p;
}

describe('collision detection (RFC 4271 §6.8)', () => {
  it.each([
    // [our id, peer id, first OPEN on, survivor]
    ['10.0.0.1', '10.0.0.2', 'o1', 'i1'], // ours lower: close the connection we initiated
    ['10.0.0.1', '10.0.0.2', 'i1', 'i1'],
    ['10.0.0.9', '10.0.0.2', 'o1', 'o1'], // ours higher: close the one the peer initiated
    ['10.0.0.9', '10.0.0.2', 'i1', 'o1'],
    ['9.255.255.255', '10.0.0.0', 'o1', 'i1'], // compared as unsigned integers, not text
    ['200.0.0.1', '10.0.0.2', 'i1', 'o1'],
  ])('ours %s, peer %s, OPEN first on %s → %s survives', (localId, peerId, first, survivor) => {
    const p = twoConnections(cfg({ localId }));
    const second = first === 'o1' ? 'i1' : 'o1';
    const r = drive(p, [open(first, peerId), open(second, peerId)]);
    const loser = survivor === 'o1' ? 'i1' : 'o1';
    expect(closes(r.actions)).toEqual([{ conn: loser, subcode: 7 }]);
    expect(r.p.secondary).toBeNull();
    expect(r.p.primary.conn).toBe(survivor);
    expect(r.p.primary.state).toBe('OpenConfirm');
    expect(r.p.primary.restartable).toBe(true);
    // the survivor goes on to Established
    const up = drive(r.p, [ka(survivor)]);
    expect(peerState(up.p)).toBe('Established');
    expect(up.actions).toContainEqual(expect.objectContaining({ type: 'upward', event: expect.objectContaining({ type: 'established', conn: survivor }) }));
  });

  it('no connect-retry or idle-hold timer survives a promotion', () => {
    const p = twoConnections(cfg({ localId: '10.0.0.1' }));
    const r = drive(p, [open('o1'), open('i1')]);
    const last = (t: string): SessionAction | undefined => r.actions.filter((a) => (a.type === 'arm-timer' || a.type === 'cancel-timer') && a.timer === t).at(-1);
    expect(last('idle-hold')).toMatchObject({ type: 'cancel-timer' });
    expect(last('connect-retry')).toMatchObject({ type: 'cancel-timer' });
  });

  it.each([
    // [our id, survivor]: the identifier rule applies against an Established connection too
    ['10.0.0.9', 'o1'], // ours higher: the peer's new connection is dumped, the session stays
    ['10.0.0.1', 'i1'], // ours lower: the peer keeps the connection it initiated, so do we
  ])('a new connection against an Established session: ours %s → %s survives (§8.1.1 CollisionDetectEstablishedState)', (localId, survivor) => {
    const up = drive(initialPeer(cfg({ localId }), 1), [{ type: 'manual-start' }, { type: 'tcp-acked', conn: 'o1' }, open('o1'), ka('o1')]);
    expect(peerState(up.p)).toBe('Established');
    const r = drive(up.p, [{ type: 'tcp-incoming', conn: 'i1' }, open('i1')]);
    const loser = survivor === 'o1' ? 'i1' : 'o1';
    expect(closes(r.actions)).toEqual([{ conn: loser, subcode: 7 }]);
    expect(r.p.primary.conn).toBe(survivor);
    expect(r.p.secondary).toBeNull();
    expect(r.actions.some((a) => a.type === 'upward' && a.event.type === 'down')).toBe(loser === 'o1');
    // the dumped connection gets no KEEPALIVE before its Cease: the peer never sees it Established
    expect(r.actions.some((a) => a.type === 'send' && a.conn === 'i1' && a.message.type === 'keepalive')).toBe(survivor === 'i1');
  });

  it('an Established inbound secondary wins over the primary reaching OpenConfirm later', () => {
    const p = twoConnections();
    const r = drive(p, [open('i1'), ka('i1'), open('o1')]);
    expect(peerState(r.p)).toBe('Established');
    expect(closes(r.actions)).toEqual([{ conn: 'o1', subcode: 7 }]);
    expect(r.p.primary.conn).toBe('i1');
    expect(r.p.secondary).toBeNull();
  });

  it.each([
    // [R bit of the Established session's OPEN, of the new one, what happens]
    [false, true, 'peer-restarted'], // the peer says it restarted since: drop the old session
    [true, true, 'collision'], // no news: the identifier rule (ours 10.0.0.9 is higher: the new one is dumped)
    [false, false, 'collision'],
  ])('graceful restart: Established with R=%s, new connection with R=%s → %s (RFC 4724 §4.2)', (oldR, newR, outcome) => {
    const grOpen = (conn: string, restarting: boolean): SessionEvent => ({
      type: 'open',
      conn,
      message: peerOpen({}, [{ type: 'graceful-restart', restarting, notification: false, restartTime: 120, families: [] }]),
    });
    const config = cfg({ localId: '10.0.0.9', gracefulRestart: { restartTime: 120, restarting: false, forwarding: [] } });
    const up = drive(initialPeer(config, 1), [{ type: 'manual-start' }, { type: 'tcp-acked', conn: 'o1' }, grOpen('o1', oldR), ka('o1')]);
    const r = drive(up.p, [{ type: 'tcp-incoming', conn: 'i1' }, grOpen('i1', newR)]);
    if (outcome === 'collision') {
      expect(closes(r.actions)).toEqual([{ conn: 'i1', subcode: 7 }]);
      expect(r.p.primary).toMatchObject({ conn: 'o1', state: 'Established' });
      return;
    }
    expect(closes(r.actions)).toEqual([{ conn: 'o1' }]);
    expect(r.actions).toContainEqual(
      expect.objectContaining({ type: 'upward', event: expect.objectContaining({ type: 'down', conn: 'o1', reason: { cause: 'peer-restarted' } }) }),
    );
    expect(r.p.primary.conn).toBe('i1');
    expect(r.p.primary.state).toBe('OpenConfirm');
    expect(drive(r.p, [ka('i1')]).p.primary.state).toBe('Established');
  });

  it('two inbound connections keep the newer one', () => {
    const p = drive(initialPeer(cfg({ passive: true }), 1), [
      { type: 'manual-start' },
      { type: 'tcp-incoming', conn: 'i1' },
      { type: 'tcp-incoming', conn: 'i2' },
    ]).p;
    const r = drive(p, [open('i1'), open('i2')]);
    expect(closes(r.actions)).toEqual([{ conn: 'i1', subcode: 7 }]);
    expect(r.p.primary.conn).toBe('i2');
  });

  it('both sides connecting at once: the inbound connection gets its own FSM while ours is pending', () => {
    const r = drive(initialPeer(cfg({ localId: '10.0.0.1' }), 1), [{ type: 'manual-start' }, { type: 'tcp-incoming', conn: 'i1' }]);
    expect(closes(r.actions)).toEqual([]);
    expect(r.p.primary).toMatchObject({ state: 'Connect', conn: 'o1' });
    expect(r.p.secondary).toMatchObject({ state: 'OpenSent', conn: 'i1' });
    // our attempt then succeeds: collision detection picks one when both have the OPEN
    const both = drive(r.p, [{ type: 'tcp-acked', conn: 'o1' }, open('i1'), open('o1')]);
    expect(closes(both.actions)).toEqual([{ conn: 'o1', subcode: 7 }]);
    expect(both.p.primary.conn).toBe('i1');
  });

  it('our attempt failing while the inbound one proceeds promotes the inbound one', () => {
    const r = drive(initialPeer(cfg(), 1), [{ type: 'manual-start' }, { type: 'tcp-incoming', conn: 'i1' }, { type: 'tcp-fails', conn: 'o1' }]);
    expect(r.p.secondary).toBeNull();
    expect(r.p.primary).toMatchObject({ state: 'OpenSent', conn: 'i1', restartable: true });
    expect(r.actions.filter((a) => a.type === 'cancel-timer' && a.timer === 'connect-retry').length).toBeGreaterThan(0);
  });

  it('the inbound session reaching Established abandons our pending attempt', () => {
    const r = drive(initialPeer(cfg(), 1), [{ type: 'manual-start' }, { type: 'tcp-incoming', conn: 'i1' }, open('i1'), ka('i1')]);
    expect(closes(r.actions)).toEqual([{ conn: 'o1' }]);
    expect(r.p.primary).toMatchObject({ state: 'Established', conn: 'i1' });
    expect(r.p.secondary).toBeNull();
  });

  it('a third simultaneous connection is rejected', () => {
    const r = drive(twoConnections(), [{ type: 'tcp-incoming', conn: 'i2' }]);
    expect(closes(r.actions)).toEqual([{ conn: 'i2', subcode: 5 }]);
  });

  it('no collision while the other connection is still in OpenSent', () => {
    const r = drive(twoConnections(), [open('o1')]);
    expect(closes(r.actions)).toEqual([]);
    expect(peerState(r.p)).toBe('OpenConfirm');
  });

  it('the secondary failing leaves the primary alone; the primary failing promotes the secondary', () => {
    const a = drive(twoConnections(), [{ type: 'tcp-fails', conn: 'i1' }]);
    expect(a.p.secondary).toBeNull();
    expect(a.p.primary.state).toBe('OpenSent');
    const b = drive(twoConnections(), [{ type: 'timer', timer: 'hold', conn: 'o1' }]);
    expect(b.p.secondary).toBeNull();
    expect(b.p.primary.conn).toBe('i1');
    expect(b.p.primary.state).toBe('OpenSent');
  });

  it('manual stop closes both connections with Cease and disables restarts', () => {
    const r = drive(twoConnections(), [{ type: 'manual-stop', subcode: 3 }]);
    expect(closes(r.actions).sort((x, y) => x.conn.localeCompare(y.conn))).toEqual([
      { conn: 'i1', subcode: 3 },
      { conn: 'o1', subcode: 3 },
    ]);
    expect(peerState(r.p)).toBe('Idle');
    expect(r.p.secondary).toBeNull();
    expect(r.actions.some((a) => a.type === 'arm-timer')).toBe(false);
  });

  it('messages on a connection nobody owns close it', () => {
    const r = drive(initialPeer(cfg(), 1), [{ type: 'manual-start' }, { type: 'tcp-acked', conn: 'o7' }]);
    expect(closes(r.actions)).toEqual([{ conn: 'o7' }]);
  });

  it('reports state changes upward', () => {
    const r = drive(initialPeer(cfg(), 1), [{ type: 'manual-start' }, { type: 'tcp-acked', conn: 'o1' }, open('o1'), ka('o1')]);
    const states = r.actions.flatMap((a) => (a.type === 'upward' && a.event.type === 'state' ? [a.event.to] : []));
    expect(states).toEqual(['Connect', 'OpenSent', 'OpenConfirm', 'Established']);
  });
});
