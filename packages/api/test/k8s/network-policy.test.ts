import { describe, expect, it } from 'vitest';
import { convertK8sNetworkPolicy, isK8sNetworkPolicy, isTabbyError, parseSelector, simplifyPorts, type K8sNetworkPolicy, type ValidationIssue } from '@tabby/api';

const K8S = "projectcalico.org/orchestrator == 'k8s'";
const np = (spec: K8sNetworkPolicy['spec'], name = 'p', namespace = 'x'): K8sNetworkPolicy => ({ metadata: { name, namespace }, spec });

/** Cases as Calico's conversion tests state them: input spec → (part of) the converted spec. */
const CASES: { name: string; spec: K8sNetworkPolicy['spec']; want: Record<string, unknown> }[] = [
  {
    name: 'empty podSelector: every pod of the namespace; no types: Ingress; no rules',
    spec: { podSelector: {} },
    want: { selector: K8S, types: ['Ingress'], ingress: [], egress: [] },
  },
  {
    name: 'matchLabels sorted by key, then matchExpressions in order',
    spec: { podSelector: { matchLabels: { b: '2', a: '1' }, matchExpressions: [{ key: 'k', operator: 'In', values: ['x', 'y'] }, { key: 'n', operator: 'NotIn', values: ['z'] }, { key: 'e', operator: 'Exists' }, { key: 'd', operator: 'DoesNotExist' }] } },
    want: { selector: `${K8S} && a == '1' && b == '2' && k in { 'x', 'y' } && n not in { 'z' } && has(e) && ! has(d)` },
  },
  {
    name: 'ingress: [{}] allows everything',
    spec: { podSelector: {}, ingress: [{}] },
    want: { ingress: [{ action: 'Allow' }] },
  },
  {
    name: 'peer podSelector only: same namespace',
    spec: { podSelector: {}, ingress: [{ from: [{ podSelector: { matchLabels: { app: 'b' } } }] }] },
    want: { ingress: [{ action: 'Allow', source: { selector: `${K8S} && app == 'b'` } }] },
  },
  {
    name: 'peer namespaceSelector only: every pod of those namespaces; empty: all namespaces',
    spec: { podSelector: {}, ingress: [{ from: [{ namespaceSelector: { matchLabels: { team: 'red' } } }, { namespaceSelector: {} }] }] },
    want: {
      ingress: [
        { action: 'Allow', source: { selector: K8S, namespaceSelector: "team == 'red'" } },
        { action: 'Allow', source: { selector: K8S, namespaceSelector: 'all()' } },
      ],
    },
  },
  {
    name: 'peer with both: their AND',
    spec: { podSelector: {}, ingress: [{ from: [{ podSelector: { matchLabels: { a: '1' } }, namespaceSelector: { matchLabels: { ns: 'y' } } }] }] },
    want: { ingress: [{ action: 'Allow', source: { selector: `${K8S} && a == '1'`, namespaceSelector: "ns == 'y'" } }] },
  },
  {
    name: 'ipBlock with except, canonicalised',
    spec: { podSelector: {}, ingress: [{ from: [{ ipBlock: { cidr: '10.1.2.3/8', except: ['10.1.0.0/16'] } }] }] },
    want: { ingress: [{ action: 'Allow', source: { nets: ['10.0.0.0/8'], notNets: ['10.1.0.0/16'] } }] },
  },
  {
    name: 'ports: TCP by default, one rule per protocol (sorted) × peer, ports merged into ranges',
    spec: {
      podSelector: {},
      ingress: [{ from: [{ podSelector: {} }, { ipBlock: { cidr: '192.168.0.0/16' } }], ports: [{ protocol: 'UDP', port: 53 }, { port: 81 }, { port: 80 }, { port: 'http' }, { port: 82, endPort: 85 }] }],
    },
    want: {
      ingress: [
        { action: 'Allow', protocol: 'TCP', source: { selector: K8S }, destination: { ports: ['http', '80:85'] } },
        { action: 'Allow', protocol: 'TCP', source: { nets: ['192.168.0.0/16'] }, destination: { ports: ['http', '80:85'] } },
        { action: 'Allow', protocol: 'UDP', source: { selector: K8S }, destination: { ports: [53] } },
        { action: 'Allow', protocol: 'UDP', source: { nets: ['192.168.0.0/16'] }, destination: { ports: [53] } },
      ],
    },
  },
  {
    name: 'a port without a number opens the whole protocol',
    spec: { podSelector: {}, ingress: [{ ports: [{ protocol: 'UDP', port: 53 }, { protocol: 'UDP' }, { port: 80, endPort: 81 }] }] },
    want: { ingress: [{ action: 'Allow', protocol: 'TCP', destination: { ports: ['80:81'] } }, { action: 'Allow', protocol: 'UDP' }] },
  },
  {
    name: 'an empty port opens every protocol',
    spec: { podSelector: {}, ingress: [{ ports: [{ port: 80 }, {}] }] },
    want: { ingress: [{ action: 'Allow' }] },
  },
  {
    name: 'egress: peer and ports both in destination; types default adds Egress when egress has rules',
    spec: { podSelector: {}, egress: [{ to: [{ podSelector: { matchLabels: { a: '1' } } }], ports: [{ protocol: 'SCTP', port: 9 }] }] },
    want: { types: ['Ingress', 'Egress'], egress: [{ action: 'Allow', protocol: 'SCTP', destination: { ports: [9], selector: `${K8S} && a == '1'` } }] },
  },
  {
    name: 'empty egress list does not add Egress; policyTypes Egress with no rules denies all egress',
    spec: { podSelector: {}, egress: [] },
    want: { types: ['Ingress'] },
  },
  {
    name: 'policyTypes [Egress]: ingress rules kept but the policy is egress only',
    spec: { podSelector: {}, policyTypes: ['Egress'], ingress: [{}] },
    want: { types: ['Egress'], ingress: [{ action: 'Allow' }], egress: [] },
  },
  {
    name: 'policyTypes order does not matter',
    spec: { podSelector: {}, policyTypes: ['Egress', 'Ingress'] },
    want: { types: ['Ingress', 'Egress'] },
  },
];

