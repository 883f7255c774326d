/**
 * Speaker unit tests: fake sessions (recording what is written, raising upward events) around
 * a real RIB and the real codec; no sockets, no root.
 */
import { describe, expect, it } from 'vitest';
import { CeaseSubcode, type Capability } from '../../src/codec/index.js';
import { Rib } from '../../src/rib/index.js';
import { silentLogger, systemClock } from '../../src/session/index.js';
import { Speaker, type SpeakerEvent, type SpeakerPeerConfig } from '../../src/speaker/index.js';
import { FakeSession } from './fake-session.js';

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));
const p4 = (s: string) => ({ afi: 1 as const, addr: s.split('/')[0]!, len: Number(s.split('/')[1]) });
const ATTRS = { origin: 0 as const, asPath: [{ type: 2 as const, asns: [65002] }], nextHop: '10.0.0.2' };

function setup(peers: SpeakerPeerConfig[], originate: string[] = [], opts: { restarting?: boolean } = {}) {
  const sessions = new Map<string, FakeSession>();
  const created: FakeSession[] = [];
  /** `localAddress` the speaker passed to the local-address lookup, per call. */
  const lookups: Array<string | undefined> = [];
  // `now` from the speaker's clock: the selection deferral deadline is relative to it.
  const rib = new Rib({ asn: 65001, routerId: '10.0.0.1', ...(opts.restarting ? { gracefulRestart: { restarting: true } } : {}) }, { now: systemClock.now() });
  const speaker = new Speaker(
    {
      rib,
      clock: systemClock,
      logger: silentLogger,
      localAddresses: async (p) => {
        lookups.push(p.localAddress);
        return { v4: p.localAddress ?? '10.0.0.1', v6: [] };
      },
      sessionFactory: ({ config, transport }) => {
        const s = new FakeSession(config, transport);
        sessions.set(transport.peerAddress, s);
        created.push(s);
        return s;
      },
    },
    { routerId: '10.0.0.1', asn: 65001, listen: null, peers, originate: originate.map((prefix) => ({ prefix })), restarting: opts.restarting },
  );
  const events: SpeakerEvent[] = [];
  speaker.on((e) => events.push(e));
  return { speaker, sessions, created, rib, events, lookups };
}

