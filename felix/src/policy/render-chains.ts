/**
 * Chain layout, as Calico's Felix writes it (filter table unless noted):
 *
 * - `cali-INPUT` / `cali-FORWARD` / `cali-OUTPUT`, hooked once from INPUT / FORWARD / OUTPUT;
 *   nat `cali-POSTROUTING` → `cali-nat-outgoing`.
 * - `cali-from-wl-dispatch` / `cali-to-wl-dispatch`: `-i|-o <iface> -g cali-fw-|cali-tw-<iface>`,
 *   split into `…-dispatch-<c>` children by the next interface-name character once there are
 *   more endpoints than the threshold; every dispatch chain ends by dropping unknown interfaces.
 * - `cali-tw-<iface>` (to the pod: ingress) / `cali-fw-<iface>` (from the pod: egress):
 *   established/related accepted, invalid dropped, marks cleared, then per tier the policies in
 *   order (`-m mark --mark 0/pass -j cali-pi-…`, return on accept), end-of-tier drop, then the
 *   profiles (return on accept) and a final drop.
 * - `cali-pi-` / `cali-po-` per policy, `cali-pri-` / `cali-pro-` per profile, shared.
 */
import { actionTargets, renderRuleMatch, type SetRef } from './render-rule.js';
import { buildChain, hookRule, type RuleSpec } from './chain.js';
import { ChainName, HOST_SET_ALL, HOST_SET_VXLAN, POOL_SET_ALL, POOL_SET_MASQ, ipsetName } from './names.js';
import type { Chain, PolicyFamily, HookRule, PolicyConfig, RuleN } from './types.js';

const hex = (n: number): string => '0x' + n.toString(16);

/** Renders a policy's or profile's rules of one direction into a chain; collects its sets. */
export function renderRulesChain(name: string, rules: RuleN[], family: PolicyFamily, cfg: PolicyConfig, sets: SetRef[]): Chain {
  const specs: RuleSpec[] = [];
  for (const r of rules) {
    const m = renderRuleMatch(r, family);
    if (!m) continue;
    sets.push(...m.sets);
    const t = actionTargets(r.action, cfg);
    for (const alt of m.alternatives) specs.push({ match: alt, target: t.target });
    if (t.thenReturn) specs.push({ match: t.thenReturn, target: '-j RETURN' });
  }
  return buildChain(name, specs);
}

/** What one endpoint chain runs: tiers of policy chains, then profile chains. */
export interface EndpointChainPlan {
  tiers: { tier: string; chains: string[] }[];
  profiles: string[];
}

/** Renders `cali-tw-<iface>` or `cali-fw-<iface>`. */
export function renderEndpointChain(name: string, dir: 'to' | 'from', plan: EndpointChainPlan, family: PolicyFamily, cfg: PolicyConfig): Chain {
  const acc = hex(cfg.markAccept);
  const pass = hex(cfg.markPass);
  const specs: RuleSpec[] = [
    { match: '-m conntrack --ctstate RELATED,ESTABLISHED', target: '-j ACCEPT' },
    { match: '-m conntrack --ctstate INVALID', target: '-j DROP' },
  ];
  if (dir === 'from') {
    specs.push({ match: `-p udp -m udp --dport ${cfg.vxlanPort}`, target: '-j DROP', comment: 'Drop VXLAN encapped packets originating in workloads' });
    if (family === 4) specs.push({ match: '-p ipencap', target: '-j DROP', comment: 'Drop IPinIP encapped packets originating in workloads' });
  }
  specs.push({ target: `-j MARK --set-xmark 0x0/${hex(cfg.markAccept | cfg.markPass)}` });
  for (const t of plan.tiers) {
    specs.push({ target: `-j MARK --set-xmark 0x0/${pass}`, comment: `Start of tier ${t.tier}` });
    for (const c of t.chains) {
      specs.push({ match: `-m mark --mark 0x0/${pass}`, target: `-j ${c}` });
      specs.push({ match: `-m mark --mark ${acc}/${acc}`, target: '-j RETURN', comment: 'Return if policy accepted' });
    }
    specs.push({ match: `-m mark --mark 0x0/${pass}`, target: '-j DROP', comment: 'Drop if no policies passed packet' });
  }
  for (const p of plan.profiles) {
    specs.push({ target: `-j ${p}` });
    specs.push({ match: `-m mark --mark ${acc}/${acc}`, target: '-j RETURN', comment: 'Return if profile accepted' });
  }
  specs.push({ target: '-j DROP', comment: 'Drop if no profiles matched' });
  return buildChain(name, specs);
}

/**
 * Dispatch chains for interfaces (sorted): flat up to `threshold`, else grouped by the character
 * after the common prefix, recursively. Returns the root first.
 */
