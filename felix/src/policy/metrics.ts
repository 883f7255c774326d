/**
 * The policy dataplane's Prometheus metrics (`tabby_felix_*`), created by a factory over an
 * injected registry; nothing registers at import time. The dataplane works without them.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** The hooks PolicyDataplane calls. */
export interface PolicyMetrics {
  sync(result: 'ok' | 'error', seconds: number, repair: boolean): void;
  written(chains: number, rules: number, ipsetLines: number): void;
  repaired(what: 'chains' | 'hooks' | 'ipsets', n: number): void;
  state(chains: number, ipsets: number, localEndpoints: number, problems: number): void;
}

/** Creates the metrics in `registry`. */
export function createPolicyMetrics(registry: Registry): PolicyMetrics {
  const r = [registry];
  const syncs = new Counter({ name: 'tabby_felix_policy_syncs_total', help: 'Policy dataplane syncs', labelNames: ['result', 'repair'], registers: r });
  const dur = new Histogram({ name: 'tabby_felix_policy_sync_seconds', help: 'Time to apply a policy update (ipsets + iptables-restore)', buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], registers: r });
  const chains = new Counter({ name: 'tabby_felix_iptables_chains_written_total', help: 'Chains written by iptables-restore', registers: r });
  const rules = new Counter({ name: 'tabby_felix_iptables_rules_written_total', help: 'Rules written by iptables-restore', registers: r });
  const lines = new Counter({ name: 'tabby_felix_ipset_lines_total', help: 'Lines sent to ipset restore', registers: r });
  const repairs = new Counter({ name: 'tabby_felix_policy_repairs_total', help: 'Drift found by read-back and repaired', labelNames: ['what'], registers: r });
  const gChains = new Gauge({ name: 'tabby_felix_iptables_chains', help: 'Chains the policy dataplane owns (all families and tables)', registers: r });
  const gSets = new Gauge({ name: 'tabby_felix_ipsets', help: 'ipsets the policy dataplane owns', registers: r });
  const gEps = new Gauge({ name: 'tabby_felix_local_endpoints', help: 'Local workload endpoints with policy chains', registers: r });
  const gProb = new Gauge({ name: 'tabby_felix_policy_input_problems', help: 'Inputs skipped as invalid', registers: r });
  return {
    sync: (result, seconds, repair) => {
      syncs.inc({ result, repair: String(repair) });
      if (result === 'ok') dur.observe(seconds);
    },
    written: (c, n, l) => {
      chains.inc(c);
      rules.inc(n);
      lines.inc(l);
    },
    repaired: (what, n) => repairs.inc({ what }, n),
    state: (c, s, e, p) => {
      gChains.set(c);
      gSets.set(s);
      gEps.set(e);
      gProb.set(p);
    },
  };
}
