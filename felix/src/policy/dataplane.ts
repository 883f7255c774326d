/**
 * PolicyDataplane: the shell around the pure PolicyCalculator. Events go to the calculator;
 * a coalescing sync loop applies its desired state in the safe order — ipsets created and
 * filled (one `ipset restore`), then per family one `iptables-restore` with every changed
 * chain and hook, then unreferenced ipsets destroyed — and a periodic read-back (`repair`)
 * compares the kernel with the desired state and rewrites what another writer removed.
 * Everything runs inside the node's network namespace through the injected CommandRunner.
 */
import { PolicyCalculator } from './calculator.js';
import type { PolicyMetrics } from './metrics.js';
import type { DesiredPolicyState, PolicyFamily, IpSetState, PolicyConfig, PolicyEvent } from './types.js';
import { detectBackend, type IptablesBackend } from '../iptables/backend.js';
import { IptablesDriver, type IptablesApplyStats } from '../iptables/driver.js';
import type { CommandRunner } from '../iptables/runner.js';
import { IpsetDriver, type IpsetApplyStats } from '../ipsets/driver.js';

/** pino-compatible logger subset. */
export interface PolicyLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
  debug?(obj: object, msg: string): void;
}

/** Injected parts. */
export interface PolicyDataplaneComponents {
  /** Runs iptables / ipset inside the node's namespace (see netnsRunner). */
  runner: CommandRunner;
  logger?: PolicyLogger;
  metrics?: PolicyMetrics;
}

/** Options. */
export interface PolicyDataplaneInit {
  nodeName: string;
  config?: Partial<PolicyConfig>;
  /** iptables backend, or detect it as kube-proxy does [auto]. */
  backend?: IptablesBackend | 'auto';
  /** Read-back and repair period in ms; 0 disables the timer [5000]. */
  repairIntervalMs?: number;
  /** Retry delay after a failed sync in ms [1000]. */
  retryMs?: number;
}

/** Result of one sync. */
export interface SyncResult {
  generation: number;
  iptables: Partial<Record<PolicyFamily, IptablesApplyStats>>;
  ipsetLines: number;
  readBack: boolean;
  /** Milliseconds spent per step: calculation, ipset adds, iptables per family, ipset deletes. */
  ms?: { calc: number; ipsetAdds: number; iptables: number; ipsetDeletes: number };
}

/** See the module header. */
export class PolicyDataplane {
  readonly calculator: PolicyCalculator;
  private backendChoice: IptablesBackend | 'auto';
  private ipt = new Map<PolicyFamily, IptablesDriver>();
  private readonly ipsets: IpsetDriver;
  /** The end of the sync queue (never rejects). */
  private tail: Promise<void> = Promise.resolve();
  private pendingFlush: Promise<SyncResult> | undefined;
  private pendingRepair: Promise<SyncResult> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private started = false;
  private appliedGeneration = -1;
  private readonly repairMs: number;
  private readonly retryMs: number;

  constructor(
    init: PolicyDataplaneInit,
    private readonly components: PolicyDataplaneComponents,
  ) {
    this.calculator = new PolicyCalculator({ nodeName: init.nodeName, ...(init.config ? { config: init.config } : {}) });
    this.backendChoice = init.backend ?? 'auto';
    this.ipsets = new IpsetDriver({ runner: components.runner });
    this.repairMs = init.repairIntervalMs ?? 5000;
    this.retryMs = init.retryMs ?? 1000;
  }

  /** The backend in use (after start). */
  get backend(): IptablesBackend | 'auto' {
    return this.backendChoice;
  }

  /** Feeds one event; a sync follows (coalesced with others) once started. */
  onEvent(ev: PolicyEvent): void {
    this.calculator.onEvent(ev);
    if (this.started) this.kick();
  }

  /** Detects the backend, reads the kernel back and applies the full desired state. */
  async start(signal?: AbortSignal): Promise<SyncResult> {
    if (this.backendChoice === 'auto') {
      const d = await detectBackend(this.components.runner);
      this.backendChoice = d.backend;
      this.components.logger?.info({ backend: d.backend, reason: d.reason }, 'iptables backend detected');
    }
    const backend = this.backendChoice;
    for (const f of this.calculator.families()) this.ipt.set(f, new IptablesDriver({ family: f, backend, insertMode: this.calculator.config.chainInsertMode }, { runner: this.components.runner }));
    this.started = true;
    const r = await this.enqueue(() => ({ readBack: true, ...(signal ? { signal } : {}) }));
    if (this.repairMs > 0) {
      this.timer = setInterval(() => void this.repair().catch(() => undefined), this.repairMs);
      this.timer.unref();
    }
    return r;
  }

  /** Stops the timers (the kernel state stays, as Felix leaves it on exit). */
  async stop(): Promise<void> {
    this.started = false;
    if (this.timer) clearInterval(this.timer);
    if (this.retryTimer) clearTimeout(this.retryTimer);
    await this.tail;
  }

  private kick(): void {
    void this.flush().catch(() => undefined);
  }

  /**
   * Applies the current desired state; resolves once the kernel holds it. Syncs run one at a
   * time; callers arriving while a sync is queued (not started) share it, so a burst of events
   * costs one sync after the running one, not one each.
   */
  flush(): Promise<SyncResult> {
    if (this.pendingFlush) return this.pendingFlush;
    const p = this.enqueue(() => {
      this.pendingFlush = undefined;
      return {};
    });
    this.pendingFlush = p;
    return p;
  }

