/**
 * The speaker's best paths as felix events (pure): what felix was last told per prefix, so a
 * best-path change becomes `bgp-route-update` / `bgp-route-remove` only when the next hop felix
 * holds changes. Locally originated paths (`local`) and paths without a next hop are not routes
 * for felix.
 */
import type { BestChange, RouteReport } from '@tabby/bgp';
import type { FelixEvent } from '@tabby/felix';

/** Tracks the next hop felix holds for each BGP-learned prefix. */
export class BgpRouteFeed {
  private readonly told = new Map<string, string>();

  /** Events for the changes of one speaker flush. */
  changes(changes: readonly BestChange[]): FelixEvent[] {
    const events: FelixEvent[] = [];
    for (const ch of changes) {
      const prefix = `${ch.prefix.addr}/${ch.prefix.len}`;
      this.set(prefix, ch.type === 'withdraw' || ch.peer === 'local' ? '' : ch.attrs.nextHop, events);
    }
    return events;
  }

  /** Events that bring felix to the speaker's whole table (start, speaker restart, periodic check). */
  table(routes: readonly RouteReport[]): FelixEvent[] {
    const events: FelixEvent[] = [];
    const seen = new Set<string>();
    for (const r of routes) {
      if (r.from === 'local' || !r.nextHop) continue;
      seen.add(r.prefix);
      this.set(r.prefix, r.nextHop, events);
    }
    for (const p of [...this.told.keys()]) if (!seen.has(p)) this.set(p, '', events);
    return events;
  }

  private set(prefix: string, nextHop: string, events: FelixEvent[]): void {
    if (nextHop) {
      if (this.told.get(prefix) === nextHop) return;
      this.told.set(prefix, nextHop);
      events.push({ type: 'bgp-route-update', prefix, nextHop });
    } else if (this.told.delete(prefix)) events.push({ type: 'bgp-route-remove', prefix });
  }
}
