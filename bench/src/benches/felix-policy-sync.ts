/**
 * felix-policy-sync: the policy dataplane at 1,000 local endpoints × 20 policies × 10 rules
 * (selectors, port lists and ranges, named ports, nets, ICMP), programmed into a fresh network
 * namespace, for each iptables backend (legacy, nft):
 * - full sync (calculation + ipset restore + iptables-restore + read-back) as a ratio to one raw
 *   `iptables-restore --noflush` of the same rule text into another fresh namespace (the sets
 *   it names created beforehand, untimed); goal ≤ 1.5×; plus rules per endpoint;
 * - one new endpoint at 1,000 → its chains live (flush resolved: restore returned): p50 / p99;
 * - one edit of a policy selecting all 1,000 endpoints → live: p99.
 *
 * Usage: felix-policy-sync [--endpoints 1000] [--policies 20] [--rules 10] [--adds 40] [--edits 20] [--backends legacy,nft]
 */
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import type { GlobalNetworkPolicy, NetworkPolicy, Rule, WorkloadEndpoint } from '@tabby/api';
import { PolicyDataplane, namespaceProfile, netnsRunner, type CommandRunner, type IptablesBackend, type PolicyEvent } from '@tabby/felix';
import { TestNet } from '@tabby/testkit';
import { emit, option, percentile, median, type Bench } from '../emit.js';

const NS = 10;

function endpoint(i: number): WorkloadEndpoint {
  const ns = `ns${i % NS}`;
  const pod = `pod${i}`;
  return {
    apiVersion: 'projectcalico.org/v3',
    kind: 'WorkloadEndpoint',
    metadata: { name: `node1-k8s-${pod}-eth0`, namespace: ns, labels: { app: `app${i % 50}`, tier: ['web', 'api', 'db'][i % 3] ?? 'web', team: `t${i % 7}` } },
    spec: {
      node: 'node1',
      orchestrator: 'k8s',
      pod,
      interfaceName: 'cali' + createHash('sha1').update(`${ns}.${pod}`).digest('hex').slice(0, 11),
      ipNetworks: [`10.${65 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}/32`],
      profiles: [`kns.${ns}`],
      ports: [{ name: 'http', protocol: 'TCP', port: 8080 }],
    },
  };
}

function rules(j: number, n: number, edit = 0): Rule[] {
  const out: Rule[] = [];
  for (let k = 0; k < n; k++) {
    switch (k % 5) {
      case 0:
        out.push({ action: 'Allow', protocol: 'TCP', source: { selector: `app == 'app${(j * 3 + k) % 50}'` }, destination: { ports: [80, 443, '8000:8100', 9000 + edit] } });
        break;
      case 1:
        out.push({ action: 'Deny', source: { nets: [`192.168.${j}.0/24`, `172.20.${k}.0/24`] } });
        break;
      case 2:
        out.push({ action: 'Allow', protocol: 'UDP', destination: { nets: [`10.96.${j}.0/24`], ports: [53] } });
        break;
      case 3:
        out.push({ action: 'Allow', protocol: 'TCP', source: { namespaceSelector: `projectcalico.org/name == 'ns${(j + k) % NS}'`, notSelector: `team == 't${k % 7}'` }, destination: { ports: ['http'] } });
        break;
      default:
        out.push({ action: 'Allow', protocol: 'ICMP', icmp: { type: 8 } });
    }
  }
  return out;
}

function policies(count: number, nrules: number): PolicyEvent[] {
  const out: PolicyEvent[] = [];
  for (let j = 0; j < count; j++) {
    const sel = j === 0 ? 'all()' : `tier == '${['web', 'api', 'db'][j % 3] ?? 'web'}'`;
    const spec = { order: 100 + j, selector: sel, types: ['Ingress' as const, 'Egress' as const], ingress: rules(j, nrules), egress: rules(j + 1, nrules) };
    if (j % 2 === 0) out.push({ type: 'policy-update', policy: { apiVersion: 'projectcalico.org/v3', kind: 'GlobalNetworkPolicy', metadata: { name: `gnp-${j}` }, spec } satisfies GlobalNetworkPolicy });
    else out.push({ type: 'policy-update', policy: { apiVersion: 'projectcalico.org/v3', kind: 'NetworkPolicy', metadata: { name: `np-${j}`, namespace: `ns${j % NS}` }, spec: { ...spec, selector: 'all()' } } satisfies NetworkPolicy });
  }
  return out;
}

/** Wraps a runner, keeping the input of every restore. */
function recording(inner: CommandRunner, log: { cmd: string; input: string }[]): CommandRunner {
  return {
    run: (cmd, args, input, signal) => {
      if (input !== undefined) log.push({ cmd, input });
      return inner.run(cmd, args, input, signal);
    },
  };
}

