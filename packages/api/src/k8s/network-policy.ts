/**
 * Kubernetes NetworkPolicy (networking.k8s.io/v1) → Calico NetworkPolicy, as Calico's
 * Kubernetes datastore converts it (libcalico-go, conversion of K8s network policies). Pure.
 *
 * What it keeps, and why:
 * - name `knp.default.<name>` in the policy's namespace, order 1000, so Calico-style policies
 *   (other orders) interleave with Kubernetes ones exactly as in Calico;
 * - the policy selector is the podSelector prefixed by `projectcalico.org/orchestrator == 'k8s'`
 *   (a Kubernetes policy never selects a non-pod endpoint); matchLabels in key order, then
 *   matchExpressions in order (`in { 'a', 'b' }`, `not in`, `has()`, `! has()`);
 * - a peer: ipBlock → nets + notNets (its `except`); otherwise a pod selector (same prefix,
 *   `projectcalico.org/orchestrator == 'k8s'` alone when absent) and a namespace selector
 *   (absent: the policy's own namespace; present but empty: `all()`);
 * - ports: protocol defaults to TCP; one rule per (protocol × peer), protocols in sorted order,
 *   the ports of one protocol merged and coalesced into ranges (named ports first, as given); a
 *   port without a number opens the whole protocol; a rule without ports (or with an empty
 *   port) opens every protocol; `endPort` makes `port:endPort`;
 * - policyTypes: when absent the API server's default (Ingress, plus Egress when `egress` has
 *   rules), then Calico's (none → Ingress). Rules of a direction not in `types` are kept, as
 *   Calico keeps them; felix ignores them. `ingress: []` under Ingress allows nothing.
 * Bad input (a bad CIDR, protocol, port, label) is a `ValidationError` naming the field; with
 * `onBadRule` set, the bad rule is dropped instead (what Calico's syncer does: the rest of the
 * policy still applies, so a dropped allow rule only ever denies more).
 */
import { parseCidr } from '../net/cidr.js';
import type { EntityRule, NetworkPolicy, Port, Rule } from '../kinds/policy.js';
import { API_VERSION } from '../resource.js';
import { ValidationError, type ValidationIssue } from '../validation/issues.js';

/** A Kubernetes label selector. */
export interface K8sLabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist'; values?: string[] }[];
}

/** A peer of a Kubernetes NetworkPolicy rule. */
export interface K8sNetworkPolicyPeer {
  podSelector?: K8sLabelSelector;
  namespaceSelector?: K8sLabelSelector;
  ipBlock?: { cidr: string; except?: string[] };
}

/** A port of a Kubernetes NetworkPolicy rule. */
export interface K8sNetworkPolicyPort {
  /** [TCP] */
  protocol?: 'TCP' | 'UDP' | 'SCTP';
  /** A number, or a named container port. */
  port?: number | string;
  endPort?: number;
}

/** A networking.k8s.io/v1 NetworkPolicy (the fields Calico converts). */
export interface K8sNetworkPolicy {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; namespace?: string; [k: string]: unknown };
  spec: {
    podSelector?: K8sLabelSelector;
    policyTypes?: ('Ingress' | 'Egress')[];
    ingress?: { from?: K8sNetworkPolicyPeer[]; ports?: K8sNetworkPolicyPort[] }[];
    egress?: { to?: K8sNetworkPolicyPeer[]; ports?: K8sNetworkPolicyPort[] }[];
  };
}

/** The name prefix of converted policies. */
export const K8S_POLICY_PREFIX = 'knp.default.';
/** The order of converted policies. */
export const K8S_POLICY_ORDER = 1000;
const ORCHESTRATOR_K8S = "projectcalico.org/orchestrator == 'k8s'";

/** True for a document with `apiVersion: networking.k8s.io/v1` and `kind: NetworkPolicy`. */
export function isK8sNetworkPolicy(doc: unknown): doc is K8sNetworkPolicy {
  if (typeof doc !== 'object' || doc === null) return false;
  const d = doc as { apiVersion?: unknown; kind?: unknown };
  return d.apiVersion === 'networking.k8s.io/v1' && d.kind === 'NetworkPolicy';
}

/** Options of `convertK8sNetworkPolicy`. */
export interface ConvertK8sPolicyOptions {
  /** Drop a rule that cannot be converted (and report it here) instead of throwing. */
  onBadRule?: (issue: ValidationIssue) => void;
}

class BadField extends Error {
  constructor(readonly path: string, message: string) {
    super(message);
  }
}

const LABEL_KEY = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const PORT_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

function key(k: string, path: string): string {
  if (!LABEL_KEY.test(k)) throw new BadField(path, `${JSON.stringify(k)} is not a valid label key`);
  return k;
}

