/** Shared helpers of the routing-graph tests. */
import fc from 'fast-check';
import { expect } from 'vitest';
import { RoutingGraph, type DesiredRoute, type FelixEvent } from '../../src/index.js';

export const ME = 'node-a';

/** A graph of node-a fed `events`. */
export function graphWith(events: FelixEvent[]): RoutingGraph {
  const g = new RoutingGraph(ME);
  for (const e of events) g.apply(e);
  return g;
}

/** The desired routes after a flush at `now`. */
export function routesOf(g: RoutingGraph, now = 0): Map<string, DesiredRoute> {
  g.flush(now);
  return g.desired().routes;
}

/** A route as `via X dev Y onlink` (or `blackhole`, `none`). */
export function brief(r: DesiredRoute | undefined): string {
  if (!r) return 'none';
  if (r.type === 'blackhole') return 'blackhole';
  return [r.gateway ? `via ${r.gateway}` : '', r.iface ? `dev ${r.iface}` : '', r.onlink ? 'onlink' : ''].filter(Boolean).join(' ');
}

/**
 * Property: any order of `events`, with an incremental flush at any point, ends in the same
 * `snapshot` as applying them in order.
 */
export function expectOrderIndependent(events: FelixEvent[], snapshot: (g: RoutingGraph) => unknown, seed: number): void {
  const expected = snapshot(graphWith(events));
  fc.assert(
    fc.property(fc.shuffledSubarray(events, { minLength: events.length }), fc.integer({ min: 0, max: events.length }), (order, flushAt) => {
      const g = new RoutingGraph(ME);
      order.forEach((e, i) => {
        g.apply(e);
        if (i === flushAt) g.flush(0); // incremental flushes must not change the outcome
      });
      expect(snapshot(g)).toEqual(expected);
    }),
    { numRuns: 300, seed },
  );
}