  /** Reads the kernel back and repairs any drift (coalesced like `flush`). */
  repair(): Promise<SyncResult> {
    if (this.pendingRepair) return this.pendingRepair;
    const p = this.enqueue(() => {
      this.pendingRepair = undefined;
      this.pendingFlush = undefined;
      return { readBack: true };
    });
    this.pendingRepair = p;
    return p;
  }

  /** Queues a sync after the current one; `start` runs when it begins and gives its options. */
  private enqueue(start: () => { readBack?: boolean; signal?: AbortSignal }): Promise<SyncResult> {
    const p = this.tail.then(() => this.doSync(start()));
    this.tail = p.then(
      () => undefined,
      () => undefined,
    );
    p.catch((e: unknown) => {
      this.components.logger?.error({ err: e instanceof Error ? e.message : String(e) }, 'policy dataplane sync failed; retrying');
      if (this.started && !this.retryTimer) {
        this.retryTimer = setTimeout(() => {
          this.retryTimer = undefined;
          void this.repair().catch(() => undefined);
        }, this.retryMs);
        this.retryTimer.unref();
      }
    });
    return p;
  }

  private async doSync(opts: { readBack?: boolean; signal?: AbortSignal }): Promise<SyncResult> {
    const t0 = performance.now();
    const d = this.calculator.desired();
    const t1 = performance.now();
    const readBack = opts.readBack === true;
    if (!readBack && d.generation === this.appliedGeneration) return { generation: d.generation, iptables: {}, ipsetLines: 0, readBack };
    const steady = this.appliedGeneration === d.generation;
    const sets: IpSetState[] = [...d.v4.ipsets.values(), ...(d.v6?.ipsets.values() ?? [])];
    const so = opts.signal ? { signal: opts.signal } : {};
    try {
      // Sets that rules will name must exist first; member-only changes run beside iptables.
      const ipt: SyncResult['iptables'] = {};
      const ms = { calc: t1 - t0, ipsetAdds: 0, iptables: 0, ipsetDeletes: 0 };
      const iptables = async (): Promise<void> => {
        const s0 = performance.now();
        // IPv4 and IPv6 tables are independent: both restores run side by side.
        await Promise.all(
          [...this.ipt].map(async ([f, drv]) => {
            const fs = f === 4 ? d.v4 : d.v6;
            if (fs) ipt[f] = await drv.apply(fs.tables, { readBack, ...so });
          }),
        );
        ms.iptables = performance.now() - s0;
      };
      const ipsetAdds = async (): Promise<IpsetApplyStats> => {
        const s0 = performance.now();
        const r = await this.ipsets.applyAdds(sets, { readBack, ...so });
        ms.ipsetAdds = performance.now() - s0;
        return r;
      };
      let adds: IpsetApplyStats;
      if (readBack || this.ipsets.structural(sets)) {
        adds = await ipsetAdds();
        await iptables();
      } else [adds] = await Promise.all([ipsetAdds(), iptables()]);
      const s3 = performance.now();
      const dels = await this.ipsets.applyDeletes(sets, so);
      ms.ipsetDeletes = performance.now() - s3;
      this.appliedGeneration = d.generation;
      this.report(d, ipt, adds.lines + dels.lines, readBack && steady, adds.added + adds.created, performance.now() - t0);
      return { generation: d.generation, iptables: ipt, ipsetLines: adds.lines + dels.lines, readBack, ms };
    } catch (e: unknown) {
      this.components.metrics?.sync('error', (performance.now() - t0) / 1000, readBack);
      for (const drv of this.ipt.values()) drv.invalidate();
      this.ipsets.invalidate();
      throw e;
    }
  }

  /** `drift`: a read-back of an already-applied generation, so anything written was drift. */
  private report(d: DesiredPolicyState, ipt: SyncResult['iptables'], lines: number, drift: boolean, ipsetAdds: number, ms: number): void {
    const m = this.components.metrics;
    let chains = 0;
    let rules = 0;
    let hooks = 0;
    for (const s of Object.values(ipt)) {
      chains += s.chainsWritten + s.chainsDeleted;
      rules += s.rulesWritten;
      hooks += s.hooksAdded;
    }
    if (m) {
      m.sync('ok', ms / 1000, drift);
      m.written(chains, rules, lines);
      if (drift) {
        if (chains) m.repaired('chains', chains);
        if (hooks) m.repaired('hooks', hooks);
        if (ipsetAdds) m.repaired('ipsets', ipsetAdds);
      }
      const count = (f: DesiredPolicyState['v4'] | undefined): number => (f ? Object.values(f.tables).reduce((a, t) => a + t.chains.size, 0) : 0);
      const local = [...this.calculator.model().endpoints.values()].filter((e) => e.node === this.calculator.nodeName).length;
      m.state(count(d.v4) + count(d.v6), d.v4.ipsets.size + (d.v6?.ipsets.size ?? 0), local, this.calculator.inputProblems().length);
    }
    if (drift && chains + hooks + ipsetAdds > 0) this.components.logger?.warn({ chains, hooks, ipsetAdds }, 'policy dataplane: read-back found drift; repaired');
  }
}
