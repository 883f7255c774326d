/** Graceful restart (RFC 4724, RFC 8538) sequences with a fake clock. */
import { describe, expect, it } from 'vitest';
import type { GrHelperState, PeerSession } from '../../src/rib/index.js';
import { announce, EOR4, pfx, rib, session, updatesFor } from './helpers.js';

const grCap = (restartTime = 120, forwardingState = true, notification = false): PeerSession['gracefulRestart'] => ({
  type: 'graceful-restart',
  restarting: false,
  notification,
  restartTime,
  families: [{ afi: 1, safi: 1, forwardingState }],
});

function helperSetup(cap: PeerSession['gracefulRestart'] | null = grCap(), weN = false) {
  const r = rib({ gracefulRestart: { stalePathMs: 60_000 } });
  r.addPeer({ id: 'g', address: '10.0.0.2', asn: 65001 });
  r.addPeer({ id: 'o', address: '10.0.0.3', asn: 65000 });
  r.peerUp('g', session('2.2.2.2', undefined, { families: ['ipv4-unicast'], gracefulRestart: cap ?? undefined, weAdvertisedNotificationBit: weN }), 0);
  r.peerUp('o', session('3.3.3.3', undefined, { families: ['ipv4-unicast'] }), 0);
  r.ingest('g', announce(['10.1.0.0/16', '10.2.0.0/16'], { asPath: [{ type: 2, asns: [65001] }] }));
  r.flush();
  return r;
}

const phase = (st: GrHelperState) => st.phase;

describe('GR helper (RFC 4724 §4.2)', () => {
  it('keeps routes stale across a restart; End-of-RIB purges what was not re-sent', () => {
    const r = helperSetup();
    r.peerDown('g', { kind: 'transport' }, 1_000);
    expect(phase(r.peerGrState('g'))).toBe('restarting');
    expect(r.nextDeadline()).toBe(121_000);
    expect(r.best(pfx('10.1.0.0/16'))).toMatchObject({ peer: 'g', stale: true });
    const f = r.flush();
    expect(f.best).toEqual([]); // nothing withdrawn: still forwarding
    expect(updatesFor(f, 'o').withdrawn).toEqual([]);
    r.peerUp('g', session('2.2.2.2', undefined, { families: ['ipv4-unicast'], gracefulRestart: grCap() }), 5_000);
    expect(phase(r.peerGrState('g'))).toBe('stale');
    expect(r.nextDeadline()).toBe(65_000);
    r.ingest('g', announce(['10.1.0.0/16'], { asPath: [{ type: 2, asns: [65001] }] }));
    expect(r.best(pfx('10.1.0.0/16'))?.stale).toBe(false);
    expect(r.best(pfx('10.2.0.0/16'))?.stale).toBe(true);
    expect(r.ingest('g', EOR4).endOfRib).toBe('ipv4-unicast');
    expect(phase(r.peerGrState('g'))).toBe('idle');
    expect(r.best(pfx('10.2.0.0/16'))).toBeUndefined();
    const g = r.flush();
    expect(g.best.map((b) => [b.type, b.prefix.addr])).toEqual([['withdraw', '10.2.0.0']]);
    expect(updatesFor(g, 'o').withdrawn).toEqual(['10.2.0.0/16']);
    expect(r.nextDeadline()).toBeUndefined();
  });

  it('purges everything when the restart timer expires before the peer returns', () => {
    const r = helperSetup();
    r.peerDown('g', { kind: 'transport' }, 1_000);
    r.advance(120_999);
    expect(r.locRibSize('ipv4-unicast')).toBe(2);
    r.advance(121_000);
    expect(r.locRibSize('ipv4-unicast')).toBe(0);
    expect(phase(r.peerGrState('g'))).toBe('idle');
  });

  it('purges on the stale-path timer when End-of-RIB never comes', () => {
    const r = helperSetup();
    r.peerDown('g', { kind: 'transport' }, 1_000);
    r.peerUp('g', session('2.2.2.2', undefined, { families: ['ipv4-unicast'], gracefulRestart: grCap() }), 2_000);
    r.advance(61_999);
    expect(r.locRibSize('ipv4-unicast')).toBe(2);
    r.advance(62_000);
    expect(r.locRibSize('ipv4-unicast')).toBe(0);
  });

  it('purges at once when the new session lacks the forwarding-state bit or the capability', () => {
    for (const cap of [grCap(120, false), undefined]) {
      const r = helperSetup();
      r.peerDown('g', { kind: 'transport' }, 1_000);
      r.peerUp('g', session('2.2.2.2', undefined, { families: ['ipv4-unicast'], gracefulRestart: cap }), 2_000);
      expect(r.locRibSize('ipv4-unicast')).toBe(0);
      expect(phase(r.peerGrState('g'))).toBe('idle');
    }
  });

  it('flushes on NOTIFICATION without the N bit, on admin down, and for peers without GR', () => {
    const r1 = helperSetup();
    r1.peerDown('g', { kind: 'notification', code: 4, subcode: 0 }, 1_000);
    expect(r1.locRibSize('ipv4-unicast')).toBe(0);
    const r2 = helperSetup();
    r2.peerDown('g', { kind: 'admin' }, 1_000);
    expect(r2.locRibSize('ipv4-unicast')).toBe(0);
    const r3 = helperSetup(null);
    r3.peerDown('g', { kind: 'transport' }, 1_000);
    expect(r3.locRibSize('ipv4-unicast')).toBe(0);
  });

  it('RFC 8538: with the N bit on both sides a NOTIFICATION keeps routes, except Hard Reset', () => {
    const r1 = helperSetup(grCap(120, true, true), true);
    r1.peerDown('g', { kind: 'notification', code: 4, subcode: 0 }, 1_000);
    expect(r1.locRibSize('ipv4-unicast')).toBe(2);
    const r2 = helperSetup(grCap(120, true, true), true);
    r2.peerDown('g', { kind: 'notification', code: 6, subcode: 9 }, 1_000);
    expect(r2.locRibSize('ipv4-unicast')).toBe(0);
    const r3 = helperSetup(grCap(120, true, true), false); // we did not send N
    r3.peerDown('g', { kind: 'notification', code: 4, subcode: 0 }, 1_000);
    expect(r3.locRibSize('ipv4-unicast')).toBe(0);
  });

  it('a second drop during the stale period purges the still-stale routes', () => {
    const r = helperSetup();
    r.peerDown('g', { kind: 'transport' }, 1_000);
    r.peerUp('g', session('2.2.2.2', undefined, { families: ['ipv4-unicast'], gracefulRestart: grCap() }), 2_000);
    r.ingest('g', announce(['10.1.0.0/16'], { asPath: [{ type: 2, asns: [65001] }] }));
    r.peerDown('g', { kind: 'transport' }, 3_000);
    expect(r.best(pfx('10.1.0.0/16'))?.stale).toBe(true);
    expect(r.best(pfx('10.2.0.0/16'))).toBeUndefined();
  });
});

