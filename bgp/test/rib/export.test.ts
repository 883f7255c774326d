/** Export rules: split horizon, route reflection matrix (RFC 4456 §6, §8), eBGP rewriting, filters, loops. */
import { describe, expect, it } from 'vitest';
import type { Rib, RibPeerConfig } from '../../src/rib/index.js';
import { WellKnownCommunity } from '../../src/rib/index.js';
import { announce, pfx, rib, session, updatesFor, withdraw } from './helpers.js';

const PEERS: Array<RibPeerConfig & { routerId: string; local: string }> = [
  { id: 'c1', address: '10.0.1.1', asn: 65000, routeReflectorClient: true, routerId: '2.0.0.1', local: '10.0.1.254' },
  { id: 'c2', address: '10.0.1.2', asn: 65000, routeReflectorClient: true, routerId: '2.0.0.2', local: '10.0.1.254' },
  { id: 'n1', address: '10.0.2.1', asn: 65000, routerId: '3.0.0.1', local: '10.0.2.254' },
  { id: 'n2', address: '10.0.2.2', asn: 65000, routerId: '3.0.0.2', local: '10.0.2.254' },
  { id: 'e1', address: '10.0.3.1', asn: 65001, routerId: '4.0.0.1', local: '10.0.3.254' },
  { id: 'e2', address: '10.0.3.2', asn: 65002, routerId: '4.0.0.2', local: '10.0.3.254' },
];

function setup(reflector: boolean, cfg: Partial<RibPeerConfig> = {}): Rib {
  const r = rib(reflector ? { clusterId: '9.9.9.9' } : {});
  for (const p of PEERS) {
    const { routerId, local, ...c } = p;
    r.addPeer({ ...c, ...cfg });
    r.peerUp(p.id, session(routerId, local), 0);
  }
  r.flush(); // initial dumps (empty) and End-of-RIB
  return r;
}

const recipients = (f: ReturnType<Rib['flush']>) =>
  PEERS.map((p) => p.id)
    .filter((id) => updatesFor(f, id).announced.size > 0)
    .sort();

