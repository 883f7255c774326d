/**
 * The pure evaluator: `evaluate(model, flow)` → the verdict for the first packet of a flow and
 * the path of tiers, policies, profiles and rules that decided it, with the semantics the
 * rendered chains implement (render-chains.ts): egress of the source endpoint, then ingress of
 * the destination endpoint; per direction the tiers in order (first matching Allow / Deny
 * decides, Pass skips to the next tier, Log continues, a tier with applicable policies and no
 * decision drops), then profiles (Pass in a profile goes to the next profile; none allowing →
 * drop). Endpoints not in the model (hosts, external addresses) apply no policy.
 * Used by tabbyctl to explain a verdict and as the oracle of the differential test.
 */
import { cidrContains, parseIp } from '@tabby/api';
import { matchesEndpoint } from './labels.js';
import { PORT_PROTOCOLS } from './protocol.js';
import type { PolicyModel } from './calculator.js';
import type { EndpointN, EntityN, PolicyFamily, PortMatch, RuleN } from './types.js';

/** A flow's first packet. */
export interface Flow {
  src: string;
  dst: string;
  /** IP protocol number (6 TCP, 17 UDP, 1 ICMP, 58 ICMPv6, 132 SCTP). */
  protocol: number;
  srcPort?: number;
  dstPort?: number;
  icmpType?: number;
  icmpCode?: number;
}

/** One step of the decision. */
export interface Step {
  direction: 'egress' | 'ingress';
  endpoint: string;
  tier?: string;
  policy?: string;
  profile?: string;
  /** Index of the rule in the policy's / profile's rules of that direction. */
  rule?: number;
  outcome: 'allow' | 'deny' | 'pass' | 'log' | 'end-of-tier' | 'no-profile-allowed';
}

/** The verdict and its path. */
export interface Verdict {
  verdict: 'allow' | 'deny';
  path: Step[];
}

function endpointsWithIp(model: PolicyModel, ip: string, family: PolicyFamily): EndpointN[] {
  const out: EndpointN[] = [];
  for (const ep of model.endpoints.values()) if ((family === 4 ? ep.v4 : ep.v6).includes(ip)) out.push(ep);
  return out;
}

function portIn(ps: PortMatch[], ip: string, port: number | undefined, flow: Flow, e: EntityN, model: PolicyModel, family: PolicyFamily): boolean {
  if (port === undefined) return false;
  for (const p of ps) {
    if (p.kind === 'range') {
      if (port >= p.lo && port <= p.hi) return true;
      continue;
    }
    for (const ep of endpointsWithIp(model, ip, family)) {
      const v = model.views.get(ep.key);
      if (e.match && (!v || !matchesEndpoint(e.match, v))) continue;
      if (ep.ports.some((np) => np.name === p.name && np.protocol === flow.protocol && np.port === port && PORT_PROTOCOLS.has(np.protocol))) return true;
    }
  }
  return false;
}

function entityMatches(e: EntityN, ip: string, port: number | undefined, flow: Flow, model: PolicyModel, family: PolicyFamily): boolean {
  if (e.nets.length) {
    const mine = e.nets.filter((c) => c.family === family);
    if (!mine.some((c) => cidrContains(c, ip))) return false;
  }
  if (e.notNets.some((c) => c.family === family && cidrContains(c, ip))) return false;
  const selected = (m: EntityN['match']): boolean =>
    !!m &&
    endpointsWithIp(model, ip, family).some((ep) => {
      const v = model.views.get(ep.key);
      return v !== undefined && matchesEndpoint(m, v);
    });
  if (e.match && !selected(e.match)) return false;
  if (e.notMatch && selected(e.notMatch)) return false;
  const hasPorts = PORT_PROTOCOLS.has(flow.protocol);
  if (e.ports.length && !(hasPorts && portIn(e.ports, ip, port, flow, e, model, family))) return false;
  if (e.notPorts.length && hasPorts && portIn(e.notPorts, ip, port, flow, e, model, family)) return false;
  return true;
}