describe('restarting speaker (RFC 4724 §4.1)', () => {
  it('defers results until End-of-RIB from every GR peer, then dumps with End-of-RIB', () => {
    const r = rib({ gracefulRestart: { restarting: true, selectionDeferralMs: 100_000 } });
    r.addPeer({ id: 'a', address: '10.0.0.2', asn: 65000 });
    r.addPeer({ id: 'b', address: '10.0.0.3', asn: 65000 });
    r.originate(pfx('10.244.0.0/26'));
    const cap = grCap();
    r.peerUp('a', session('2.2.2.2', undefined, { families: ['ipv4-unicast'], gracefulRestart: cap }), 10);
    r.peerUp('b', session('3.3.3.3', undefined, { families: ['ipv4-unicast'], gracefulRestart: cap }), 10);
    r.ingest('a', announce(['10.1.0.0/16']));
    r.ingest('a', EOR4);
    expect(r.deferring).toBe(true);
    expect(r.flush()).toEqual({ best: [], updates: [] });
    r.ingest('b', EOR4);
    expect(r.deferring).toBe(false);
    const f = r.flush();
    expect(f.best.map((b) => b.prefix.addr).sort()).toEqual(['10.1.0.0', '10.244.0.0']);
    expect(updatesFor(f, 'b')).toMatchObject({ eor: ['ipv4-unicast'] });
    expect([...updatesFor(f, 'b').announced.keys()]).toEqual(['10.244.0.0/26']); // iBGP split horizon for 10.1
  });

  it('ends deferral when the selection deferral timer fires', () => {
    const r = rib({ gracefulRestart: { restarting: true, selectionDeferralMs: 100_000 } }, { now: 0 });
    r.addPeer({ id: 'a', address: '10.0.0.2', asn: 65000 });
    expect(r.nextDeadline()).toBe(100_000);
    r.advance(100_000);
    expect(r.deferring).toBe(false);
  });

  it('advertises the forwarding-state bit from its configuration', () => {
    const r = rib({ gracefulRestart: { restarting: true, forwardingState: true, restartTime: 90 } });
    expect(r.gracefulRestartCapability(['ipv4-unicast', 'ipv6-unicast'])).toEqual({
      type: 'graceful-restart',
      restarting: true,
      notification: true,
      restartTime: 90,
      families: [
        { afi: 1, safi: 1, forwardingState: true },
        { afi: 2, safi: 1, forwardingState: true },
      ],
    });
  });
});
