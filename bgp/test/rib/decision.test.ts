/** Table-driven tests of the decision process, one row per tie-break step, in both arrival orders. */
import { describe, expect, it } from 'vitest';
import type { PathAttributes } from '../../src/codec/types.js';
import { addressSortKey, AttrStore, DEFAULT_DECISION, selectBest, type Candidate, type DecisionOptions } from '../../src/rib/index.js';
import { announce, pfx, rib, session } from './helpers.js';

interface Src {
  peer: string;
  asn: number;
  routerId: string;
  address: string;
  attrs: PathAttributes;
}

const seq = (...asns: number[]) => [{ type: 2 as const, asns }];
const ibgp = (peer: string, routerId: string, address: string, attrs: PathAttributes): Src => ({ peer, asn: 65000, routerId, address, attrs });
const ebgp = (peer: string, asn: number, routerId: string, address: string, attrs: PathAttributes): Src => ({ peer, asn, routerId, address, attrs });

const rows: Array<{ step: string; a: Src; b: Src; winner: 'a' | 'b'; opts?: Partial<DecisionOptions> }> = [
  {
    step: '9.1.1 higher LOCAL_PREF (iBGP)',
    a: ibgp('a', '9.9.9.9', '10.0.0.9', { localPref: 200, asPath: seq(1, 2, 3) }),
    b: ibgp('b', '1.1.1.2', '10.0.0.1', { localPref: 100, asPath: seq(1) }),
    winner: 'a',
  },
  {
    step: '9.1.1 missing LOCAL_PREF counts as the default (100)',
    a: ibgp('a', '9.9.9.9', '10.0.0.9', { localPref: 101 }),
    b: ibgp('b', '1.1.1.2', '10.0.0.1', {}),
    winner: 'a',
  },
  {
    step: '9.1.2.2 (a) shorter AS_PATH',
    a: ibgp('a', '9.9.9.9', '10.0.0.9', { asPath: seq(1, 2) }),
    b: ibgp('b', '1.1.1.2', '10.0.0.1', { asPath: seq(1, 2, 3) }),
    winner: 'a',
  },
  {
    step: '9.1.2.2 (a) AS_SET counts as one',
    a: ibgp('a', '9.9.9.9', '10.0.0.9', { asPath: [{ type: 2, asns: [1] }, { type: 1, asns: [5, 6, 7, 8] }] }),
    b: ibgp('b', '1.1.1.2', '10.0.0.1', { asPath: seq(1, 2, 3) }),
    winner: 'a',
  },
  {
    step: '9.1.2.2 (a) confederation segments count zero (RFC 5065)',
    a: ibgp('a', '9.9.9.9', '10.0.0.9', { asPath: [{ type: 3, asns: [64601, 64602, 64603] }, { type: 2, asns: [1] }] }),
    b: ibgp('b', '1.1.1.2', '10.0.0.1', { asPath: seq(1, 2) }),
    winner: 'a',
  },
  {
    step: '9.1.2.2 (b) lowest ORIGIN',
    a: ibgp('a', '9.9.9.9', '10.0.0.9', { origin: 0, asPath: seq(1) }),
    b: ibgp('b', '1.1.1.2', '10.0.0.1', { origin: 1, asPath: seq(2) }),
    winner: 'a',
  },
  {
    step: '9.1.2.2 (c) lower MED from the same neighbour AS',
    a: ibgp('a', '9.9.9.9', '10.0.0.9', { med: 5, asPath: seq(1, 7) }),
    b: ibgp('b', '1.1.1.2', '10.0.0.1', { med: 10, asPath: seq(1, 8) }),
    winner: 'a',
  },
  {
    step: '9.1.2.2 (c) missing MED is 0',
    a: ibgp('a', '9.9.9.9', '10.0.0.9', { asPath: seq(1, 7) }),
    b: ibgp('b', '1.1.1.2', '10.0.0.1', { med: 1, asPath: seq(1, 8) }),
    winner: 'a',
  },
  {
    step: '9.1.2.2 (c) MED not compared across neighbour ASes (falls to router id)',
    a: ibgp('a', '9.9.9.9', '10.0.0.9', { med: 5, asPath: seq(1) }),
    b: ibgp('b', '1.1.1.2', '10.0.0.1', { med: 10, asPath: seq(2) }),
    winner: 'b',
  },
  {
    step: '9.1.2.2 (c) always-compare-med compares across ASes',
    a: ibgp('a', '9.9.9.9', '10.0.0.9', { med: 5, asPath: seq(1) }),
    b: ibgp('b', '1.1.1.2', '10.0.0.1', { med: 10, asPath: seq(2) }),
    winner: 'a',
    opts: { alwaysCompareMed: true },
  },
  {
    step: '9.1.2.2 (d) eBGP over iBGP',
    a: ebgp('a', 65010, '9.9.9.9', '10.0.0.9', { asPath: seq(65010) }),
    b: ibgp('b', '1.1.1.2', '10.0.0.1', { asPath: seq(65020), localPref: 100 }),
    winner: 'a',
  },
  {
    step: '9.1.2.2 (e) lowest IGP cost to the next hop',
    a: ibgp('a', '9.9.9.9', '10.0.0.9', { nextHop: '192.0.2.10' }),
    b: ibgp('b', '1.1.1.2', '10.0.0.1', { nextHop: '192.0.2.20' }),
    winner: 'a',
    opts: { igpCost: (nh) => (nh === '192.0.2.10' ? 1 : 5) },
  },
  {
    step: '9.1.2 unresolvable next hop excluded',
    a: ibgp('a', '9.9.9.9', '10.0.0.9', { nextHop: '192.0.2.10', asPath: seq(1, 2, 3, 4) }),
    b: ibgp('b', '1.1.1.2', '10.0.0.1', { nextHop: '192.0.2.20' }),
    winner: 'a',
    opts: { nextHopReachable: (nh) => nh !== '192.0.2.20' },
  },
  {
    step: '9.1.2.2 (f) lowest BGP identifier',
    a: ibgp('a', '2.2.2.2', '10.0.0.9', {}),
    b: ibgp('b', '3.3.3.3', '10.0.0.1', {}),
    winner: 'a',
  },
  {
    step: 'RFC 4456 §9 ORIGINATOR_ID replaces the BGP identifier',
    a: ibgp('a', '2.2.2.2', '10.0.0.9', { originatorId: '7.7.7.7', clusterList: ['1.0.0.1'] }),
    b: ibgp('b', '3.3.3.3', '10.0.0.1', { originatorId: '5.5.5.5', clusterList: ['1.0.0.1', '1.0.0.2'] }),
    winner: 'b',
  },
  {
    step: 'RFC 4456 §9 shorter CLUSTER_LIST',
    a: ibgp('a', '2.2.2.2', '10.0.0.9', { originatorId: '5.5.5.5', clusterList: ['1.0.0.1'] }),
    b: ibgp('b', '3.3.3.3', '10.0.0.1', { originatorId: '5.5.5.5', clusterList: ['1.0.0.1', '1.0.0.2'] }),
    winner: 'a',
  },
  {
    step: '9.1.2.2 (g) lowest peer address',
    a: ibgp('a', '2.2.2.2', '10.0.0.2', { originatorId: '5.5.5.5' }),
    b: ibgp('b', '3.3.3.3', '10.0.0.10', { originatorId: '5.5.5.5' }),
    winner: 'a',
  },
];