describe('convertK8sNetworkPolicy (as Calico)', () => {
  it('names knp.default.<name>, order 1000, namespace kept (default when absent)', () => {
    const p = convertK8sNetworkPolicy(np({ podSelector: {} }, 'web', 'x'));
    expect(p.kind).toBe('NetworkPolicy');
    expect(p.metadata).toEqual({ name: 'knp.default.web', namespace: 'x' });
    expect(p.spec.order).toBe(1000);
    expect(convertK8sNetworkPolicy({ metadata: { name: 'n' }, spec: {} }).metadata.namespace).toBe('default');
  });

  for (const c of CASES) {
    it(c.name, () => {
      const p = convertK8sNetworkPolicy(np(c.spec));
      expect(p.spec).toMatchObject(c.want);
      // Every selector it writes parses in Tabby's selector language.
      for (const r of [...p.spec.ingress, ...p.spec.egress]) {
        for (const s of [r.source?.selector, r.source?.namespaceSelector, r.destination?.selector, r.destination?.namespaceSelector]) if (s) parseSelector(s);
      }
      parseSelector(p.spec.selector);
    });
  }

  it('bad input: a ValidationError naming each field; nothing half-converted', () => {
    let err: unknown;
    try {
      convertK8sNetworkPolicy(np({ podSelector: { matchLabels: { a: "it's" } }, ingress: [{ from: [{ ipBlock: { cidr: '10.0.0.0/33' } }] }, { ports: [{ port: 'http', endPort: 90 }] }] }));
    } catch (e: unknown) {
      err = e;
    }
    expect(isTabbyError(err, 'Invalid')).toBe(true);
    const msg = (err as Error).message;
    expect(msg).toContain('NetworkPolicy x/p: spec.ingress[0].from[0].ipBlock.cidr');
    expect(msg).toContain('spec.ingress[1].ports[0].endPort');
    expect(msg).toContain('spec.podSelector.matchLabels.a');
  });

  it('onBadRule: the bad rule is dropped (as Calico does), the rest applies', () => {
    const dropped: ValidationIssue[] = [];
    const p = convertK8sNetworkPolicy(np({ podSelector: {}, ingress: [{ ports: [{ port: 70000 }] }, { from: [{ podSelector: {} }] }] }), { onBadRule: (i) => dropped.push(i) });
    expect(p.spec.ingress).toEqual([{ action: 'Allow', source: { selector: K8S } }]);
    expect(dropped).toHaveLength(1);
    expect(dropped[0]?.path).toBe('spec.ingress[0].ports[0].port');
  });

  it('recognises networking.k8s.io/v1 documents; a policy without a name is rejected', () => {
    expect(isK8sNetworkPolicy({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'a' }, spec: {} })).toBe(true);
    expect(isK8sNetworkPolicy({ apiVersion: 'projectcalico.org/v3', kind: 'NetworkPolicy' })).toBe(false);
    expect(() => convertK8sNetworkPolicy({ metadata: { name: '' }, spec: {} })).toThrow(/metadata\.name: required/);
  });

  it('simplifyPorts coalesces as Calico SimplifyPorts', () => {
    expect(simplifyPorts([80])).toEqual([80]);
    expect(simplifyPorts([82, 80, 81, 9090, 'foo'])).toEqual(['foo', '80:82', 9090]);
    expect(simplifyPorts([80, 80])).toEqual([80]);
    expect(simplifyPorts(['10:20', 15, 21, 30])).toEqual(['10:21', 30]);
  });
});