function icmpMatches(m: { type?: number; code?: number }, flow: Flow): boolean {
  if (flow.icmpType === undefined) return false;
  if (m.type !== undefined && m.type !== flow.icmpType) return false;
  return m.code === undefined || m.code === flow.icmpCode;
}

/** True when the rule matches the flow (as its rendered iptables rules would). */
export function ruleMatches(r: RuleN, flow: Flow, model: PolicyModel): boolean {
  const family = parseIp(flow.src).family;
  if (r.ipVersion !== undefined && r.ipVersion !== family) return false;
  if (r.protocol !== undefined && r.protocol !== flow.protocol) return false;
  if (r.notProtocol !== undefined && r.notProtocol === flow.protocol) return false;
  if (!entityMatches(r.src, flow.src, flow.srcPort, flow, model, family)) return false;
  if (!entityMatches(r.dst, flow.dst, flow.dstPort, flow, model, family)) return false;
  const isIcmp = flow.protocol === (family === 4 ? 1 : 58);
  if (r.icmp && !(isIcmp && icmpMatches(r.icmp, flow))) return false;
  if (r.notICMP && isIcmp && icmpMatches(r.notICMP, flow)) return false;
  if (r.notICMP && !isIcmp) return false;
  return true;
}

function direction(model: PolicyModel, ep: EndpointN, dir: 'ingress' | 'egress', flow: Flow, path: Step[]): boolean {
  const v = model.views.get(ep.key);
  for (const tier of model.tiers) {
    const pols = tier.policies.filter((p) => p[dir] !== undefined && v !== undefined && matchesEndpoint(p.appliesTo, v));
    if (!pols.length) continue;
    let passed = false;
    for (const p of pols) {
      const rules = p[dir] ?? [];
      let decided: 'allow' | 'deny' | 'pass' | undefined;
      for (let i = 0; i < rules.length && !decided; i++) {
        const r = rules[i] as RuleN;
        if (!ruleMatches(r, flow, model)) continue;
        const base = { direction: dir, endpoint: ep.key, tier: tier.name, policy: p.id, rule: i };
        if (r.action === 'Log') path.push({ ...base, outcome: 'log' });
        else {
          decided = r.action === 'Allow' ? 'allow' : r.action === 'Deny' ? 'deny' : 'pass';
          path.push({ ...base, outcome: decided });
        }
      }
      if (decided === 'allow') return true;
      if (decided === 'deny') return false;
      if (decided === 'pass') {
        passed = true;
        break;
      }
    }
    if (!passed) {
      path.push({ direction: dir, endpoint: ep.key, tier: tier.name, outcome: 'end-of-tier' });
      return false;
    }
  }
  for (const name of ep.profiles) {
    const prof = model.profiles.get(name);
    if (!prof) continue;
    const rules = prof[dir];
    for (let i = 0; i < rules.length; i++) {
      const r = rules[i] as RuleN;
      if (!ruleMatches(r, flow, model)) continue;
      const base = { direction: dir, endpoint: ep.key, profile: name, rule: i };
      if (r.action === 'Log') {
        path.push({ ...base, outcome: 'log' });
        continue;
      }
      path.push({ ...base, outcome: r.action === 'Allow' ? 'allow' : r.action === 'Deny' ? 'deny' : 'pass' });
      if (r.action === 'Allow') return true;
      if (r.action === 'Deny') return false;
      break;
    }
  }
  path.push({ direction: dir, endpoint: ep.key, outcome: 'no-profile-allowed' });
  return false;
}

/** Evaluates a flow (see the module header). */
export function evaluate(model: PolicyModel, flow: Flow): Verdict {
  const family = parseIp(flow.src).family;
  const path: Step[] = [];
  const src = endpointsWithIp(model, flow.src, family)[0];
  if (src && !direction(model, src, 'egress', flow, path)) return { verdict: 'deny', path };
  const dst = endpointsWithIp(model, flow.dst, family)[0];
  if (dst && !direction(model, dst, 'ingress', flow, path)) return { verdict: 'deny', path };
  return { verdict: 'allow', path };
}