describe('route reflection matrix (RFC 4456 §6)', () => {
  const cases: Array<[string, boolean, string[]]> = [
    ['c1', true, ['c2', 'e1', 'e2', 'n1', 'n2']], // client → clients and non-clients
    ['n1', true, ['c1', 'c2', 'e1', 'e2']], // non-client → clients only
    ['e1', true, ['c1', 'c2', 'e2', 'n1', 'n2']], // eBGP → everyone else
    ['c1', false, ['e1', 'e2']], // no reflector: iBGP split horizon (RFC 4271 §9.2)
    ['n1', false, ['e1', 'e2']],
    ['e1', false, ['c1', 'c2', 'e2', 'n1', 'n2']],
  ];
  for (const [src, reflector, want] of cases)
    it(`${reflector ? 'reflector' : 'plain speaker'}: route from ${src} goes to ${want.join(',')}`, () => {
      const r = setup(reflector);
      const asPath = src.startsWith('e') ? [{ type: 2 as const, asns: [PEERS.find((p) => p.id === src)!.asn] }] : [];
      r.ingest(src, announce(['10.20.0.0/16'], { asPath, nextHop: '172.16.0.1' }));
      expect(recipients(r.flush())).toEqual(want);
    });

  it('locally originated routes go to every peer', () => {
    const r = setup(true);
    r.originate(pfx('10.244.0.0/26'));
    expect(recipients(r.flush())).toEqual(['c1', 'c2', 'e1', 'e2', 'n1', 'n2']);
  });

  it('reflected routes carry ORIGINATOR_ID and CLUSTER_LIST and keep NEXT_HOP and LOCAL_PREF (RFC 4456 §8)', () => {
    const r = setup(true);
    r.ingest('c1', announce(['10.20.0.0/16'], { nextHop: '172.16.0.1', localPref: 150 }));
    const f = r.flush();
    const toC2 = updatesFor(f, 'c2');
    expect(toC2.announced.get('10.20.0.0/16')).toMatchObject({ originatorId: '2.0.0.1', clusterList: ['9.9.9.9'], nextHop: '172.16.0.1', localPref: 150 });
    // An existing ORIGINATOR_ID is kept; our CLUSTER_ID is prepended.
    r.ingest('n1', announce(['10.21.0.0/16'], { nextHop: '172.16.0.2', originatorId: '8.8.8.8', clusterList: ['7.7.7.7'] }));
    expect(updatesFor(r.flush(), 'c1').announced.get('10.21.0.0/16')).toMatchObject({ originatorId: '8.8.8.8', clusterList: ['9.9.9.9', '7.7.7.7'] });
  });

  it('does not reflect a route to the client whose router id is its ORIGINATOR_ID (RFC 4456 §8)', () => {
    const r = setup(true);
    r.ingest('n1', announce(['10.22.0.0/16'], { nextHop: '172.16.0.3', originatorId: '2.0.0.2' })); // c2's router id
    expect(recipients(r.flush())).toEqual(['c1', 'e1', 'e2']);
  });

  it('toward eBGP: prepend our AS, next hop self, no LOCAL_PREF / MED / ORIGINATOR_ID / CLUSTER_LIST', () => {
    const r = setup(true);
    r.ingest('c1', announce(['10.20.0.0/16'], { asPath: [{ type: 2, asns: [64999] }], nextHop: '172.16.0.1', localPref: 150, med: 7, originatorId: '8.8.8.8', clusterList: ['7.7.7.7'] }));
    const f = r.flush();
    const a = updatesFor(f, 'e1').announced.get('10.20.0.0/16')!;
    expect(a).toMatchObject({ asPath: [{ type: 2, asns: [65000, 64999] }], nextHop: '10.0.3.254' });
    expect(a.localPref).toBeUndefined();
    expect(a.med).toBeUndefined();
    expect(a.originatorId).toBeUndefined();
    expect(a.clusterList).toBeUndefined();
  });

  it('keeps the MED of a locally originated route toward eBGP (RFC 4271 §5.1.4 drops only learned MEDs)', () => {
    const r = setup(false);
    r.originate(pfx('10.244.0.0/26'), { origin: 0, asPath: [], med: 20 });
    const f = r.flush();
    expect(updatesFor(f, 'e1').announced.get('10.244.0.0/26')).toMatchObject({ med: 20, asPath: [{ type: 2, asns: [65000] }], nextHop: '10.0.3.254' });
    expect(updatesFor(f, 'n1').announced.get('10.244.0.0/26')).toMatchObject({ med: 20, asPath: [], nextHop: '10.0.2.254', localPref: 100 });
  });

  it('eBGP-learned route toward iBGP: next hop kept, LOCAL_PREF added, AS_PATH unchanged', () => {
    const r = setup(false);
    r.ingest('e1', announce(['10.30.0.0/16'], { asPath: [{ type: 2, asns: [65001] }], nextHop: '10.0.3.1', med: 3 }));
    const a = updatesFor(r.flush(), 'n1').announced.get('10.30.0.0/16')!;
    expect(a).toMatchObject({ asPath: [{ type: 2, asns: [65001] }], nextHop: '10.0.3.1', localPref: 100, med: 3 });
  });

  it('next-hop-self toward an iBGP peer', () => {
    const r = setup(false, { nextHop: 'self' });
    r.ingest('e1', announce(['10.30.0.0/16'], { asPath: [{ type: 2, asns: [65001] }], nextHop: '10.0.3.1' }));
    expect(updatesFor(r.flush(), 'n1').announced.get('10.30.0.0/16')?.nextHop).toBe('10.0.2.254');
  });

  it('RFC 1997: NO_EXPORT stays inside the AS, NO_ADVERTISE goes nowhere', () => {
    const r = setup(false);
    r.ingest('e1', announce(['10.40.0.0/16'], { asPath: [{ type: 2, asns: [65001] }], communities: [WellKnownCommunity.NoExport] }));
    r.ingest('e1', announce(['10.41.0.0/16'], { asPath: [{ type: 2, asns: [65001] }], communities: [WellKnownCommunity.NoAdvertise] }));
    const f = r.flush();
    expect(recipients(f)).toEqual(['c1', 'c2', 'n1', 'n2']);
    expect(updatesFor(f, 'c1').announced.has('10.41.0.0/16')).toBe(false);
  });

  it('never sends a route back to its sender unless advertiseBack is set', () => {
    const r = setup(false, { advertiseBack: true });
    r.ingest('e1', announce(['10.30.0.0/16'], { asPath: [{ type: 2, asns: [65001] }] }));
    expect(recipients(r.flush())).toContain('e1');
  });

  it('withdraws from Adj-RIB-Out only what was sent, and only once', () => {
    const r = setup(false);
    r.ingest('e1', announce(['10.30.0.0/16'], { asPath: [{ type: 2, asns: [65001] }] }));
    r.flush();
    r.ingest('e1', withdraw(['10.30.0.0/16']));
    const f = r.flush();
    expect(updatesFor(f, 'n1').withdrawn).toEqual(['10.30.0.0/16']);
    expect(updatesFor(f, 'e1').withdrawn).toEqual([]); // never had it
    expect(r.peerCounts('n1').advertised).toBe(0);
  });

  it('export filters reject and modify per prefix', () => {
    const r = rib();
    r.addPeer({
      id: 'e1',
      address: '10.0.3.1',
      asn: 65001,
      exportFilter: (rt) => (rt.prefix.len > 24 ? { action: 'reject' } : { action: 'modify', attrs: { ...rt.attrs, med: 42 } }),
    });
    r.peerUp('e1', session('4.0.0.1', '10.0.3.254'), 0);
    r.originate(pfx('10.244.0.0/26'));
    r.originate(pfx('10.245.0.0/24'));
    const u = updatesFor(r.flush(), 'e1');
    expect([...u.announced.keys()]).toEqual(['10.245.0.0/24']);
    expect(u.announced.get('10.245.0.0/24')?.med).toBe(42);
  });

  it('groups announcements by attribute set for the packer', () => {
    const r = setup(false);
    r.ingest('e1', announce(['10.1.0.0/24', '10.1.1.0/24', '10.1.2.0/24'], { asPath: [{ type: 2, asns: [65001] }] }));
    r.ingest('e1', announce(['10.2.0.0/24'], { asPath: [{ type: 2, asns: [65001, 7] }] }));
    const ups = r.flush().updates.filter((u) => u.peer === 'n1');
    expect(ups).toHaveLength(1);
    expect(ups[0]!.announce.map((g) => g.prefixes.length).sort()).toEqual([1, 3]);
  });

  it('route refresh re-sends the whole Adj-RIB-Out with End-of-RIB', () => {
    const r = setup(false);
    r.ingest('e1', announce(['10.30.0.0/16'], { asPath: [{ type: 2, asns: [65001] }] }));
    r.flush();
    const u = r.routeRefresh('n1', 'ipv4-unicast');
    expect(u.announce.flatMap((g) => g.prefixes.map((p) => p.addr))).toEqual(['10.30.0.0']);
    expect(u.endOfRib).toBe(true);
  });

  it('re-evaluates a peer Adj-RIB-Out after reconfigurePeer', () => {
    const r = setup(false);
    r.ingest('e1', announce(['10.30.0.0/16'], { asPath: [{ type: 2, asns: [65001] }] }));
    r.flush();
    const n1 = PEERS.find((p) => p.id === 'n1')!;
    r.reconfigurePeer({ id: 'n1', address: n1.address, asn: n1.asn, exportFilter: () => ({ action: 'reject' }) });
    expect(updatesFor(r.flush(), 'n1').withdrawn).toEqual(['10.30.0.0/16']);
  });
});

