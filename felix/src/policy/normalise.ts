/**
 * Calico resources → the normalised model (types.ts). Selectors are parsed once, protocols
 * become numbers, ports become ranges or names, nets become CIDRs, policy types are defaulted
 * as Calico does (Ingress when there are ingress rules or no egress rules; Egress when there
 * are egress rules). A namespaced policy's peer selectors (and the policy's own selector) are
 * scoped to its namespace unless the rule sets a namespaceSelector; a notSelector is not scoped.
 * Throws `PolicyInputError` (code `invalid-policy`) on input it cannot represent.
 */
import { TabbyError, canonicalSelector, parseCidrOrIp, parseSelector, type EntityRule, type GlobalNetworkPolicy, type NetworkPolicy, type Port, type Profile, type Rule, type Selector, type WorkloadEndpoint } from '@tabby/api';
import { protocolNumber } from './protocol.js';
import type { EndpointMatch, EndpointN, EntityN, PolicyN, PortMatch, ProfileN, RuleN } from './types.js';

/** Why an input could not be normalised. */
export type PolicyInputCode = 'invalid-policy' | 'invalid-endpoint';

/** An input the model cannot represent (the calculator skips it and reports it). */
export class PolicyInputError extends TabbyError<PolicyInputCode> {}

/** Label keys Calico adds to every workload endpoint. */
export const LABEL_NAMESPACE = 'projectcalico.org/namespace';
export const LABEL_ORCHESTRATOR = 'projectcalico.org/orchestrator';
export const LABEL_SERVICE_ACCOUNT = 'projectcalico.org/serviceaccount';
/** Prefixes of namespace and service-account labels inherited from kns./ksa. profiles. */
export const NS_LABEL_PREFIX = 'pcns.';
export const SA_LABEL_PREFIX = 'pcsa.';