describe('Speaker', () => {
  it('sends originated routes, then End-of-RIB, when a session comes up', async () => {
    const { speaker, sessions } = setup([{ address: '10.0.0.2', asn: 65002, families: ['ipv4-unicast'] }], ['10.10.0.0/24', '10.11.0.0/24']);
    await speaker.start();
    const s = sessions.get('10.0.0.2')!;
    expect(s.calls).toContain('start');
    s.establish(65002, '10.0.0.2');
    await tick();
    await tick();
    const u = s.updates();
    expect(u.flatMap((x) => x.nlri.map((p) => `${p.addr}/${p.len}`)).sort()).toEqual(['10.10.0.0/24', '10.11.0.0/24']);
    expect(u[0]!.attributes).toMatchObject({ origin: 0, nextHop: '10.0.0.1', asPath: [{ type: 2, asns: [65001] }] });
    expect(s.calls.at(-1)).toBe('eor ipv4-unicast');
  });

  it('ingests UPDATEs, emits best-path changes, relays to other peers, and applies treat-as-withdraw', async () => {
    const { speaker, sessions, events } = setup([
      { address: '10.0.0.2', asn: 65002, families: ['ipv4-unicast'] },
      { address: '10.0.0.3', asn: 65003, families: ['ipv4-unicast'] },
    ]);
    await speaker.start();
    const [a, b] = [sessions.get('10.0.0.2')!, sessions.get('10.0.0.3')!];
    a.update({ nlri: [p4('10.20.0.0/24')] }); // before Established: ignored
    a.establish(65002, '10.0.0.2');
    b.establish(65003, '10.0.0.3');
    a.update({ attributes: ATTRS, nlri: [p4('10.20.0.0/24'), p4('10.21.0.0/24')] });
    await tick();
    await tick();
    expect(speaker.locRibSize('ipv4-unicast')).toBe(2);
    const best = events.flatMap((e) => (e.type === 'best' ? e.changes : []));
    expect(best.map((c) => c.type)).toEqual(['add', 'add']);
    const relayed = b.updates().flatMap((u) => u.nlri.map((p) => p.addr));
    expect(relayed.sort()).toEqual(['10.20.0.0', '10.21.0.0']);
    expect(b.updates().find((u) => u.nlri.length)!.attributes.asPath).toEqual([{ type: 2, asns: [65001, 65002] }]);
    // RFC 7606: the codec turned a malformed announcement into withdrawals.
    a.update({ withdrawn: [p4('10.20.0.0/24')] }, 'treat-as-withdraw');
    await tick();
    expect(speaker.locRibSize('ipv4-unicast')).toBe(1);
    expect(b.updates().flatMap((u) => u.withdrawn.map((p) => p.addr))).toEqual(['10.20.0.0']);
    expect(speaker.status().find((p) => p.address === '10.0.0.2')).toMatchObject({ state: 'Established', accepted: 1, updatesIn: 2 });
  });

  it('resets a peer that exceeds its max-prefix limit with Cease 1 and a restart delay', async () => {
    const { speaker, sessions } = setup([{ address: '10.0.0.2', asn: 65002, families: ['ipv4-unicast'], maxPrefixes: { limit: 2, restartAfterMs: 30_000 } }]);
    await speaker.start();
    const s = sessions.get('10.0.0.2')!;
    s.establish(65002, '10.0.0.2');
    await tick();
    s.update({ attributes: ATTRS, nlri: [p4('10.1.0.0/24'), p4('10.2.0.0/24'), p4('10.3.0.0/24')] });
    expect(s.calls).toContain(`reset ${CeaseSubcode.MaximumPrefixesReached} 30000`);
  });

  it('keeps a graceful-restart peer\'s routes on connection loss, flushes them on admin down', async () => {
    const { speaker, sessions } = setup([{ address: '10.0.0.2', asn: 65002, families: ['ipv4-unicast'], gracefulRestart: { restartTime: 120 } }]);
    await speaker.start();
    const s = sessions.get('10.0.0.2')!;
    expect(s.config.gracefulRestart).toMatchObject({ restartTime: 120, forwarding: ['ipv4-unicast'] });
    s.establish(65002, '10.0.0.2', { gr: true });
    await tick();
    s.update({ attributes: ATTRS, nlri: [p4('10.1.0.0/24')] });
    s.down('connection-lost');
    await tick();
    expect(speaker.locRibSize('ipv4-unicast')).toBe(1); // stale, kept (RFC 4724 §4.2)
    s.establish(65002, '10.0.0.2', { gr: true });
    await tick();
    s.update({}); // End-of-RIB without re-announcing: the stale route goes
    await tick();
    expect(speaker.locRibSize('ipv4-unicast')).toBe(0);
    s.update({ attributes: ATTRS, nlri: [p4('10.1.0.0/24')] });
    speaker.removePeer('10.0.0.2');
    expect(s.calls).toContain(`destroy ${CeaseSubcode.PeerDeconfigured}`);
    expect(speaker.locRibSize('ipv4-unicast')).toBe(0);
  });

  it('answers ROUTE-REFRESH with the Adj-RIB-Out between BoRR and EoRR (RFC 7313)', async () => {
    const { speaker, sessions } = setup([{ address: '10.0.0.2', asn: 65002, families: ['ipv4-unicast'] }], ['10.10.0.0/24']);
    await speaker.start();
    const s = sessions.get('10.0.0.2')!;
    s.establish(65002, '10.0.0.2', { enhanced: true });
    await tick();
    await tick();
    const before = s.updates().length;
    s.raise({ type: 'route-refresh', conn: 'o1', message: { type: 'route-refresh', afi: 1, safi: 1, subtype: 0 } });
    await tick();
    expect(s.updates().length).toBe(before + 1);
    expect(s.calls.slice(-2)).toEqual(['rr ipv4-unicast 1', 'rr ipv4-unicast 2']);
  });

  it('reconfigures peers at runtime without resetting unchanged sessions', async () => {
    const base = { address: '10.0.0.2', asn: 65001, families: ['ipv4-unicast' as const] };
    const { speaker, created } = setup([base, { address: '10.0.0.3', asn: 65003 }]);
    await speaker.start();
    const r = speaker.setPeers([{ ...base, routeReflectorClient: true }, { address: '10.0.0.4', asn: 65004 }]);
    expect(r).toEqual({ added: ['10.0.0.4'], removed: ['10.0.0.3'], reset: [], updated: ['10.0.0.2'] });
    expect(created[0]!.calls).toEqual(['start']);
    const r2 = speaker.setPeers([{ ...base, routeReflectorClient: true, holdTime: 30 }, { address: '10.0.0.4', asn: 65004 }]);
    expect(r2.reset).toEqual(['10.0.0.2']);
    expect(created[0]!.calls).toContain(`destroy ${CeaseSubcode.PeerDeconfigured}`);
    await speaker.stop();
    expect(created.at(-1)!.calls).toContain(`stop ${CeaseSubcode.AdministrativeShutdown}`);
  });

  it('advertises R=1 until our restart is over, then every later OPEN carries R=0 (RFC 4724 §4.1)', async () => {
    const gr = { restartTime: 120 };
    const { speaker, sessions } = setup([{ address: '10.0.0.2', asn: 65002, families: ['ipv4-unicast'], gracefulRestart: gr }], [], { restarting: true });
    await speaker.start();
    const s = sessions.get('10.0.0.2')!;
    const grCap = (): Capability | undefined => s.nextOpen().capabilities.find((c) => c.type === 'graceful-restart');
    const families = [{ afi: 1, safi: 1, forwardingState: true }];
    expect(grCap()).toEqual({ type: 'graceful-restart', restarting: true, notification: true, restartTime: 120, families });
    s.establish(65002, '10.0.0.2', { gr: true });
    await tick();
    s.down('connection-lost'); // before the deferral ends: the reconnect still says R=1
    await tick();
    expect(grCap()).toMatchObject({ restarting: true });
    s.establish(65002, '10.0.0.2', { gr: true });
    await tick();
    s.update({}); // End-of-RIB from the only GR peer: selection deferral over
    await tick();
    await tick();
    expect(s.calls).toContain('gr false');
    expect(s.state).toBe('Established'); // no reset: only later OPENs change
    s.down('connection-lost');
    await tick();
    expect(grCap()).toEqual({ type: 'graceful-restart', restarting: false, notification: true, restartTime: 120, families });
    // A peer added after the restart starts with R=0.
    speaker.addPeer({ address: '10.0.0.3', asn: 65003, families: ['ipv4-unicast'], gracefulRestart: gr });
    expect(sessions.get('10.0.0.3')!.config.gracefulRestart).toMatchObject({ restarting: false, notification: true });
    await speaker.stop();
  });

  it('with the N bit exchanged, keeps routes on a NOTIFICATION except Hard Reset (RFC 8538 §4)', async () => {
    const { speaker, sessions } = setup([
      { address: '10.0.0.2', asn: 65002, families: ['ipv4-unicast'], gracefulRestart: { restartTime: 120 } },
      { address: '10.0.0.3', asn: 65003, families: ['ipv4-unicast'], gracefulRestart: { restartTime: 120 } },
    ]);
    await speaker.start();
    const s = sessions.get('10.0.0.2')!;
    const noN = sessions.get('10.0.0.3')!;
    expect(s.config.gracefulRestart).toMatchObject({ notification: true });
    s.establish(65002, '10.0.0.2', { gr: true, notificationBit: true });
    noN.establish(65003, '10.0.0.3', { gr: true, notificationBit: false });
    await tick();
    s.update({ attributes: ATTRS, nlri: [p4('10.1.0.0/24')] });
    noN.update({ attributes: { ...ATTRS, asPath: [{ type: 2, asns: [65003] }] }, nlri: [p4('10.3.0.0/24')] });
    await tick();
    expect(speaker.locRibSize('ipv4-unicast')).toBe(2);
    s.notified(4, 0); // Hold Timer Expired: retained as stale
    noN.notified(4, 0); // the peer did not send N: flushed (RFC 4724 rules)
    await tick();
    expect(speaker.locRibSize('ipv4-unicast')).toBe(1);
    s.establish(65002, '10.0.0.2', { gr: true, notificationBit: true });
    await tick();
    s.update({ attributes: ATTRS, nlri: [p4('10.1.0.0/24')] });
    s.update({}); // End-of-RIB
    await tick();
    expect(speaker.locRibSize('ipv4-unicast')).toBe(1);
    s.notified(6, 9); // Cease / Hard Reset: flushed
    await tick();
    expect(speaker.locRibSize('ipv4-unicast')).toBe(0);
    await speaker.stop();
  });

  it('takes next hop self from the session\'s TCP source address when the shell reports it', async () => {
    const { speaker, sessions, lookups } = setup([{ address: '10.0.0.2', asn: 65002, families: ['ipv4-unicast'] }], ['10.10.0.0/24']);
    await speaker.start();
    const s = sessions.get('10.0.0.2')!;
    s.establish(65002, '10.0.0.2', { localAddress: '10.0.5.1' });
    await tick();
    await tick();
    expect(lookups).toEqual(['10.0.5.1']);
    expect(s.updates().find((u) => u.nlri.length > 0)?.attributes.nextHop).toBe('10.0.5.1'); // eBGP: next hop self
    s.down('connection-lost');
    s.establish(65002, '10.0.0.2'); // no endpoints: the configured/kernel choice as before
    await tick();
    expect(lookups).toEqual(['10.0.5.1', undefined]);
    await speaker.stop();
  });

  it('ends a session with N exchanged by Hard Reset wrapping the Cease (RFC 8538 §5), plain Cease otherwise', async () => {
    const gr = { restartTime: 120 };
    const { speaker, sessions } = setup([
      { address: '10.0.0.2', asn: 65002, families: ['ipv4-unicast'], gracefulRestart: gr, maxPrefixes: { limit: 1, restartAfterMs: 30_000 } },
      { address: '10.0.0.3', asn: 65003, families: ['ipv4-unicast'], gracefulRestart: gr },
      { address: '10.0.0.4', asn: 65004, families: ['ipv4-unicast'], gracefulRestart: gr },
    ]);
    await speaker.start();
    const [s2, s3, s4] = ['10.0.0.2', '10.0.0.3', '10.0.0.4'].map((a) => sessions.get(a)!);
    s2!.establish(65002, '10.0.0.2', { gr: true, notificationBit: true });
    s3!.establish(65003, '10.0.0.3', { gr: true, notificationBit: true });
    s4!.establish(65004, '10.0.0.4', { gr: true, notificationBit: false });
    await tick();
    s2!.update({ attributes: ATTRS, nlri: [p4('10.1.0.0/24'), p4('10.2.0.0/24')] }); // over the limit
    expect(s2!.calls).toContain(`reset ${CeaseSubcode.HardReset} 30000 [6,${CeaseSubcode.MaximumPrefixesReached}]`);
    speaker.removePeer('10.0.0.3');
    expect(s3!.calls).toContain(`destroy ${CeaseSubcode.HardReset} [6,${CeaseSubcode.PeerDeconfigured}]`);
    await speaker.stop();
    expect(s4!.calls).toContain(`stop ${CeaseSubcode.AdministrativeShutdown}`); // the peer sent no N
  });
});

describe('Speaker failure paths', () => {
  it('a failure while setting up an Established session resets it instead of leaving an unhandled rejection', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (e: unknown): void => void unhandled.push(e);
    process.on('unhandledRejection', onUnhandled);
    try {
      let s: FakeSession | undefined;
      const speaker = new Speaker(
        {
          rib: new Rib({ asn: 65001, routerId: '10.0.0.1' }, { now: systemClock.now() }),
          clock: systemClock,
          logger: silentLogger,
          localAddresses: () => {
            throw new Error('lookup exploded');
          },
          sessionFactory: ({ config, transport }) => (s = new FakeSession(config, transport)),
        },
        { routerId: '10.0.0.1', asn: 65001, listen: null, peers: [{ address: '10.0.0.2', asn: 65002 }] },
      );
      await speaker.start();
      s!.establish(65002, '10.0.0.2');
      for (let i = 0; i < 5; i++) await tick();
      expect(unhandled).toEqual([]);
      expect(s!.calls.some((c) => c.startsWith(`reset ${CeaseSubcode.OutOfResources}`))).toBe(true);
      await speaker.stop();
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});
