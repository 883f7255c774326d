/**
 * Export groups (shared Adj-RIB-Out): route-reflector clients that share one group must each
 * end up with exactly what a private Adj-RIB-Out would give them — every best path whose source
 * is another peer — whatever the order of sessions coming up and going down and of routes
 * announced and withdrawn (the same prefix from several clients moves the best path between
 * sources, the case where a member's diff differs from the group's).
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { announce, pfx, rib, session, withdraw } from './helpers.js';

const CLIENTS = 4;
const PREFIXES = ['10.9.0.0/24', '10.9.1.0/24', '10.9.2.0/24', '10.9.3.0/24', '10.9.4.0/24'];
const id = (i: number): string => `c${i}`;

type Op = { t: 'up' | 'down'; c: number } | { t: 'announce' | 'withdraw'; c: number; p: number; med: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ t: fc.constantFrom('up' as const, 'down' as const), c: fc.integer({ min: 0, max: CLIENTS - 1 }) }),
  fc.record({ t: fc.constantFrom('announce' as const, 'withdraw' as const), c: fc.integer({ min: 0, max: CLIENTS - 1 }), p: fc.integer({ min: 0, max: PREFIXES.length - 1 }), med: fc.integer({ min: 0, max: 2 }) }),
);

// With best-path events off, a peer alone in its group sends through the RIB's quiet path
// (loc-rib.ts `quiet`): its new prefixes are not recorded as changes.
describe.each([{ bestChanges: true }, { bestChanges: false }])('export groups (property, $bestChanges)', ({ bestChanges }) => {
  it('every member holds every best path of the other peers, after any sequence of sessions and routes', () => {
    fc.assert(
      fc.property(fc.array(op, { minLength: 1, maxLength: 40 }), fc.integer({ min: 1, max: 4 }), (ops, batch) => {
        const r = rib({ routeReflector: true, bestChanges });
        for (let i = 0; i < CLIENTS; i++) r.addPeer({ id: id(i), address: `10.0.1.${i + 1}`, asn: 65000, routeReflectorClient: true });
        const up = new Set<number>();
        const held = new Map<string, Map<string, number | undefined>>(); // member → prefix → MED
        const flush = (): void => {
          for (const u of r.flush().updates) {
            const m = held.get(u.peer);
            if (!m) continue;
            for (const w of u.withdraw) m.delete(`${w.addr}/${w.len}`);
            for (const g of u.announce) for (const p of g.prefixes) m.set(`${p.addr}/${p.len}`, g.attrs.attrs.med);
          }
        };
        ops.forEach((o, n) => {
          if (o.t === 'up' && !up.has(o.c)) {
            up.add(o.c);
            held.set(id(o.c), new Map());
            r.peerUp(id(o.c), session(`2.0.0.${o.c + 1}`, '10.0.1.254', { families: ['ipv4-unicast'] }), 0);
          } else if (o.t === 'down' && up.has(o.c)) {
            up.delete(o.c);
            held.delete(id(o.c));
            r.peerDown(id(o.c), { kind: 'admin' }, 0);
          } else if ((o.t === 'announce' || o.t === 'withdraw') && up.has(o.c)) {
            const p = PREFIXES[o.p]!;
            r.ingest(id(o.c), o.t === 'announce' ? announce([p], { nextHop: `10.0.1.${o.c + 1}`, localPref: 100, med: o.med }) : withdraw([p]));
          }
          if (n % batch === 0) flush();
        });
        flush();
        for (const c of up) {
          const want = new Map<string, number | undefined>();
          for (const p of PREFIXES) {
            const b = r.best(pfx(p));
            if (b && b.peer !== id(c)) want.set(p, b.attrs.attrs.med);
          }
          expect([...held.get(id(c))!].sort()).toEqual([...want].sort());
          expect(r.peerCounts(id(c)).advertised).toBe(want.size);
        }
      }),
      { numRuns: 300, seed: 12 },
    );
  });
});