export function renderDispatch(root: string, dir: 'to' | 'from', ifaces: string[], prefix: string, threshold: number, memo?: Map<string, { key: string; chain: Chain }>): Chain[] {
  // Unchanged dispatch chains are reused from `memo` (keyed by their rule text), so adding one
  // endpoint re-hashes only the chains on its path.
  const finish = (name: string, specs: RuleSpec[]): Chain => {
    const key = specs.map((s) => `${s.match ?? ''}\u0000${s.target}`).join('\n');
    const hit = memo?.get(name);
    if (hit && hit.key === key) return hit.chain;
    const chain = buildChain(name, specs);
    memo?.set(name, { key, chain });
    return chain;
  };
  const flag = dir === 'from' ? '-i' : '-o';
  const target = (i: string): string => (dir === 'from' ? ChainName.fromWorkload(i) : ChainName.toWorkload(i));
  const out: Chain[] = [];
  const build = (name: string, names: string[], depth: number): void => {
    const specs: RuleSpec[] = [];
    if (names.length <= threshold || depth > 5) {
      for (const i of names) specs.push({ match: `${flag} ${i}`, target: `-g ${target(i)}` });
    } else {
      const groups = new Map<string, string[]>();
      for (const i of names) {
        const c = i.charAt(prefix.length + depth);
        const g = groups.get(c) ?? [];
        g.push(i);
        groups.set(c, g);
      }
      const children: [string, string[]][] = [];
      for (const [c, g] of [...groups].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
        const stem = (g[0] ?? '').slice(0, prefix.length + depth + 1);
        if (g.length === 1 || c === '') {
          for (const i of g) specs.push({ match: `${flag} ${i}`, target: `-g ${target(i)}` });
          continue;
        }
        const child = `${root}-${stem.slice(prefix.length)}`;
        specs.push({ match: `${flag} ${stem}+`, target: `-g ${child}` });
        children.push([child, g]);
      }
      specs.push({ target: '-j DROP', comment: 'Unknown interface' });
      out.push(finish(name, specs));
      for (const [child, g] of children) build(child, g, depth + 1);
      return;
    }
    specs.push({ target: '-j DROP', comment: 'Unknown interface' });
    out.push(finish(name, specs));
  };
  build(root, ifaces, 0);
  return out;
}

/**
 * IPv6 control traffic a pod must exchange with its host whatever the policy, as Calico's
 * cali-wl-to-host accepts it: MLD (130-132), router solicitation (133) and neighbour discovery
 * (135, 136) — without them the pod cannot resolve its gateway fe80::ecee:eeff:feee:eeee.
 */
const NDP_FROM_WORKLOAD: RuleSpec[] = [130, 131, 132, 133, 135, 136].map((t) => ({ match: `-p ipv6-icmp -m icmp6 --icmpv6-type ${t}`, target: '-j ACCEPT' }));

/** The fixed filter chains and their hooks. */
export function renderStaticFilter(family: PolicyFamily, cfg: PolicyConfig): { chains: Chain[]; hooks: HookRule[] } {
  const wl = `${cfg.interfacePrefix}+`;
  const input: RuleSpec[] = [];
  if (family === 4 && cfg.ipipEnabled) {
    input.push({ match: `-p ipencap -m set --match-set ${ipsetName(4, HOST_SET_ALL)} src -m addrtype --dst-type LOCAL`, target: '-j ACCEPT', comment: 'Allow IPIP packets from Calico hosts' });
    input.push({ match: '-p ipencap', target: '-j DROP', comment: 'Drop IPIP packets from non-Calico hosts' });
  }
  if (cfg.vxlanEnabled) {
    const port = `-p udp -m udp --dport ${cfg.vxlanPort}`;
    input.push({ match: `${port} -m set --match-set ${ipsetName(family, HOST_SET_VXLAN)} src -m addrtype --dst-type LOCAL`, target: '-j ACCEPT', comment: 'Allow VXLAN packets from allowed hosts' });
    input.push({ match: `${port} -m addrtype --dst-type LOCAL`, target: '-j DROP', comment: 'Drop VXLAN packets from non-allowed hosts' });
  }
  input.push({ match: `-i ${wl}`, target: `-g ${ChainName.wlToHost}` });
  const e2h = cfg.endpointToHostAction === 'Drop' ? '-j DROP' : cfg.endpointToHostAction === 'Accept' ? '-j ACCEPT' : '-j RETURN';
  const acc = hex(cfg.markAccept);
  const chains = [
    buildChain(ChainName.input, input),
    buildChain(ChainName.wlToHost, [...(family === 6 ? NDP_FROM_WORKLOAD : []), { target: `-j ${ChainName.fromWlDispatch}` }, { target: e2h, comment: 'Configured DefaultEndpointToHostAction' }]),
    buildChain(ChainName.forward, [
      { target: `-j MARK --set-xmark 0x0/${hex(cfg.markAccept | cfg.markPass)}` },
      { match: `-i ${wl}`, target: `-j ${ChainName.fromWlDispatch}` },
      { match: `-o ${wl}`, target: `-j ${ChainName.toWlDispatch}` },
      { match: `-m mark --mark ${acc}/${acc}`, target: '-j ACCEPT', comment: 'Policy explicitly accepted packet.' },
    ]),
    buildChain(ChainName.output, [{ match: `-o ${wl}`, target: '-j RETURN', comment: 'Host to workload traffic' }]),
  ];
  const hooks: HookRule[] = [
    { chain: 'INPUT', rule: hookRule('INPUT', { target: `-j ${ChainName.input}` }) },
    { chain: 'FORWARD', rule: hookRule('FORWARD', { target: `-j ${ChainName.forward}` }) },
    { chain: 'OUTPUT', rule: hookRule('OUTPUT', { target: `-j ${ChainName.output}` }) },
  ];
  return { chains, hooks };
}

/** nat: `cali-POSTROUTING` → `cali-nat-outgoing` (masquerade from natOutgoing pools to outside every pool). */
export function renderStaticNat(family: PolicyFamily, anyMasq: boolean): { chains: Chain[]; hooks: HookRule[] } {
  const out: RuleSpec[] = anyMasq
    ? [{ match: `-m set --match-set ${ipsetName(family, POOL_SET_MASQ)} src -m set ! --match-set ${ipsetName(family, POOL_SET_ALL)} dst`, target: '-j MASQUERADE --random-fully' }]
    : [];
  return {
    chains: [buildChain(ChainName.natPostrouting, [{ target: `-j ${ChainName.natOutgoing}` }]), buildChain(ChainName.natOutgoing, out)],
    hooks: [{ chain: 'POSTROUTING', rule: hookRule('POSTROUTING', { target: `-j ${ChainName.natPostrouting}` }) }],
  };
}