function value(v: unknown, path: string): string {
  if (typeof v !== 'string' || !LABEL_VALUE.test(v) || v.length > 63) throw new BadField(path, `${JSON.stringify(v)} is not a valid label value`);
  return `'${v}'`;
}

/** A Kubernetes label selector as Calico selector text; `pod` adds the orchestrator term. */
export function k8sSelectorToCalico(sel: K8sLabelSelector | undefined, type: 'pod' | 'namespace', path = 'selector'): string {
  const terms: string[] = type === 'pod' ? [ORCHESTRATOR_K8S] : [];
  if (!sel) return terms.join(' && ');
  const labels = Object.entries(sel.matchLabels ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const exprs = sel.matchExpressions ?? [];
  // A present but empty namespace selector selects every namespace.
  if (type === 'namespace' && labels.length === 0 && exprs.length === 0) return 'all()';
  for (const [k, v] of labels) terms.push(`${key(k, `${path}.matchLabels`)} == ${value(v, `${path}.matchLabels.${k}`)}`);
  exprs.forEach((e, i) => {
    const at = `${path}.matchExpressions[${i}]`;
    const k = key(e.key, `${at}.key`);
    const list = (): string => `{ ${(e.values ?? []).map((v, j) => value(v, `${at}.values[${j}]`)).join(', ')} }`;
    switch (e.operator) {
      case 'In':
        terms.push(`${k} in ${list()}`);
        return;
      case 'NotIn':
        terms.push(`${k} not in ${list()}`);
        return;
      case 'Exists':
        terms.push(`has(${k})`);
        return;
      case 'DoesNotExist':
        terms.push(`! has(${k})`);
        return;
      default:
        throw new BadField(`${at}.operator`, `${JSON.stringify(e.operator)}: expected In, NotIn, Exists or DoesNotExist`);
    }
  });
  return terms.join(' && ');
}

function peerFields(p: K8sNetworkPolicyPeer, path: string): EntityRule {
  if (p.ipBlock) {
    const cidr = (c: string, at: string): string => {
      try {
        return parseCidr(c).text;
      } catch (e: unknown) {
        throw new BadField(at, e instanceof Error ? e.message : String(e));
      }
    };
    const e: EntityRule = { nets: [cidr(p.ipBlock.cidr, `${path}.ipBlock.cidr`)] };
    if (p.ipBlock.except?.length) e.notNets = p.ipBlock.except.map((x, i) => cidr(x, `${path}.ipBlock.except[${i}]`));
    return e;
  }
  const e: EntityRule = { selector: k8sSelectorToCalico(p.podSelector, 'pod', `${path}.podSelector`) };
  if (p.namespaceSelector) e.namespaceSelector = k8sSelectorToCalico(p.namespaceSelector, 'namespace', `${path}.namespaceSelector`);
  return e;
}

/** One port as Calico's: a number, `min:max`, or a name. */
function portOf(p: K8sNetworkPolicyPort, path: string): Port {
  const n = typeof p.port === 'number' ? p.port : /^[0-9]+$/.test(String(p.port)) ? Number(p.port) : undefined;
  if (n === undefined) {
    const name = String(p.port);
    if (!PORT_NAME.test(name) || name.length > 15) throw new BadField(`${path}.port`, `${JSON.stringify(p.port)} is neither a port number nor a port name`);
    if (p.endPort !== undefined) throw new BadField(`${path}.endPort`, `endPort needs a numeric port, not the named port ${JSON.stringify(name)}`);
    return name;
  }
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new BadField(`${path}.port`, `${n} is outside 1-65535`);
  if (p.endPort === undefined) return n;
  if (!Number.isInteger(p.endPort) || p.endPort < n || p.endPort > 65535) throw new BadField(`${path}.endPort`, `${p.endPort} must be from ${n} to 65535`);
  return `${n}:${p.endPort}`;
}

/** Calico's SimplifyPorts: named ports as given, then numbers coalesced into sorted ranges. */
export function simplifyPorts(ports: Port[]): Port[] {
  if (ports.length <= 1) return ports;
  const named = ports.filter((p) => typeof p === 'string' && !/^[0-9]+(:[0-9]+)?$/.test(p));
  const ranges = ports
    .filter((p) => !named.includes(p))
    .map((p) => String(p).split(':').map(Number))
    .map(([lo = 0, hi]) => [lo, hi ?? lo] as [number, number])
    .sort((a, b) => a[0] - b[0]);
  const only = ranges[0];
  if (!only || (ranges.length === 1 && only[0] === only[1])) return ports; // at most one numeric port
  const merged: [number, number][] = [];
  for (const [lo, hi] of ranges) {
    const last = merged[merged.length - 1];
    if (last && lo <= last[1] + 1) last[1] = Math.max(last[1], hi);
    else merged.push([lo, hi]);
  }
  return [...named, ...merged.map(([lo, hi]): Port => (lo === hi ? lo : `${lo}:${hi}`))];
}

/** Ports grouped by protocol (sorted); `undefined` ports: the whole protocol; '' : any protocol. */
function protocolPorts(ports: K8sNetworkPolicyPort[] | undefined, path: string): [string, Port[] | undefined][] {
  const groups = new Map<string, Port[] | undefined>();
  for (const [i, p] of (ports ?? []).entries()) {
    const at = `${path}.ports[${i}]`;
    if (p.port === undefined && p.protocol === undefined && p.endPort === undefined) return [['', undefined]]; // an empty port: allow all
    const proto = p.protocol ?? 'TCP';
    if (proto !== 'TCP' && proto !== 'UDP' && proto !== 'SCTP') throw new BadField(`${at}.protocol`, `${JSON.stringify(proto)}: expected TCP, UDP or SCTP`);
    if (p.port === undefined) {
      if (p.endPort !== undefined) throw new BadField(`${at}.endPort`, 'endPort needs a port');
      groups.set(proto, undefined); // the whole protocol wins over any list
      continue;
    }
    const port = portOf(p, at);
    if (!groups.has(proto)) groups.set(proto, [port]);
    else groups.get(proto)?.push(port);
  }
  if (groups.size === 0) return [['', undefined]];
  return [...groups].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

function convertRule(peers: K8sNetworkPolicyPeer[] | undefined, ports: K8sNetworkPolicyPort[] | undefined, dir: 'ingress' | 'egress', path: string): Rule[] {
  const peerSides: (EntityRule | undefined)[] = peers?.length ? peers.map((p, i) => peerFields(p, `${path}.${dir === 'ingress' ? 'from' : 'to'}[${i}]`)) : [undefined];
  const out: Rule[] = [];
  for (const [protocol, list] of protocolPorts(ports, path)) {
    const portSide: EntityRule = list ? { ports: simplifyPorts(list) } : {};
    for (const peer of peerSides) {
      const r: Rule = { action: 'Allow' };
      if (protocol) r.protocol = protocol;
      if (dir === 'ingress') {
        if (peer) r.source = peer;
        if (list) r.destination = portSide;
      } else if (peer || list) r.destination = { ...portSide, ...peer };
      out.push(r);
    }
  }
  return out;
}

/**
 * Converts a Kubernetes NetworkPolicy as Calico does (see the module header). The namespace
 * defaults to `default`, as kubectl's. Throws `ValidationError` on bad input unless
 * `opts.onBadRule` is given.
 */
export function convertK8sNetworkPolicy(np: K8sNetworkPolicy, opts: ConvertK8sPolicyOptions = {}): NetworkPolicy {
  const namespace = np.metadata?.namespace ?? 'default';
  const where = `NetworkPolicy ${namespace}/${np.metadata?.name ?? '(no name)'}`;
  const issues: ValidationIssue[] = [];
  if (typeof np.metadata?.name !== 'string' || np.metadata.name === '') issues.push({ path: 'metadata.name', message: 'required' });
  const guard = <T>(fn: () => T, fallback: T, dropRule: boolean): T => {
    try {
      return fn();
    } catch (e: unknown) {
      if (!(e instanceof BadField)) throw e;
      const issue = { path: e.path, message: e.message };
      if (dropRule && opts.onBadRule) opts.onBadRule({ path: e.path, message: `${where}: rule dropped: ${e.message}` });
      else issues.push(issue);
      return fallback;
    }
  };
  const spec = np.spec ?? {};
  const ingress = (spec.ingress ?? []).flatMap((r, i) => guard(() => convertRule(r.from, r.ports, 'ingress', `spec.ingress[${i}]`), [], true));
  const egress = (spec.egress ?? []).flatMap((r, i) => guard(() => convertRule(r.to, r.ports, 'egress', `spec.egress[${i}]`), [], true));
  const selector = guard(() => k8sSelectorToCalico(spec.podSelector ?? {}, 'pod', 'spec.podSelector'), '', false);
  // The API server defaults policyTypes; Calico then treats "none" as Ingress.
  const given = spec.policyTypes?.length ? spec.policyTypes : spec.egress?.length ? ['Ingress', 'Egress'] : ['Ingress'];
  for (const [i, t] of given.entries()) if (t !== 'Ingress' && t !== 'Egress') issues.push({ path: `spec.policyTypes[${i}]`, message: `${JSON.stringify(t)}: expected Ingress or Egress` });
  if (issues.length) throw new ValidationError(where, issues);
  const types = (['Ingress', 'Egress'] as const).filter((t) => given.includes(t));
  return {
    apiVersion: API_VERSION,
    kind: 'NetworkPolicy',
    metadata: { name: `${K8S_POLICY_PREFIX}${np.metadata.name}`, namespace },
    spec: { order: K8S_POLICY_ORDER, selector, types, ingress, egress },
  };
}
