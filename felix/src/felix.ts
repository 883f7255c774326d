/**
 * Felix (routing half): the calculation graph wired to the route, tunnel and sysctl drivers,
 * kept converged by kernel notifications, a periodic full resync, and retries with backoff.
 * No process of its own: the node agent embeds it, feeds `apply(events)` from its datastore
 * watch and BGP speaker, and reads `health()`.
 *
 * Invariants:
 * - One apply pass at a time; events arriving meanwhile coalesce into the next pass.
 * - Drift is repaired from notifications (a route, device or neighbour changed behind our back
 *   queues a pass at once); the periodic full resync (`resyncIntervalMs`) is only a backstop,
 *   and a lost notification (overrun) forces one.
 * - The kernel is not touched before the graph is in sync (the node agent's `in-sync` event:
 *   datastore listed and BGP's initial table in): a partial view could compute a different
 *   route, or no device, for what works now. The first pass after that is a full resync that
 *   adopts what a previous run left (restart without loss) and removes only what is stale.
 * - A failed kernel call is logged, counted, and retried with exponential backoff; the state
 *   that failed stays dirty until it succeeds.
 */
import { RoutingGraph, type FallbackNode } from './graph/routing-graph.js';
import type { FelixEvent } from './graph/events.js';
import { IPIP_DEVICE, VXLAN_DEVICE, VXLAN_V6_DEVICE } from './graph/desired.js';
import { RouteDriver } from './drivers/routes.js';
import { SysctlDriver } from './drivers/sysctls.js';
import { TunnelDriver } from './drivers/tunnels.js';
import type { Kernel, KernelWatch, SysctlWriter } from './kernel/kernel.js';
import type { FelixLogger, FelixMetrics } from './metrics.js';
import type { Link, Route } from '@tabby/netlink';

/** Timers, replaceable in tests. */
export interface FelixTimers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** Felix's replaceable parts. */
export interface FelixComponents {
  kernel: Kernel;
  sysctl: SysctlWriter;
  /** Wall clock in ms (BGP fallback hysteresis). Default Date.now. */
  now?: () => number;
  timers?: FelixTimers;
  logger?: FelixLogger;
  metrics?: FelixMetrics;
}

/** Felix's settings. */
export interface FelixInit {
  nodeName: string;
  /** Full resync period (Calico's routeRefreshInterval), default 90 s. */
  resyncIntervalMs?: number;
  /** First and largest retry delay after a failed kernel call. */
  retryMinMs?: number;
  retryMaxMs?: number;
}

/** What `health()` reports. */
export interface FelixHealth {
  /** True once a full pass has programmed the kernel after the graph was in sync. */
  ready: boolean;
  /** False once stopped. */
  live: boolean;
  /** The last kernel failure, cleared by a clean pass. */
  lastError: string | undefined;
  /** Routes waiting for a device (e.g. tunl0 on a kernel without the ipip module). */
  waitingRoutes: number;
  /** Remote nodes reached over the tunnel because BGP to them is down, with since when (ms). */
  fallback: FallbackNode[];
}

const defaultTimers: FelixTimers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

/** The routing dataplane of one node. */
export class Felix {
  readonly graph: RoutingGraph;
  private readonly routes: RouteDriver;
  private readonly tunnels: TunnelDriver;
  private readonly sysctls: SysctlDriver;
  private readonly links = new Map<string, number>();
  private readonly now: () => number;
  private readonly timers: FelixTimers;
  private watch: KernelWatch | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = true;
  private needFull = true;
  private tunnelsDirty = true;
  private ifacesDirty = true;
  private deletesAllowed = false;
  private failures = 0;
  private lastError: string | undefined;
  private retryTimer: unknown;
  private resyncTimer: unknown;
  private deadlineTimer: unknown;
  private idleWaiters: Array<() => void> = [];

  constructor(private readonly c: FelixComponents, private readonly init: FelixInit) {
    this.graph = new RoutingGraph(init.nodeName);
    this.routes = new RouteDriver(c.kernel);
    this.tunnels = new TunnelDriver(c.kernel);
    this.sysctls = new SysctlDriver(c.sysctl);
    this.now = c.now ?? Date.now;
    this.timers = c.timers ?? defaultTimers;
  }