describe('loop detection on import', () => {
  it('rejects an AS_PATH containing our AS, unless allowas-in (RFC 4271 §9.1.2)', () => {
    const r = rib();
    r.addPeer({ id: 'e1', address: '10.0.3.1', asn: 65001 });
    r.addPeer({ id: 'e2', address: '10.0.3.2', asn: 65002, allowAsIn: 1 });
    r.peerUp('e1', session('4.0.0.1'), 0);
    r.peerUp('e2', session('4.0.0.2'), 0);
    const looped = { asPath: [{ type: 2 as const, asns: [65001, 65000, 7] }] };
    expect(r.ingest('e1', announce(['10.50.0.0/16'], looped))).toMatchObject({ rejected: 1, rejection: 'as-loop' });
    expect(r.ingest('e2', announce(['10.50.0.0/16'], looped))).toMatchObject({ announced: 1, rejected: 0 });
    expect(r.best(pfx('10.50.0.0/16'))?.peer).toBe('e2');
  });

  it('rejects our own ORIGINATOR_ID and our CLUSTER_ID in CLUSTER_LIST (RFC 4456 §8)', () => {
    const r = rib({ clusterId: '9.9.9.9' });
    r.addPeer({ id: 'n1', address: '10.0.2.1', asn: 65000 });
    r.peerUp('n1', session('3.0.0.1'), 0);
    expect(r.ingest('n1', announce(['10.60.0.0/16'], { originatorId: '1.1.1.1' })).rejection).toBe('originator-loop');
    expect(r.ingest('n1', announce(['10.61.0.0/16'], { clusterList: ['5.5.5.5', '9.9.9.9'] })).rejection).toBe('cluster-loop');
    expect(r.locRibSize('ipv4-unicast')).toBe(0);
  });

  it('a looped re-announcement withdraws the earlier path', () => {
    const r = rib();
    r.addPeer({ id: 'e1', address: '10.0.3.1', asn: 65001 });
    r.peerUp('e1', session('4.0.0.1'), 0);
    r.ingest('e1', announce(['10.50.0.0/16'], { asPath: [{ type: 2, asns: [65001] }] }));
    expect(r.ingest('e1', announce(['10.50.0.0/16'], { asPath: [{ type: 2, asns: [65001, 65000] }] })).withdrawn).toBe(1);
    expect(r.best(pfx('10.50.0.0/16'))).toBeUndefined();
  });
});