function timed(ns: string, cmd: string, args: string[], input: string): number {
  const t = performance.now();
  const r = spawnSync('ip', ['netns', 'exec', ns, cmd, ...args], { input, stdio: ['pipe', 'ignore', 'pipe'], maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`${cmd} failed: ${r.stderr.toString().slice(0, 500)}`);
  return performance.now() - t;
}

async function runBackend(backend: IptablesBackend, n: number, np: number, nr: number, adds: number, edits: number): Promise<void> {
  const net = new TestNet();
  try {
    const node = await net.netns('n');
    const raw = await net.netns('r');
    const log: { cmd: string; input: string }[] = [];
    const dp = new PolicyDataplane({ nodeName: 'node1', backend, repairIntervalMs: 0, config: { ipv6Support: false } }, { runner: recording(netnsRunner(node.name), log) });
    for (let i = 0; i < NS; i++) dp.onEvent({ type: 'profile-update', profile: namespaceProfile(`ns${i}`) });
    for (let i = 0; i < n; i++) dp.onEvent({ type: 'endpoint-update', endpoint: endpoint(i) });
    const pols = policies(np, nr);
    for (const p of pols) dp.onEvent(p);
    const tc = performance.now();
    const desired = dp.calculator.desired();
    const calcMs = performance.now() - tc;
    const t0 = performance.now();
    await dp.start();
    const fullMs = performance.now() - t0 + calcMs;
    const iptInput = log.find((l) => l.cmd.endsWith('-restore'))?.input ?? '';
    const ipsetInput = log.filter((l) => l.cmd === 'ipset').map((l) => l.input).join('');
    timed(raw.name, 'ipset', ['restore', '-exist'], ipsetInput);
    const rawMs = timed(raw.name, `iptables-${backend}-restore`, ['--noflush', '--wait'], iptInput);
    const chains = desired.v4.tables.filter?.chains;
    let epRules = 0;
    let total = 0;
    for (const [name, c] of chains ?? []) {
      total += c.rules.length;
      if (name.startsWith('cali-tw-') || name.startsWith('cali-fw-')) epRules += c.rules.length;
    }
    const la = loadavg()[0];
    const base = { bench: 'felix-policy-sync', backend, endpoints: n, policies: np, rulesPerPolicy: nr, loadavg1: la };
    emit({ ...base, metric: 'full_sync_ms', value: Math.round(fullMs), unit: 'ms', calcMs: Math.round(calcMs) });
    emit({ ...base, metric: 'raw_restore_ms', value: Math.round(rawMs), unit: 'ms', bytes: iptInput.length });
    emit({ ...base, metric: 'full_sync_ratio', value: Number((fullMs / rawMs).toFixed(2)), unit: 'x', goal: 1.5 });
    emit({ ...base, metric: 'rules_per_endpoint', value: Number((epRules / n).toFixed(1)), unit: 'rules', totalRules: total, chains: chains?.size ?? 0, ipsets: desired.v4.ipsets.size });

    const addMs: number[] = [];
    const steps: Record<string, number[]> = { calc: [], ipsetAdds: [], iptables: [], ipsetDeletes: [] };
    for (let k = 0; k < adds; k++) {
      const t = performance.now();
      dp.calculator.onEvent({ type: 'endpoint-update', endpoint: endpoint(n + k) });
      const r = await dp.flush();
      addMs.push(performance.now() - t);
      for (const [key, v] of Object.entries(r.ms ?? {})) steps[key]?.push(v);
    }
    emit({ ...base, metric: 'new_endpoint_steps_p50', value: Number(median(addMs).toFixed(1)), unit: 'ms', ...Object.fromEntries(Object.entries(steps).map(([key, v]) => [key, Number(median(v).toFixed(1))])) });
    emit({ ...base, metric: 'new_endpoint_live_p50', value: Number(median(addMs).toFixed(1)), unit: 'ms', samples: adds });
    emit({ ...base, metric: 'new_endpoint_live_p99', value: Number(percentile(addMs, 99).toFixed(1)), unit: 'ms', samples: adds, goal: 50 });

    const editMs: number[] = [];
    const first = pols[0];
    for (let k = 0; k < edits && first?.type === 'policy-update'; k++) {
      const pol = first.policy as GlobalNetworkPolicy;
      const edited: GlobalNetworkPolicy = { ...pol, spec: { ...pol.spec, ingress: rules(0, nr, k + 1) } };
      const t = performance.now();
      dp.calculator.onEvent({ type: 'policy-update', policy: edited });
      await dp.flush();
      editMs.push(performance.now() - t);
    }
    emit({ ...base, metric: 'policy_edit_all_live_p50', value: Number(median(editMs).toFixed(1)), unit: 'ms', samples: edits });
    emit({ ...base, metric: 'policy_edit_all_live_p99', value: Number(percentile(editMs, 99).toFixed(1)), unit: 'ms', samples: edits, goal: 500 });
    await dp.stop();
  } finally {
    await net.cleanup();
  }
}

const bench: Bench = {
  description: 'policy dataplane: full sync vs raw iptables-restore, new endpoint and policy edit latency at 1,000 endpoints (legacy, nft)',
  async run(args) {
    const n = Number(option(args, '--endpoints', '1000'));
    const np = Number(option(args, '--policies', '20'));
    const nr = Number(option(args, '--rules', '10'));
    const adds = Number(option(args, '--adds', '40'));
    const edits = Number(option(args, '--edits', '20'));
    for (const b of option(args, '--backends', 'legacy,nft').split(',') as IptablesBackend[]) await runBackend(b, n, np, nr, adds, edits);
  },
};
export default bench;