function sel(text: string | undefined, where: string): Selector {
  try {
    return parseSelector(text === undefined || text.trim() === '' ? 'all()' : text);
  } catch (e: unknown) {
    throw new PolicyInputError('invalid-policy', `${where}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** Builds an endpoint match and its canonical id. */
export function endpointMatch(selector: Selector, ns?: EndpointMatch['ns'], sa?: EndpointMatch['sa']): EndpointMatch {
  let id = canonicalSelector(selector);
  if (ns) id += ns.kind === 'name' ? ` ns=${ns.name}` : ` ns:${canonicalSelector(ns.selector)}`;
  if (sa?.names) id += ` sa=${[...sa.names].sort().join(',')}`;
  if (sa?.selector) id += ` sa:${canonicalSelector(sa.selector)}`;
  const m: EndpointMatch = { selector, id };
  if (ns) m.ns = ns;
  if (sa) m.sa = sa;
  return m;
}

function port(p: Port, where: string): PortMatch {
  if (typeof p === 'number') return { kind: 'range', lo: p, hi: p };
  const r = /^(\d+):(\d+)$/.exec(p);
  if (r) {
    const lo = Number(r[1]);
    const hi = Number(r[2]);
    if (lo > hi || hi > 65535) throw new PolicyInputError('invalid-policy', `${where}: bad port range ${p}`);
    return { kind: 'range', lo, hi };
  }
  if (/^\d+$/.test(p)) return { kind: 'range', lo: Number(p), hi: Number(p) };
  return { kind: 'named', name: p };
}

function entity(e: EntityRule | undefined, policyNs: string | undefined, where: string): EntityN {
  const out: EntityN = { nets: [], notNets: [], ports: [], notPorts: [] };
  if (!e) return out;
  try {
    out.nets = (e.nets ?? []).map(parseCidrOrIp);
    out.notNets = (e.notNets ?? []).map(parseCidrOrIp);
  } catch (err: unknown) {
    throw new PolicyInputError('invalid-policy', `${where}: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (e.selector !== undefined || e.namespaceSelector !== undefined || e.serviceAccounts !== undefined) {
    const ns: EndpointMatch['ns'] =
      e.namespaceSelector !== undefined ? { kind: 'selector', selector: sel(e.namespaceSelector, `${where}.namespaceSelector`) } : policyNs !== undefined ? { kind: 'name', name: policyNs } : undefined;
    let sa: EndpointMatch['sa'];
    if (e.serviceAccounts) {
      sa = {};
      if (e.serviceAccounts.names?.length) sa.names = [...e.serviceAccounts.names];
      if (e.serviceAccounts.selector !== undefined) sa.selector = sel(e.serviceAccounts.selector, `${where}.serviceAccounts.selector`);
    }
    out.match = endpointMatch(sel(e.selector, `${where}.selector`), ns, sa);
  }
  if (e.notSelector !== undefined) out.notMatch = endpointMatch(sel(e.notSelector, `${where}.notSelector`));
  out.ports = (e.ports ?? []).map((p) => port(p, `${where}.ports`));
  out.notPorts = (e.notPorts ?? []).map((p) => port(p, `${where}.notPorts`));
  return out;
}

function proto(p: string | number | undefined, where: string): number | undefined {
  if (p === undefined) return undefined;
  const n = protocolNumber(p);
  if (n === undefined) throw new PolicyInputError('invalid-policy', `${where}: unknown protocol ${String(p)}`);
  return n;
}

/** Normalises one rule; `policyNs` scopes selectors of a namespaced policy. */
export function normaliseRule(r: Rule, policyNs: string | undefined, where: string): RuleN {
  const out: RuleN = { action: r.action, src: entity(r.source, policyNs, `${where}.source`), dst: entity(r.destination, policyNs, `${where}.destination`) };
  if (r.ipVersion !== undefined) out.ipVersion = r.ipVersion;
  const p = proto(r.protocol, `${where}.protocol`);
  if (p !== undefined) out.protocol = p;
  const np = proto(r.notProtocol, `${where}.notProtocol`);
  if (np !== undefined) out.notProtocol = np;
  if (r.icmp) out.icmp = { ...r.icmp };
  if (r.notICMP) out.notICMP = { ...r.notICMP };
  return out;
}

/** Normalises a NetworkPolicy or GlobalNetworkPolicy. */
export function normalisePolicy(p: NetworkPolicy | GlobalNetworkPolicy): PolicyN {
  const namespaced = p.kind === 'NetworkPolicy';
  const namespace = namespaced ? (p.metadata.namespace ?? 'default') : undefined;
  const tier = p.spec.tier ?? 'default';
  const where = `${p.kind} ${namespace ? namespace + '/' : ''}${p.metadata.name}`;
  const ingressRules = p.spec.ingress ?? [];
  const egressRules = p.spec.egress ?? [];
  const types = p.spec.types?.length ? p.spec.types : egressRules.length && !ingressRules.length ? ['Egress' as const] : egressRules.length ? ['Ingress' as const, 'Egress' as const] : ['Ingress' as const];
  const gnsSel = !namespaced && 'namespaceSelector' in p.spec ? p.spec.namespaceSelector : undefined;
  const ns: EndpointMatch['ns'] = namespace !== undefined ? { kind: 'name', name: namespace } : gnsSel !== undefined && gnsSel.trim() !== '' ? { kind: 'selector', selector: sel(gnsSel, `${where}: spec.namespaceSelector`) } : undefined;
  const sa = p.spec.serviceAccountSelector !== undefined ? { selector: sel(p.spec.serviceAccountSelector, `${where}: spec.serviceAccountSelector`) } : undefined;
  const out: PolicyN = {
    id: `${tier}/${namespace ? namespace + '/' : ''}${p.metadata.name}`,
    kind: p.kind,
    name: p.metadata.name,
    tier,
    order: p.spec.order ?? Infinity,
    appliesTo: endpointMatch(sel(p.spec.selector, `${where}: spec.selector`), ns, sa),
  };
  if (namespace !== undefined) out.namespace = namespace;
  if (types.includes('Ingress')) out.ingress = ingressRules.map((r, i) => normaliseRule(r, namespace, `${where}: ingress[${i}]`));
  if (types.includes('Egress')) out.egress = egressRules.map((r, i) => normaliseRule(r, namespace, `${where}: egress[${i}]`));
  return out;
}

/** Normalises a Profile (its rules are not namespace-scoped). */
export function normaliseProfile(p: Profile): ProfileN {
  const where = `Profile ${p.metadata.name}`;
  return {
    name: p.metadata.name,
    ingress: (p.spec.ingress ?? []).map((r, i) => normaliseRule(r, undefined, `${where}: ingress[${i}]`)),
    egress: (p.spec.egress ?? []).map((r, i) => normaliseRule(r, undefined, `${where}: egress[${i}]`)),
    labelsToApply: { ...(p.spec.labelsToApply ?? {}) },
  };
}

function addrs(cidrs: string[], family: 4 | 6, where: string): string[] {
  const out: string[] = [];
  for (const c of cidrs) {
    let parsed;
    try {
      parsed = parseCidrOrIp(c);
    } catch {
      throw new PolicyInputError('invalid-endpoint', `${where}: bad ipNetworks entry ${c}`);
    }
    if (parsed.family === family) out.push(parsed.text.split('/')[0] ?? parsed.text);
  }
  return out;
}

/** Normalises a WorkloadEndpoint (labels gain Calico's projectcalico.org/ keys). */
export function normaliseEndpoint(w: WorkloadEndpoint): EndpointN {
  const namespace = w.metadata.namespace ?? 'default';
  const where = `WorkloadEndpoint ${namespace}/${w.metadata.name}`;
  const labels: Record<string, string> = { ...(w.metadata.labels ?? {}), [LABEL_NAMESPACE]: namespace };
  if (w.spec.orchestrator) labels[LABEL_ORCHESTRATOR] = w.spec.orchestrator;
  if (w.spec.serviceAccountName) labels[LABEL_SERVICE_ACCOUNT] = w.spec.serviceAccountName;
  const ports: EndpointN['ports'] = [];
  for (const p of w.spec.ports ?? []) {
    const n = protocolNumber(p.protocol);
    if (p.name && n !== undefined) ports.push({ name: p.name, protocol: n, port: p.port });
  }
  return {
    key: `${namespace}/${w.metadata.name}`,
    namespace,
    name: w.metadata.name,
    node: w.spec.node,
    iface: w.spec.interfaceName,
    v4: addrs(w.spec.ipNetworks, 4, where),
    v6: addrs(w.spec.ipNetworks, 6, where),
    labels,
    profiles: [...(w.spec.profiles ?? [])],
    ports,
  };
}
