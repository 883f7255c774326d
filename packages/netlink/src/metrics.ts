/**
 * Observability hooks of a Netlink client: Prometheus counters created by a factory over an
 * injected registry (nothing registers at import time), and the subset of pino's logger used.
 * Both are optional; a client without them is silent.
 */
import { Counter, type Registry } from 'prom-client';

/** The hooks a Netlink client calls. */
export interface NetlinkMetrics {
  /** `n` requests sent (batch or single). */
  requests(n: number): void;
  /** One request refused or lost, by operation and errno name (or error code). */
  failed(op: string, reason: string): void;
  /** A receive buffer overflowed on a request socket or a subscription. */
  overrun(socket: 'request' | 'subscription'): void;
  /** One notification received, by object type. */
  event(type: string): void;
}

/** The subset of pino's logger used (keys: iface, prefix, err). */
export interface NetlinkLogger {
  warn(obj: Record<string, unknown>, msg?: string): void;
  debug(obj: Record<string, unknown>, msg?: string): void;
}

/** Creates the netlink counters in `registry`. */
export function createNetlinkMetrics(registry: Registry): NetlinkMetrics {
  const reqs = new Counter({ name: 'tabby_netlink_requests_total', help: 'Netlink requests sent', registers: [registry] });
  const fails = new Counter({ name: 'tabby_netlink_request_failures_total', help: 'Netlink requests refused by the kernel or lost', labelNames: ['op', 'reason'], registers: [registry] });
  const overruns = new Counter({ name: 'tabby_netlink_overruns_total', help: 'Netlink receive-buffer overflows (ENOBUFS)', labelNames: ['socket'], registers: [registry] });
  const events = new Counter({ name: 'tabby_netlink_events_total', help: 'Netlink notifications received', labelNames: ['type'], registers: [registry] });
  return {
    requests: (n) => reqs.inc(n),
    failed: (op, reason) => fails.inc({ op, reason }),
    overrun: (socket) => overruns.inc({ socket }),
    event: (type) => events.inc({ type }),
  };
}