describe('decision process through the Rib (RFC 4271 §9.1, RFC 4456 §9)', () => {
  for (const row of rows)
    for (const order of [
      ['a', 'b'],
      ['b', 'a'],
    ] as const)
      it(`${row.step} (arrival ${order.join(',')})`, () => {
        const r = rib({ decision: row.opts });
        for (const s of [row.a, row.b]) {
          r.addPeer({ id: s.peer, address: s.address, asn: s.asn });
          r.peerUp(s.peer, session(s.routerId), 0);
        }
        for (const name of order) {
          const s = row[name];
          r.ingest(s.peer, announce(['10.10.0.0/16'], s.attrs));
        }
        expect(r.best(pfx('10.10.0.0/16'))?.peer).toBe(row.winner);
      });

  it('a locally originated route beats any learned route', () => {
    const r = rib();
    r.addPeer({ id: 'a', address: '10.0.0.2', asn: 65000 });
    r.peerUp('a', session('2.2.2.2'), 0);
    r.ingest('a', announce(['10.244.0.0/26'], { localPref: 1000 }));
    r.originate(pfx('10.244.0.0/26'));
    expect(r.best(pfx('10.244.0.0/26'))?.peer).toBe('local');
    r.withdrawOrigin(pfx('10.244.0.0/26'));
    expect(r.best(pfx('10.244.0.0/26'))?.peer).toBe('a');
  });

  it('withdrawing the best path falls back to the next best; withdrawing all empties the Loc-RIB', () => {
    const r = rib();
    for (const [id, rid] of [
      ['a', '2.2.2.2'],
      ['b', '3.3.3.3'],
    ] as const) {
      r.addPeer({ id, address: `10.0.0.${rid[0]}`, asn: 65000 });
      r.peerUp(id, session(rid), 0);
      r.ingest(id, announce(['10.10.0.0/16']));
    }
    expect(r.best(pfx('10.10.0.0/16'))?.peer).toBe('a');
    r.peerDown('a', { kind: 'admin' }, 0);
    expect(r.best(pfx('10.10.0.0/16'))?.peer).toBe('b');
    r.peerDown('b', { kind: 'admin' }, 0);
    expect(r.best(pfx('10.10.0.0/16'))).toBeUndefined();
  });

  it('next-hop reachability changes re-run the decision (nextHopsChanged)', () => {
    let down = '';
    const r = rib({ decision: { nextHopReachable: (nh) => nh !== down } });
    r.addPeer({ id: 'a', address: '10.0.0.2', asn: 65000 });
    r.peerUp('a', session('2.2.2.2'), 0);
    r.ingest('a', announce(['10.10.0.0/16'], { nextHop: '192.0.2.7' }));
    r.flush();
    down = '192.0.2.7';
    r.nextHopsChanged();
    expect(r.best(pfx('10.10.0.0/16'))).toBeUndefined();
    expect(r.flush().best.map((b) => b.type)).toEqual(['withdraw']);
    down = '';
    r.nextHopsChanged();
    expect(r.flush().best.map((b) => b.type)).toEqual(['add']);
  });
});

