/** Property: the Loc-RIB depends only on the final set of paths, never on arrival order. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { PathAttributes } from '../../src/codec/types.js';
import type { Rib } from '../../src/rib/index.js';
import { announce, rib, session, withdraw } from './helpers.js';

const PEERS = [
  { id: 'i1', address: '10.0.0.1', asn: 65000, routerId: '1.0.0.9' },
  { id: 'i2', address: '10.0.0.2', asn: 65000, routerId: '1.0.0.8', routeReflectorClient: true },
  { id: 'e1', address: '10.0.0.3', asn: 65001, routerId: '1.0.0.7' },
  { id: 'e2', address: '10.0.0.4', asn: 65002, routerId: '1.0.0.6' },
];
const PREFIXES = ['10.1.0.0/16', '10.2.0.0/16', '10.3.0.0/24'];

const attrsArb: fc.Arbitrary<PathAttributes> = fc.record({
  origin: fc.constantFrom(0 as const, 1 as const, 2 as const),
  asPath: fc.array(fc.constantFrom(1, 2, 3), { minLength: 0, maxLength: 3 }).map((asns) => (asns.length ? [{ type: 2 as const, asns }] : [])),
  med: fc.option(fc.integer({ min: 0, max: 3 }), { nil: undefined }),
  localPref: fc.option(fc.constantFrom(100, 200), { nil: undefined }),
  originatorId: fc.option(fc.constantFrom('5.5.5.5', '6.6.6.6'), { nil: undefined }),
  clusterList: fc.option(fc.constantFrom(['9.9.9.1'], ['9.9.9.1', '9.9.9.2']), { nil: undefined }),
  nextHop: fc.constantFrom('192.0.2.1', '192.0.2.2'),
});

type Op = { kind: 'announce'; peer: number; prefix: number; attrs: PathAttributes } | { kind: 'withdraw'; peer: number; prefix: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('announce' as const), peer: fc.nat(PEERS.length - 1), prefix: fc.nat(PREFIXES.length - 1), attrs: attrsArb }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('withdraw' as const), peer: fc.nat(PEERS.length - 1), prefix: fc.nat(PREFIXES.length - 1) }) },
);

function build(alwaysCompareMed: boolean): Rib {
  const r = rib({ decision: { alwaysCompareMed }, routeReflector: true });
  for (const p of PEERS) {
    r.addPeer(p);
    r.peerUp(p.id, session(p.routerId), 0);
  }
  return r;
}

function apply(r: Rib, op: Op): void {
  const peer = PEERS[op.peer]!.id;
  const prefix = PREFIXES[op.prefix]!;
  r.ingest(peer, op.kind === 'announce' ? announce([prefix], op.attrs) : withdraw([prefix]));
}

function snapshot(r: Rib): string[] {
  return [...r.routes('ipv4-unicast')].map((b) => `${b.prefix.addr}/${b.prefix.len} ${b.peer} ${JSON.stringify([b.attrs.attrs, b.attrs.nextHops])}`).sort();
}

describe('Loc-RIB order independence (fast-check)', () => {
  for (const alwaysCompareMed of [false, true])
    it(`same final paths in any order give the same Loc-RIB (always-compare-med ${alwaysCompareMed})`, () => {
      fc.assert(
        fc.property(fc.array(opArb, { maxLength: 40 }), fc.nat(), (ops, seed) => {
          const a = build(alwaysCompareMed);
          for (const op of ops) apply(a, op);
          // The final set: last announce per (peer, prefix) not followed by a withdraw.
          const final = new Map<string, Op>();
          for (const op of ops) {
            const k = `${op.peer}/${op.prefix}`;
            if (op.kind === 'announce') final.set(k, op);
            else final.delete(k);
          }
          const shuffled = [...final.values()];
          let s = seed;
          for (let i = shuffled.length - 1; i > 0; i--) {
            s = (s * 1103515245 + 12345) % 2147483648;
            const j = s % (i + 1);
            [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
          }
          const b = build(alwaysCompareMed);
          for (const op of shuffled) apply(b, op);
          expect(snapshot(a)).toEqual(snapshot(b));
          // And the flushed events of `a`, folded, describe the same Loc-RIB.
        }),
        { numRuns: 300 },
      );
    });

  it('best-path events folded over flushes reproduce the Loc-RIB', () => {
    fc.assert(
      fc.property(fc.array(fc.array(opArb, { maxLength: 8 }), { maxLength: 6 }), (batches) => {
        const r = build(false);
        const view = new Map<string, string>();
        for (const batch of batches) {
          for (const op of batch) apply(r, op);
          for (const ev of r.flush().best) {
            const k = `${ev.prefix.addr}/${ev.prefix.len}`;
            if (ev.type === 'withdraw') {
              expect(view.has(k)).toBe(true);
              view.delete(k);
            } else {
              expect(view.has(k)).toBe(ev.type === 'replace');
              view.set(k, `${k} ${ev.peer} ${JSON.stringify([ev.attrs.attrs, ev.attrs.nextHops])}`);
            }
          }
        }
        expect([...view.values()].sort()).toEqual(snapshot(r));
      }),
      { numRuns: 200 },
    );
  });
});
