/**
 * tabby-node's Prometheus metrics, created by one typed factory over an injected registry;
 * nothing registers at import time. The agent's parts keep their own factories (felix, policy,
 * IPAM: `tabby_felix_*`, `tabby_ipam_*`); this one builds them on the agent's registry and adds the
 * datastore's (`tabby_datastore_*`) and the fallback's (`tabby_node_*`).
 *
 * The BGP speaker (`tabby_bgp_*`: sessions by state, UPDATEs, prefixes received / accepted /
 * advertised per peer) registers its metrics when it starts, and the agent restarts it when the
 * BGP identity changes; so each speaker gets a fresh registry (`bgpRegistry()`) and a scrape
 * merges the agent's registry with the current speaker's (`scrape()`).
 */
import { Counter, Gauge, Registry } from 'prom-client';
import { createFelixMetrics, createPolicyMetrics, type FelixMetrics, type PolicyMetrics } from '@tabby/felix';
import { createIpamMetrics, type IpamMetrics } from '@tabby/ipam';

/** What the resource cache reports about the datastore. */
export interface DatastoreMetrics {
  /** A kind was (re-)listed with `n` resources; `resync` when it was not the first list. */
  listed(kind: string, n: number, resync: boolean): void;
  /** A watch event of `kind`. */
  event(kind: string, type: 'added' | 'modified' | 'deleted'): void;
  /** A list or watch of `kind` failed (retried with backoff). */
  failed(kind: string): void;
}

/** Every metric hook of tabby-node. */
export interface NodeMetrics {
  felix: FelixMetrics;
  policy: PolicyMetrics;
  ipam: IpamMetrics;
  datastore: DatastoreMetrics;
  /** The fallback detector's verdict for a remote node changed (`available`: routed by BGP); `unavailable`: how many nodes it now counts as unreachable. */
  bgpNodeState(available: boolean, unavailable: number): void;
  /** A fresh registry for a new BGP speaker; replaces the previous speaker's in scrapes. */
  bgpRegistry(): Registry;
  /** The exposition text of every metric, and its content type. */
  scrape(): Promise<{ contentType: string; body: string }>;
}

/** Creates tabby-node's metrics in `registry`. */
export function createNodeMetrics(registry: Registry): NodeMetrics {
  const r = [registry];
  const lists = new Counter({ name: 'tabby_datastore_lists_total', help: 'Datastore lists by kind (the first list and every re-list)', labelNames: ['kind'], registers: r });
  const resyncs = new Counter({ name: 'tabby_datastore_resyncs_total', help: 'Re-lists after a watch ended or failed, by kind', labelNames: ['kind'], registers: r });
  const events = new Counter({ name: 'tabby_datastore_watch_events_total', help: 'Datastore watch events by kind and type', labelNames: ['kind', 'type'], registers: r });
  const failures = new Counter({ name: 'tabby_datastore_failures_total', help: 'Failed datastore lists or watches (retried with backoff), by kind', labelNames: ['kind'], registers: r });
  const resources = new Gauge({ name: 'tabby_datastore_resources', help: 'Resources in the last list of each kind', labelNames: ['kind'], registers: r });
  const fallbackNodes = new Gauge({
    name: 'tabby_node_fallback_nodes',
    help: 'Remote nodes the fallback detector counts as unreachable by BGP (session down past bgpFallbackTimeout, or BGP disabled)',
    registers: r,
  });
  const switches = new Counter({ name: 'tabby_node_fallback_switches_total', help: 'Remote nodes switched between BGP and the fallback tunnel', labelNames: ['to'], registers: r });
  let bgp: Registry | undefined;
  return {
    felix: createFelixMetrics(registry),
    policy: createPolicyMetrics(registry),
    ipam: createIpamMetrics(registry),
    datastore: {
      listed: (kind, n, resync) => {
        lists.inc({ kind });
        if (resync) resyncs.inc({ kind });
        resources.set({ kind }, n);
      },
      event: (kind, type) => events.inc({ kind, type }),
      failed: (kind) => failures.inc({ kind }),
    },
    bgpNodeState: (available, unavailable) => {
      fallbackNodes.set(unavailable);
      switches.inc({ to: available ? 'bgp' : 'tunnel' });
    },
    bgpRegistry: () => (bgp = new Registry()),
    scrape: async () => {
      const merged = bgp ? Registry.merge([registry, bgp]) : registry;
      return { contentType: registry.contentType, body: await merged.metrics() };
    },
  };
}
