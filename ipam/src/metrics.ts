/**
 * IPAM's Prometheus metrics, created by a factory over an injected registry (nothing is
 * registered at import time). `Ipam` works without them.
 */
import { Counter, type Registry } from 'prom-client';

/** The hooks `Ipam` calls. */
export interface IpamMetrics {
  conflict(op: string): void;
  allocated(n: number): void;
  released(n: number): void;
  claimed(): void;
}

/** Creates IPAM's counters in `registry`. */
export function createIpamMetrics(registry: Registry): IpamMetrics {
  const conflicts = new Counter({ name: 'tabby_ipam_conflicts_total', help: 'Datastore compare-and-swap conflicts', labelNames: ['op'], registers: [registry] });
  const allocs = new Counter({ name: 'tabby_ipam_allocations_total', help: 'Addresses allocated', registers: [registry] });
  const rels = new Counter({ name: 'tabby_ipam_releases_total', help: 'Addresses released', registers: [registry] });
  const claims = new Counter({ name: 'tabby_ipam_block_claims_total', help: 'Blocks claimed', registers: [registry] });
  return {
    conflict: (op) => conflicts.inc({ op }),
    allocated: (n) => allocs.inc(n),
    released: (n) => rels.inc(n),
    claimed: () => claims.inc(),
  };
}
