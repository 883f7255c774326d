/**
 * Kubernetes NetworkPolicy (networking.k8s.io/v1) and its translation into a Calico
 * NetworkPolicy named `knp.default.<name>`, as Calico's kube-controllers/libcalico-go do:
 * order 1000; `policyTypes` defaulted (Ingress always, Egress when `egress` is present); one
 * Allow rule per (peer × protocol) with ports grouped by protocol; a peer with podSelector and
 * namespaceSelector is their AND; `ipBlock` becomes nets + notNets (its `except`); `endPort`
 * makes a range; an empty `ingress: []` under Ingress denies all. Pure.
 */
import type { EntityRule, NetworkPolicy, Port, Rule } from '@tabby/api';

/** A Kubernetes label selector. */
export interface K8sLabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist'; values?: string[] }[];
}

/** A peer of a Kubernetes rule. */
export interface K8sPeer {
  podSelector?: K8sLabelSelector;
  namespaceSelector?: K8sLabelSelector;
  ipBlock?: { cidr: string; except?: string[] };
}

/** A port of a Kubernetes rule. */
export interface K8sPort {
  /** [TCP] */
  protocol?: 'TCP' | 'UDP' | 'SCTP';
  port?: number | string;
  endPort?: number;
}

/** A Kubernetes NetworkPolicy (the fields Calico translates). */
export interface K8sNetworkPolicy {
  metadata: { name: string; namespace: string };
  spec: {
    podSelector: K8sLabelSelector;
    policyTypes?: ('Ingress' | 'Egress')[];
    ingress?: { from?: K8sPeer[]; ports?: K8sPort[] }[];
    egress?: { to?: K8sPeer[]; ports?: K8sPort[] }[];
  };
}

const quote = (s: string): string => (s.includes("'") ? `"${s}"` : `'${s}'`);

/** A Kubernetes label selector as Calico selector text (`all()` when empty). */
export function k8sSelectorText(sel: K8sLabelSelector | undefined): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(sel?.matchLabels ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) parts.push(`${k} == ${quote(v)}`);
  for (const e of sel?.matchExpressions ?? []) {
    const set = `{${(e.values ?? []).map(quote).join(', ')}}`;
    switch (e.operator) {
      case 'In':
        parts.push(`${e.key} in ${set}`);
        break;
      case 'NotIn':
        parts.push(`${e.key} not in ${set}`);
        break;
      case 'Exists':
        parts.push(`has(${e.key})`);
        break;
      case 'DoesNotExist':
        parts.push(`!has(${e.key})`);
        break;
    }
  }
  return parts.length ? parts.join(' && ') : 'all()';
}

function peerEntity(p: K8sPeer | undefined): EntityRule {
  if (!p) return {};
  if (p.ipBlock) {
    const e: EntityRule = { nets: [p.ipBlock.cidr] };
    if (p.ipBlock.except?.length) e.notNets = [...p.ipBlock.except];
    return e;
  }
  const e: EntityRule = {};
  if (p.podSelector) e.selector = k8sSelectorText(p.podSelector);
  if (p.namespaceSelector) {
    e.namespaceSelector = k8sSelectorText(p.namespaceSelector);
    if (!e.selector) e.selector = 'all()';
  }
  return e;
}

/** Ports grouped by protocol; `undefined` entries mean "the protocol, any port". */
function portGroups(ports: K8sPort[] | undefined): { protocol?: string; ports?: Port[] }[] {
  if (!ports?.length) return [{}];
  const groups = new Map<string, Port[] | undefined>();
  for (const p of ports) {
    const proto = p.protocol ?? 'TCP';
    const port: Port | undefined = p.port === undefined ? undefined : p.endPort !== undefined && typeof p.port === 'number' ? `${p.port}:${p.endPort}` : p.port;
    if (!groups.has(proto)) groups.set(proto, []);
    const list = groups.get(proto);
    if (port === undefined) groups.set(proto, undefined); // any port of this protocol wins
    else if (list) list.push(port);
  }
  return [...groups].map(([protocol, list]) => (list ? { protocol, ports: list } : { protocol }));
}

function rules(peers: K8sPeer[] | undefined, ports: K8sPort[] | undefined, dir: 'ingress' | 'egress'): Rule[] {
  const out: Rule[] = [];
  const peerList: (K8sPeer | undefined)[] = peers?.length ? peers : [undefined];
  for (const peer of peerList) {
    for (const g of portGroups(ports)) {
      const r: Rule = { action: 'Allow' };
      if (g.protocol) r.protocol = g.protocol;
      const peerSide = peerEntity(peer);
      const portSide: EntityRule = g.ports ? { ports: g.ports } : {};
      if (dir === 'ingress') {
        if (Object.keys(peerSide).length) r.source = peerSide;
        if (Object.keys(portSide).length) r.destination = portSide;
      } else {
        const d = { ...peerSide, ...portSide };
        if (Object.keys(d).length) r.destination = d;
      }
      out.push(r);
    }
  }
  return out;
}

/** Translates a Kubernetes NetworkPolicy as Calico does. */
export function translateK8sPolicy(p: K8sNetworkPolicy): NetworkPolicy {
  const types = p.spec.policyTypes?.length ? [...p.spec.policyTypes] : p.spec.egress?.length ? ['Ingress' as const, 'Egress' as const] : ['Ingress' as const];
  const ingress = types.includes('Ingress') ? (p.spec.ingress ?? []).flatMap((r) => rules(r.from, r.ports, 'ingress')) : [];
  const egress = types.includes('Egress') ? (p.spec.egress ?? []).flatMap((r) => rules(r.to, r.ports, 'egress')) : [];
  return {
    apiVersion: 'projectcalico.org/v3',
    kind: 'NetworkPolicy',
    metadata: { name: `knp.default.${p.metadata.name}`, namespace: p.metadata.namespace },
    spec: { order: 1000, selector: k8sSelectorText(p.spec.podSelector), types, ingress, egress },
  };
}