describe('selectBest', () => {
  const store = new AttrStore();
  const cand = (attrs: PathAttributes, kind: 'ibgp' | 'ebgp', routerId: number, address: string, ref: number): Candidate => ({
    attrs: store.intern({ origin: 0, nextHop: '192.0.2.1', ...attrs }),
    source: { kind, routerId, addressKey: addressSortKey(address) },
    pathId: 0,
    ref,
  });

  it('eliminates by MED per neighbour AS as a set, independent of order (RFC 4271 §9.1.2.2 (c))', () => {
    // A: AS 1, MED 10, eBGP; B: AS 1, MED 5, iBGP; C: AS 2, iBGP, lowest router id.
    // Set elimination: A loses to B on MED; then B vs C: both iBGP, C has the lower router id.
    const a = cand({ asPath: seq(1), med: 10 }, 'ebgp', 9, '10.0.0.9', 1);
    const b = cand({ asPath: seq(1), med: 5 }, 'ibgp', 8, '10.0.0.8', 2);
    const c = cand({ asPath: seq(2) }, 'ibgp', 1, '10.0.0.1', 3);
    for (const perm of [
      [a, b, c],
      [c, b, a],
      [b, a, c],
      [c, a, b],
    ])
      expect(selectBest([...perm], 3, DEFAULT_DECISION)?.ref).toBe(3);
    expect(selectBest([a, c], 2, DEFAULT_DECISION)?.ref).toBe(1); // without B, A's eBGP wins
  });

  it('orders peer addresses numerically, IPv4 before IPv6', () => {
    expect(addressSortKey('10.0.0.2') < addressSortKey('10.0.0.10')).toBe(true);
    expect(addressSortKey('255.255.255.255') < addressSortKey('::1')).toBe(true);
    expect(addressSortKey('2001:db8::2') < addressSortKey('2001:db8::10')).toBe(true);
    expect(addressSortKey('2001:db8::1:0')).toBe(addressSortKey('2001:db8:0:0:0:0:1:0'));
  });
});