  /** Starts watching the kernel and runs the first full pass (adopting what a previous run left). */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.watch = this.c.kernel.watch();
    this.watch.on('event', (ev: KernelEvent) => this.onKernelEvent(ev));
    this.watch.on('overrun', () => {
      this.c.logger?.warn({}, 'kernel notifications lost: full resync');
      this.needFull = true;
      this.kick();
    });
    this.needFull = true;
    this.kick();
  }

  /** Feeds inputs to the graph and schedules a pass. */
  apply(events: readonly FelixEvent[]): void {
    for (const ev of events) {
      this.graph.apply(ev);
      if (ev.type === 'in-sync' && !this.deletesAllowed) this.needFull = true; // stale routes can go now
    }
    this.kick();
  }

  /** Resolves when no pass is running or queued (tests and benchmarks). */
  whenIdle(): Promise<void> {
    if (!this.running && !this.again) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  health(): FelixHealth {
    return { ready: this.deletesAllowed, live: !this.stopped, lastError: this.lastError, waitingRoutes: this.waiting, fallback: this.graph.fallbackStatus() };
  }

  private waiting = 0;
  private fallbackLogged = new Set<string>();

  /** Logs each node entering or leaving the BGP fallback (and counts them for the metric). */
  private logFallback(): void {
    const now = new Set(this.graph.fallbackStatus().map((s) => s.node));
    for (const node of now) if (!this.fallbackLogged.has(node)) this.c.logger?.warn({ node }, 'BGP to this node is down: its pods are reached over the tunnel (fallback)');
    for (const node of this.fallbackLogged) if (!now.has(node)) this.c.logger?.info({ node }, 'BGP to this node is back: its pods are reached over BGP routes again');
    if (now.size !== this.fallbackLogged.size || [...now].some((n) => !this.fallbackLogged.has(n))) this.c.metrics?.fallbackNodes(now.size);
    this.fallbackLogged = now;
  }

  /** Stops timers and the kernel watch; the kernel state stays as it is (routes keep working). */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of [this.retryTimer, this.resyncTimer, this.deadlineTimer]) if (t !== undefined) this.timers.clearTimeout(t);
    this.watch?.close();
    this.watch = undefined;
    await this.running;
  }

  private kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.loop();
  }

  private async loop(): Promise<void> {
    try {
      do {
        this.again = false;
        await this.pass();
      } while (this.again && !this.stopped);
    } finally {
      this.running = undefined;
      for (const w of this.idleWaiters.splice(0)) w();
    }
  }

  private async pass(): Promise<void> {
    if (!this.graph.inSync) return; // in-sync queues a full pass
    const started = performance.now();
    const full = this.needFull;
    this.needFull = false;
    const delta = this.graph.flush(this.now());
    this.logFallback();
    let errors = 0;
    try {
      const fresh = full ? await this.refreshLinks() : undefined;
      const desired = full || delta.tunnelsChanged || this.tunnelsDirty ? this.graph.desired() : undefined;
      let removalPending = false;
      if (desired) {
        this.tunnelsDirty = false;
        // Make before break: devices are created now, but removed only after the routes moved off them.
        const tf = await this.tunnels.apply(desired, fresh, { removals: false });
        if (tf.length > 0) this.tunnelsDirty = true;
        for (const f of tf) this.report('tunnel', f.errnoName ?? 'error', `${f.what}: ${f.error}`);
        errors += tf.length;
        // Devices may have come or gone: re-read the links unless nothing could have changed them.
        const links = tf.length > 0 || desired.vxlan || desired.vxlanV6 || desired.ipip || !fresh ? await this.refreshLinks() : fresh;
        removalPending = TunnelDriver.removalPending(links, desired);
      }
      if (full || delta.ifacesChanged || this.ifacesDirty) {
        const sf = this.sysctls.apply(this.graph.workloadIfaces(), this.links);
        this.ifacesDirty = sf.length > 0;
        for (const f of sf) this.report('sysctl', 'write', `${f.path}: ${f.error}`);
        errors += sf.length;
      }
      if (full) {
        this.routes.replaceAll((desired ?? this.graph.desired()).routes);
        await this.routes.readBack();
      } else this.routes.update(delta.upserts, delta.removes);
      const allowDelete = this.graph.inSync && (this.deletesAllowed || full);
      const rep = await this.routes.apply(this.links, allowDelete);
      if (full && this.graph.inSync) this.deletesAllowed = true;
      this.waiting = rep.waiting;
      this.c.metrics?.writes('route', 'replace', rep.written);
      this.c.metrics?.writes('route', 'del', rep.deleted);
      this.c.metrics?.routes(this.routes.counts.desired, rep.waiting);
      for (const f of rep.failures) this.report('route', f.op, `${f.op} ${f.dst}: ${f.error}`);
      errors += rep.failures.length;
      if (desired && removalPending) {
        const tf = await this.tunnels.apply(desired, undefined, { removals: true });
        for (const f of tf) this.report('tunnel', f.errnoName ?? 'error', `${f.what}: ${f.error}`);
        errors += tf.length;
        if (tf.length > 0) this.tunnelsDirty = true;
      }
    } catch (e: unknown) {
      // A read-back failed (socket overrun, namespace gone): start over with a full pass.
      this.needFull = true;
      errors++;
      this.report('read', 'error', e instanceof Error ? e.message : String(e));
    }
    this.c.metrics?.applied(full ? 'full' : 'incremental', (performance.now() - started) / 1000);
    if (errors > 0) this.retryLater();
    else {
      this.failures = 0;
      this.lastError = undefined;
    }
    this.scheduleTimers();
  }

  private report(object: 'route' | 'tunnel' | 'sysctl' | 'read', reason: string, message: string): void {
    this.lastError = message;
    this.c.metrics?.kernelError(object, reason);
    this.c.logger?.warn({ node: this.init.nodeName, err: message }, `felix: ${object} change failed; retrying`);
  }

  private retryLater(): void {
    this.failures++;
    const min = this.init.retryMinMs ?? 50;
    const max = this.init.retryMaxMs ?? 10_000;
    const delay = Math.min(max, min * 2 ** Math.min(this.failures - 1, 20));
    if (this.retryTimer !== undefined) this.timers.clearTimeout(this.retryTimer);
    this.retryTimer = this.timers.setTimeout(() => {
      this.retryTimer = undefined;
      this.kick();
    }, delay);
  }

  private scheduleTimers(): void {
    if (this.stopped) return;
    if (this.resyncTimer === undefined) {
      this.resyncTimer = this.timers.setTimeout(() => {
        this.resyncTimer = undefined;
        this.needFull = true;
        this.kick();
      }, this.init.resyncIntervalMs ?? 90_000);
    }
    const deadline = this.graph.nextDeadline();
    if (this.deadlineTimer !== undefined) this.timers.clearTimeout(this.deadlineTimer);
    this.deadlineTimer = undefined;
    if (deadline !== undefined) {
      this.deadlineTimer = this.timers.setTimeout(() => {
        this.deadlineTimer = undefined;
        this.kick();
      }, Math.max(0, deadline - this.now()));
    }
  }

  private async refreshLinks(): Promise<Link[]> {
    const links = await this.c.kernel.listLinks();
    const before = new Map(this.links);
    this.links.clear();
    for (const l of links) this.links.set(l.name, l.index);
    for (const [name, index] of this.links) if (before.get(name) !== index) this.routes.noteLink(name);
    return links;
  }

  private onKernelEvent(ev: KernelEvent): void {
    switch (ev.type) {
      case 'route':
        if (ev.action === 'del' && this.routes.isDesired(ev.route.dst) && ev.route.protocol === 80) this.c.metrics?.drift('route');
        if (this.routes.noteKernel(ev.action, ev.route)) this.kick();
        return;
      case 'link':
        return this.onLink(ev.action, ev.link);
      case 'neigh':
        if (ev.neigh.index === this.links.get(VXLAN_DEVICE) || ev.neigh.index === this.links.get(VXLAN_V6_DEVICE)) {
          this.tunnelsDirty = true;
          this.kick();
        }
        return;
      case 'address':
        return;
      default: {
        const never: never = ev;
        this.c.logger?.debug({ ev: never }, 'felix: unknown kernel event');
      }
    }
  }

  private onLink(action: 'new' | 'del', link: Link): void {
    const known = this.links.get(link.name);
    const tunnel = link.name === VXLAN_DEVICE || link.name === VXLAN_V6_DEVICE || link.name === IPIP_DEVICE;
    if (action === 'del') {
      if (known !== link.index) return;
      this.links.delete(link.name);
      this.c.metrics?.drift('link');
    } else {
      if (known === link.index && !tunnel) return;
      this.links.set(link.name, link.index);
      this.routes.noteLink(link.name);
    }
    if (tunnel) this.tunnelsDirty = true;
    this.ifacesDirty = true;
    this.kick();
  }
}

/** The notifications felix follows. */
type KernelEvent =
  | { type: 'route'; action: 'new' | 'del'; route: Route }
  | { type: 'link'; action: 'new' | 'del'; link: Link }
  | { type: 'neigh'; action: 'new' | 'del'; neigh: { index: number } }
  | { type: 'address'; action: 'new' | 'del' };
