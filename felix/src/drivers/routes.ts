/**
 * The route driver: holds the desired routes (from the graph), knows the kernel's protocol-80
 * routes of the main table (read back at every full resync and followed through notifications
 * between them), and applies the difference in one batch.
 *
 * Invariants:
 * - Only protocol-80 routes in the main table are ever changed or deleted: routes Tabby does
 *   not own are invisible here.
 * - A route that is already right is never touched, and a wrong one is replaced in place
 *   (`replace`, never delete + add): an agent restart drops no traffic.
 * - Until the first complete resync after the graph is in sync (`allowDelete`), nothing is
 *   deleted: routes left by a previous run are adopted, and only removed once it is certain
 *   they are stale.
 * - A desired route whose device does not exist yet (a veth the CNI plugin has not created)
 *   waits; the link's appearance re-queues it.
 */
import type { Request, Route, RouteSpec } from '@tabby/netlink';
import type { DesiredRoute } from '../graph/desired.js';
import { RTPROT_TABBY, RT_TABLE_MAIN, type Kernel } from '../kernel/kernel.js';

const RT_SCOPE_LINK = 253;

/** Outcome of one apply. */
export interface ApplyReport {
  written: number;
  deleted: number;
  /** Routes waiting for their device. */
  waiting: number;
  failures: Array<{ dst: string; op: string; error: string }>;
}

/** The kernel route `d` stands for, with the device resolved; undefined while it is missing. */
export function routeSpec(d: DesiredRoute, linkIndex: ReadonlyMap<string, number>): RouteSpec | undefined {
  let oif: number | undefined;
  if (d.iface !== undefined) {
    oif = linkIndex.get(d.iface);
    if (oif === undefined) return undefined;
  }
  const spec: RouteSpec = { dst: d.dst, protocol: RTPROT_TABBY, table: RT_TABLE_MAIN, type: d.type };
  if (oif !== undefined) spec.oif = oif;
  if (d.gateway !== undefined) spec.gateway = d.gateway;
  if (d.onlink) spec.onlink = true;
  if (d.scopeLink) spec.scope = RT_SCOPE_LINK;
  return spec;
}

/** True when the kernel's route already is what `spec` asks for. */
export function matches(k: Route, spec: RouteSpec): boolean {
  if (k.type !== (spec.type ?? 'unicast')) return false;
  if (spec.type === 'blackhole') return true;
  if (k.gateway !== spec.gateway) return false;
  if (spec.oif !== undefined && k.oif !== spec.oif) return false;
  if (!!spec.onlink !== k.onlink) return false;
  if (spec.scope !== undefined && k.scope !== spec.scope) return false;
  return k.multipath === undefined;
}

/** Desired routes vs the kernel's protocol-80 routes. */
export class RouteDriver {
  private readonly desired = new Map<string, DesiredRoute>();
  private readonly kernel = new Map<string, Route>();
  /** Destinations to look at on the next incremental apply. */
  private readonly dirty = new Set<string>();
  /** Desired routes whose device does not exist yet. */
  private readonly waitingFor = new Set<string>();

  constructor(private readonly k: Kernel) {}

  /** Sets or clears the desired route of each destination. */
  update(upserts: readonly DesiredRoute[], removes: readonly string[]): void {
    for (const r of upserts) {
      this.desired.set(r.dst, r);
      this.dirty.add(r.dst);
    }
    for (const dst of removes) {
      this.desired.delete(dst);
      this.dirty.add(dst);
    }
  }

  /** Replaces the whole desired set (after a graph rebuild). */
  replaceAll(routes: ReadonlyMap<string, DesiredRoute>): void {
    for (const dst of this.desired.keys()) if (!routes.has(dst)) this.dirty.add(dst);
    this.desired.clear();
    for (const [dst, r] of routes) {
      this.desired.set(dst, r);
      this.dirty.add(dst);
    }
  }

