/**
 * The mirrored Loc-RIB (loc-mirror.ts): a RIB whose first peer feeds it alone, with no best-path
 * events, keeps its Loc-RIB as a view of that peer's Adj-RIB-In. Whatever happens next — the
 * peer's own changes, a second peer, ADD-PATH paths, a local route, a graceful restart and
 * End-of-RIB, a peer removed — it must end with the same Loc-RIB as a RIB that never mirrors (best-path events on),
 * and a peer that comes up later must be sent the same routes.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Rib } from '../../src/rib/index.js';
import { announce, pfx, rib, session, upPeer, updatesFor, withdraw } from './helpers.js';

const GR = { type: 'graceful-restart' as const, restarting: false, notification: false, restartTime: 120, families: [{ afi: 1, safi: 1, forwardingState: true }] };
const PREFIXES = Array.from({ length: 12 }, (_, i) => `10.0.${i}.0/24`);

type Op =
  | { k: 'announce'; peer: 'a' | 'b'; prefixes: string[]; pref: number }
  | { k: 'withdraw'; peer: 'a' | 'b'; prefixes: string[] }
  | { k: 'addpath'; prefix: string; pathId: number }
  | { k: 'originate'; prefix: string }
  | { k: 'b-up' }
  | { k: 'a-restart' }
  | { k: 'eor' }
  | { k: 'a-remove' }
  | { k: 'flush' };

const prefixes = fc.subarray(PREFIXES, { minLength: 1, maxLength: 5 });
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ k: fc.constant('announce' as const), peer: fc.constantFrom('a' as const, 'b' as const), prefixes, pref: fc.integer({ min: 1, max: 3 }) }) },
  { weight: 3, arbitrary: fc.record({ k: fc.constant('withdraw' as const), peer: fc.constantFrom('a' as const, 'b' as const), prefixes }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('addpath' as const), prefix: fc.constantFrom(...PREFIXES), pathId: fc.integer({ min: 1, max: 3 }) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('originate' as const), prefix: fc.constantFrom(...PREFIXES) }) },
  { weight: 1, arbitrary: fc.constant({ k: 'b-up' as const }) },
  { weight: 1, arbitrary: fc.constant({ k: 'a-restart' as const }) },
  { weight: 1, arbitrary: fc.constant({ k: 'eor' as const }) },
  { weight: 1, arbitrary: fc.constant({ k: 'a-remove' as const }) },
  { weight: 4, arbitrary: fc.constant({ k: 'flush' as const }) },
);

/** Best path of every prefix: "prefix → peer / path id / attributes". */
function locRib(r: Rib): string[] {
  return PREFIXES.map((p) => {
    const b = r.best(pfx(p));
    return b ? `${p} ${b.peer} ${b.pathId ?? 0} ${JSON.stringify(b.attrs.attrs)} ${b.attrs.nextHops.join()}` : `${p} -`;
  });
}

class Scenario {
  readonly r: Rib;
  private aAdded = true;
  private bUp = false;
  /** Whether the Loc-RIB was ever a mirror (so the property covers what it claims). */
  mirrored = false;

  constructor(readonly mirrorable: boolean) {
    this.r = rib({ bestChanges: !mirrorable });
    upPeer(this.r, { id: 'a', address: '192.0.2.1', asn: 65001 }, '2.2.2.2', { gracefulRestart: GR });
    this.flush();
  }

  private core(): { mirror: Record<string, unknown> } {
    return (this.r as unknown as { core: { mirror: Record<string, unknown> } }).core;
  }

  flush(): ReturnType<Rib['flush']> {
    const f = this.r.flush();
    if (this.core().mirror['ipv4-unicast']) this.mirrored = true;
    return f;
  }

  apply(o: Op): string | undefined {
    const r = this.r;
    switch (o.k) {
      case 'announce':
      case 'withdraw': {
        if ((o.peer === 'a' && !this.aAdded) || (o.peer === 'b' && !this.bUp)) return;
        const nh = o.peer === 'a' ? '192.0.2.1' : '192.0.2.2';
        r.ingest(o.peer, o.k === 'announce' ? announce(o.prefixes, { nextHop: nh, localPref: 100 + o.pref, asPath: [{ type: 2, asns: [o.peer === 'a' ? 65001 : 65002] }] }) : withdraw(o.prefixes));
        return;
      }
      case 'addpath':
        if (!this.aAdded) return;
        r.ingest('a', { type: 'update', withdrawn: [], attributes: { origin: 0, asPath: [{ type: 2, asns: [65001] }], nextHop: '192.0.2.1' }, nlri: [pfx(o.prefix, o.pathId)] });
        return;
      case 'originate':
        r.originate(pfx(o.prefix));
        return;
      case 'b-up':
        if (this.bUp) return;
        this.bUp = true;
        upPeer(r, { id: 'b', address: '192.0.2.2', asn: 65002 }, '3.3.3.3');
        return;
      case 'a-restart':
        if (!this.aAdded) return;
        // A graceful restart: the paths stay, marked stale, until the peer re-sends them.
        r.peerDown('a', { kind: 'transport' }, 0);
        r.peerUp('a', session('2.2.2.2', undefined, { gracefulRestart: GR }), 0);
        return;
      case 'eor': // End-of-RIB from a: its stale paths go (RFC 4724 §4.2)
        if (this.aAdded) r.ingest('a', { type: 'update', withdrawn: [], attributes: {}, nlri: [] });
        return;
      case 'a-remove':
        if (!this.aAdded) return;
        this.aAdded = false;
        r.removePeer('a');
        return;
      case 'flush': {
        const f = this.flush();
        return this.bUp ? JSON.stringify([...updatesFor(f, 'b').announced.keys()].sort()) : undefined;
      }
    }
  }
}

describe('mirrored Loc-RIB (property)', () => {
  it('ends every sequence with the Loc-RIB of a RIB that never mirrors, and sends a late peer the same routes', () => {
    let covered = 0;
    fc.assert(
      fc.property(fc.array(op, { maxLength: 40 }), (ops) => {
        const m = new Scenario(true);
        const ref = new Scenario(false);
        for (const o of ops) {
          expect(m.apply(o)).toEqual(ref.apply(o));
          expect(locRib(m.r)).toEqual(locRib(ref.r));
        }
        m.flush();
        ref.flush();
        expect(locRib(m.r)).toEqual(locRib(ref.r));
        if (m.mirrored) covered++;
        expect(ref.mirrored).toBe(false);
      }),
      { numRuns: 300 },
    );
    expect(covered).toBeGreaterThan(100); // most sequences start mirrored
  });
});