describe('failing filters and reconfiguration', () => {
  it('an import filter that throws rejects the route and reports it', () => {
    const r = rib();
    r.addPeer({ id: 'e1', address: '10.0.3.1', asn: 65001, importFilter: () => { throw new Error('boom'); } });
    r.peerUp('e1', session('4.0.0.1'), 0);
    const res = r.ingest('e1', announce(['10.50.0.0/16'], { asPath: [{ type: 2, asns: [65001] }] }));
    expect(res).toMatchObject({ rejected: 1, filterErrors: 1 });
    expect(r.locRibSize('ipv4-unicast')).toBe(0);
  });

  it('an export filter that throws exports nothing and is counted', () => {
    const r = rib();
    r.addPeer({ id: 'e1', address: '10.0.3.1', asn: 65001, exportFilter: () => { throw new Error('boom'); } });
    r.peerUp('e1', session('4.0.0.1'), 0);
    r.originate(pfx('10.244.0.0/26'));
    expect(updatesFor(r.flush(), 'e1').announced.size).toBe(0);
    expect(r.exportFilterErrors.count).toBe(1);
  });

  it('turning a peer into a reflector client re-exports to the others', () => {
    const r = setup(true);
    r.ingest('n1', announce(['10.20.0.0/16'], { nextHop: '172.16.0.1' }));
    expect(recipients(r.flush())).toEqual(['c1', 'c2', 'e1', 'e2']);
    const n1 = PEERS.find((p) => p.id === 'n1')!;
    r.reconfigurePeer({ id: 'n1', address: n1.address, asn: n1.asn, routeReflectorClient: true });
    expect(recipients(r.flush())).toEqual(['n2']); // client routes now also reach non-clients
  });

  it('refuses to change a peer AS in place', () => {
    const r = setup(false);
    expect(() => r.reconfigurePeer({ id: 'e1', address: '10.0.3.1', asn: 1 })).toThrow(expect.objectContaining({ code: 'rib-invalid-reconfigure' }));
  });
});