  /** Follows a kernel notification about a route; returns true when it concerns us. */
  noteKernel(action: 'new' | 'del', r: Route): boolean {
    if (r.table !== RT_TABLE_MAIN) return false;
    const ours = r.protocol === RTPROT_TABBY;
    if (action === 'del') {
      if (!ours) return false;
      this.kernel.delete(r.dst);
    } else if (ours) this.kernel.set(r.dst, r);
    else {
      // Another protocol took the destination (e.g. a route replaced by hand): ours is gone.
      if (!this.kernel.has(r.dst)) return false;
      this.kernel.delete(r.dst);
    }
    if (!this.desired.has(r.dst) && !ours) return false;
    this.dirty.add(r.dst);
    return true;
  }

  /** Re-queues every desired route on `iface` (its device appeared or changed index). */
  noteLink(iface: string): void {
    for (const [dst, r] of this.desired) if (r.iface === iface) this.dirty.add(dst);
  }

  /** Reads every protocol-80 route back; the next apply then considers everything. */
  async readBack(): Promise<void> {
    const routes = await this.k.ownedRoutes();
    this.kernel.clear();
    for (const r of routes) if (r.table === RT_TABLE_MAIN) this.kernel.set(r.dst, r);
    for (const dst of this.kernel.keys()) this.dirty.add(dst);
    for (const dst of this.desired.keys()) this.dirty.add(dst);
  }

  /** True when felix wants a route to `dst`. */
  isDesired(dst: string): boolean {
    return this.desired.has(dst);
  }

  /** Destinations waiting to be looked at. */
  get pending(): number {
    return this.dirty.size;
  }

  /** Number of desired routes and of protocol-80 routes known in the kernel. */
  get counts(): { desired: number; kernel: number } {
    return { desired: this.desired.size, kernel: this.kernel.size };
  }

  /**
   * Applies the difference for every dirty destination in one batch. `allowDelete` is false
   * until the first complete resync after the graph is in sync (stale routes are adopted).
   */
  async apply(linkIndex: ReadonlyMap<string, number>, allowDelete: boolean): Promise<ApplyReport> {
    const reqs: Request[] = [];
    const report: ApplyReport = { written: 0, deleted: 0, waiting: 0, failures: [] };
    const keep = new Set<string>();
    for (const dst of this.dirty) {
      const want = this.desired.get(dst);
      const have = this.kernel.get(dst);
      this.waitingFor.delete(dst);
      if (want) {
        const spec = routeSpec(want, linkIndex);
        if (!spec) {
          this.waitingFor.add(dst);
          continue; // re-queued by noteLink when the device appears
        }
        if (have && matches(have, spec)) continue;
        reqs.push({ kind: 'route', op: 'replace', route: spec });
      } else if (have) {
        if (!allowDelete) {
          keep.add(dst); // adopted: decide after the first full resync
          continue;
        }
        reqs.push({ kind: 'route', op: 'del', route: { dst, protocol: RTPROT_TABBY, table: RT_TABLE_MAIN, type: have.type } });
      }
    }
    this.dirty.clear();
    for (const dst of keep) this.dirty.add(dst);
    report.waiting = this.waitingFor.size;
    if (reqs.length === 0) return report;
    const res = await this.k.batch(reqs);
    res.results.forEach((r, i) => {
      const req = reqs[i]!;
      if (req.kind !== 'route') return;
      const dst = req.route.dst;
      if (r.ok) {
        if (req.op === 'del') {
          this.kernel.delete(dst);
          report.deleted++;
        } else {
          this.kernel.set(dst, asKernelRoute(req.route));
          report.written++;
        }
      } else if (req.op === 'del' && r.error.errnoName === 'ESRCH') {
        this.kernel.delete(dst); // already gone: the goal is reached
      } else {
        this.dirty.add(dst); // retried on the next apply
        report.failures.push({ dst, op: req.op, error: r.error.message });
      }
    });
    return report;
  }
}

/** What the kernel holds after a successful replace of `spec` (until a notification says more). */
function asKernelRoute(spec: RouteSpec): Route {
  return {
    family: spec.dst.includes(':') ? 6 : 4,
    dst: spec.dst,
    type: spec.type === undefined || spec.type === 'other' ? 'unicast' : spec.type,
    typeNum: 0,
    table: RT_TABLE_MAIN,
    protocol: RTPROT_TABBY,
    scope: spec.scope ?? 0,
    flags: 0,
    onlink: !!spec.onlink,
    gateway: spec.gateway,
    oif: spec.oif,
  };
}
