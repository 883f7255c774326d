/**
 * Felix's observability hooks: prom-client metrics created by a factory over an injected
 * registry (nothing registers at import time), and the subset of pino's logger felix uses
 * (shared keys: iface, prefix, node, err).
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** What felix reports. */
export interface FelixMetrics {
  /** One apply pass: full resync or incremental, and how long it took. */
  applied(kind: 'full' | 'incremental', seconds: number): void;
  /** Kernel writes by object and operation. */
  writes(object: 'route' | 'tunnel' | 'sysctl', op: string, n: number): void;
  /** A failed kernel call, by what failed. */
  kernelError(object: 'route' | 'tunnel' | 'sysctl' | 'read', reason: string): void;
  /** Drift: a change made behind felix's back was seen. */
  drift(object: 'route' | 'link' | 'neigh'): void;
  /** Current desired routes and routes waiting for their device. */
  routes(desired: number, waiting: number): void;
  /** Nodes whose blocks are routed over the tunnel because their BGP session is down. */
  fallbackNodes(n: number): void;
}

/** The subset of pino's logger felix uses. */
export interface FelixLogger {
  info(obj: Record<string, unknown>, msg?: string): void;
  warn(obj: Record<string, unknown>, msg?: string): void;
  error(obj: Record<string, unknown>, msg?: string): void;
  debug(obj: Record<string, unknown>, msg?: string): void;
}

/** Creates felix's metrics (`tabby_felix_*`) in `registry`. */
export function createFelixMetrics(registry: Registry): FelixMetrics {
  const applies = new Histogram({ name: 'tabby_felix_apply_seconds', help: 'Duration of felix apply passes', labelNames: ['kind'], buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5], registers: [registry] });
  const writes = new Counter({ name: 'tabby_felix_kernel_writes_total', help: 'Kernel changes made by felix', labelNames: ['object', 'op'], registers: [registry] });
  const errors = new Counter({ name: 'tabby_felix_kernel_errors_total', help: 'Failed kernel calls (retried with backoff)', labelNames: ['object', 'reason'], registers: [registry] });
  const drift = new Counter({ name: 'tabby_felix_drift_total', help: 'Changes to owned kernel state made by someone else and repaired', labelNames: ['object'], registers: [registry] });
  const desired = new Gauge({ name: 'tabby_felix_routes_desired', help: 'Routes felix wants in the kernel', registers: [registry] });
  const waiting = new Gauge({ name: 'tabby_felix_routes_waiting', help: 'Routes waiting for their device to appear', registers: [registry] });
  const fallback = new Gauge({ name: 'tabby_felix_fallback_nodes', help: 'Remote nodes reached over the tunnel because BGP to them is down (automatic fallback)', registers: [registry] });
  return {
    applied: (kind, s) => applies.observe({ kind }, s),
    writes: (object, op, n) => writes.inc({ object, op }, n),
    kernelError: (object, reason) => errors.inc({ object, reason }),
    drift: (object) => drift.inc({ object }),
    routes: (d, w) => {
      desired.set(d);
      waiting.set(w);
    },
    fallbackNodes: (n) => fallback.set(n),
  };
}