describe('an export group with one member', () => {
  const c1 = { id: 'c1', address: '10.0.1.1', asn: 65000, routeReflectorClient: true };
  const c2 = { id: 'c2', address: '10.0.1.2', asn: 65000, routeReflectorClient: true };
  const prefixes = ['10.5.0.0/24', '10.5.1.0/24', '10.5.2.0/24'];

  it('keeps none of the member’s own routes, and a second member still gets them all', () => {
    const r = rib({ clusterId: '9.9.9.9' });
    r.addPeer(c1);
    r.addPeer(c2);
    r.peerUp('c1', session('2.0.0.1', '10.0.1.254'), 0);
    r.flush();
    r.ingest('c1', announce(prefixes, { nextHop: '10.0.1.1', localPref: 100 }));
    const f1 = r.flush();
    expect(updatesFor(f1, 'c1').announced.size).toBe(0); // split horizon
    expect(r.peerCounts('c1').advertised).toBe(0);
    r.peerUp('c2', session('2.0.0.2', '10.0.1.254'), 0);
    const dump = updatesFor(r.flush(), 'c2');
    expect([...dump.announced.keys()].sort()).toEqual(prefixes);
    expect(dump.eor).toContain('ipv4-unicast');
    expect(r.peerCounts('c2').advertised).toBe(3);
    expect(r.peerCounts('c1').advertised).toBe(0);
    // Once shared, the group follows changes as before: a withdrawal reaches c2 only.
    r.ingest('c1', withdraw([prefixes[0]!]));
    const f3 = r.flush();
    expect(updatesFor(f3, 'c2').withdrawn).toEqual([prefixes[0]]);
    expect(updatesFor(f3, 'c1').withdrawn).toEqual([]);
    expect(r.peerCounts('c2').advertised).toBe(2);
  });

  it('withdraws from the member a route replaced by its own, and releases every attribute set', () => {
    const r = rib({ clusterId: '9.9.9.9' });
    r.addPeer(c1);
    r.addPeer({ id: 'e1', address: '10.0.3.1', asn: 65001 });
    r.peerUp('c1', session('2.0.0.1', '10.0.1.254'), 0);
    r.peerUp('e1', session('4.0.0.1', '10.0.3.254'), 0);
    r.flush();
    r.ingest('e1', announce(['10.6.0.0/24'], { nextHop: '10.0.3.1', asPath: [{ type: 2, asns: [65001] }] }));
    expect(updatesFor(r.flush(), 'c1').announced.has('10.6.0.0/24')).toBe(true);
    expect(r.peerCounts('c1').advertised).toBe(1);
    // c1's own better route replaces the one it was sent: withdrawn from c1, nothing kept for c1.
    r.ingest('c1', announce(['10.6.0.0/24', '10.6.1.0/24'], { nextHop: '10.0.1.1', localPref: 200 }));
    const f = r.flush();
    expect(updatesFor(f, 'c1').announced.size).toBe(0);
    expect(updatesFor(f, 'c1').withdrawn).toEqual(['10.6.0.0/24']);
    expect([...updatesFor(f, 'e1').announced.keys()].sort()).toEqual(['10.6.0.0/24', '10.6.1.0/24']);
    expect(r.peerCounts('c1').advertised).toBe(0);
    // Back to e1's route once c1 withdraws.
    r.ingest('c1', withdraw(['10.6.0.0/24', '10.6.1.0/24']));
    expect([...updatesFor(r.flush(), 'c1').announced.keys()]).toEqual(['10.6.0.0/24']);
    r.ingest('e1', withdraw(['10.6.0.0/24']));
    r.flush();
    expect(r.attrSetCount).toBe(0);
  });
});
