/**
 * The upstream Kubernetes network-policy e2e model (test/e2e/network/netpol): namespaces x, y, z
 * × pods a, b, c, servers on TCP and UDP ports 80 and 81, each case's policies translated as
 * Calico does and programmed into a real node namespace, then every ordered pair probed for
 * real and compared with the case's expected reachability (and with the evaluator).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { namespaceProfile as nsProfile, type K8sNetworkPolicy, type PolicyEvent } from '@tabby/felix';
import { PolicyLab } from './lab.js';
import { checkMatrix, Reachability, type Combo } from './reach.js';
import { wep } from './fixtures.js';

const NSS = ['x', 'y', 'z'];
const PODS = NSS.flatMap((ns) => ['a', 'b', 'c'].map((p) => `${ns}/${p}`));
const ipOf = (key: string): string => `10.65.${NSS.indexOf(key.split('/')[0] ?? '')}.${['a', 'b', 'c'].indexOf(key.split('/')[1] ?? '') + 1}`;
const NAMED = [
  { name: 'serve-80-tcp', protocol: 'TCP', port: 80 },
  { name: 'serve-81-tcp', protocol: 'TCP', port: 81 },
  { name: 'serve-80-udp', protocol: 'UDP', port: 80 },
  { name: 'serve-81-udp', protocol: 'UDP', port: 81 },
];
const COMBOS: Combo[] = [
  { port: 80, proto: 'tcp' },
  { port: 81, proto: 'tcp' },
  { port: 80, proto: 'udp' },
  { port: 81, proto: 'udp' },
];
const ns = (p: string): string => p.split('/')[0] ?? '';
const pod = (p: string): string => p.split('/')[1] ?? '';

function knp(namespace: string, name: string, spec: K8sNetworkPolicy['spec']): K8sNetworkPolicy {
  return { metadata: { name, namespace }, spec };
}

interface Case {
  name: string;
  policies: K8sNetworkPolicy[];
  /** Extra events before probing (label updates), undone by `after`. */
  before?: PolicyEvent[];
  after?: PolicyEvent[];
  expect(r: Reachability, c: Combo): void;
}

const podSel = (p: string): K8sNetworkPolicy['spec']['podSelector'] => ({ matchLabels: { pod: p } });
const nsSel = (n: string): K8sNetworkPolicy['spec']['podSelector'] => ({ matchLabels: { ns: n } });

const CASES: Case[] = [
  { name: 'default-deny-ingress', policies: [knp('x', 'deny-ingress', { podSelector: {}, policyTypes: ['Ingress'] })], expect: (r) => r.expectWhere(() => true, (t) => ns(t) === 'x', false) },
  {
    name: 'default-deny-all (ingress and egress)',
    policies: [knp('x', 'deny-all', { podSelector: {}, policyTypes: ['Ingress', 'Egress'] })],
    expect: (r) => r.expectWhere(() => true, (t) => ns(t) === 'x', false).expectWhere((f) => ns(f) === 'x', () => true, false),
  },
  { name: 'empty ingress list denies all', policies: [knp('x', 'empty', { podSelector: podSel('a'), ingress: [] })], expect: (r) => r.expectAllIngress('x/a', false) },
  { name: 'allow-all ingress: [{}]', policies: [knp('x', 'deny', { podSelector: {}, ingress: [] }), knp('x', 'allow-all', { podSelector: {}, ingress: [{}] })], expect: () => undefined },
  {
    name: 'podSelector within the namespace',
    policies: [knp('x', 'from-b', { podSelector: podSel('a'), ingress: [{ from: [{ podSelector: podSel('b') }] }] })],
    expect: (r) => r.expectAllIngress('x/a', false).expect('x/b', 'x/a', true),
  },
  {
    name: 'same-namespace only (podSelector {})',
    policies: [knp('x', 'same-ns', { podSelector: {}, ingress: [{ from: [{ podSelector: {} }] }] })],
    expect: (r) => r.expectWhere((f) => ns(f) !== 'x', (t) => ns(t) === 'x', false),
  },
  {
    name: 'namespaceSelector',
    policies: [knp('x', 'from-y', { podSelector: podSel('a'), ingress: [{ from: [{ namespaceSelector: nsSel('y') }] }] })],
    expect: (r) => r.expectAllIngress('x/a', false).expectWhere((f) => ns(f) === 'y', (t) => t === 'x/a', true),
  },
  {
    name: 'podSelector matchExpressions In',
    policies: [knp('x', 'expr', { podSelector: podSel('a'), ingress: [{ from: [{ podSelector: { matchExpressions: [{ key: 'pod', operator: 'In', values: ['b'] }] } }] }] })],
    expect: (r) => r.expectAllIngress('x/a', false).expect('x/b', 'x/a', true),
  },
  {
    name: 'namespaceSelector matchExpressions NotIn',
    policies: [knp('x', 'ns-expr', { podSelector: podSel('a'), ingress: [{ from: [{ namespaceSelector: { matchExpressions: [{ key: 'ns', operator: 'NotIn', values: ['x'] }] } }] }] })],
    expect: (r) => r.expectAllIngress('x/a', false).expectWhere((f) => ns(f) !== 'x', (t) => t === 'x/a', true),
  },
  {
    name: 'separate peers are ORed',
    policies: [knp('x', 'or', { podSelector: podSel('a'), ingress: [{ from: [{ podSelector: podSel('b') }, { namespaceSelector: nsSel('y') }] }] })],
    expect: (r) => r.expectAllIngress('x/a', false).expect('x/b', 'x/a', true).expectWhere((f) => ns(f) === 'y', (t) => t === 'x/a', true),
  },
  {
    name: 'podSelector and namespaceSelector in one peer are ANDed',
    policies: [knp('x', 'and', { podSelector: podSel('a'), ingress: [{ from: [{ podSelector: podSel('b'), namespaceSelector: { matchExpressions: [{ key: 'ns', operator: 'In', values: ['y', 'z'] }] } }] }] })],
    expect: (r) => r.expectAllIngress('x/a', false).expect('y/b', 'x/a', true).expect('z/b', 'x/a', true),
  },
  {
    name: 'multiple pod and namespace selectors',
    policies: [knp('x', 'multi', { podSelector: podSel('a'), ingress: [{ from: [{ namespaceSelector: { matchExpressions: [{ key: 'ns', operator: 'NotIn', values: ['x'] }] }, podSelector: { matchExpressions: [{ key: 'pod', operator: 'In', values: ['b', 'c'] }] } }] }] })],
    expect: (r) => r.expectAllIngress('x/a', false).expectWhere((f) => ns(f) !== 'x' && pod(f) !== 'a', (t) => t === 'x/a', true),
  },
  {
    name: 'ports: TCP 81 only',
    policies: [knp('x', 'port81', { podSelector: podSel('a'), ingress: [{ ports: [{ port: 81 }] }] })],
    expect: (r, c) => {
      if (!(c.proto === 'tcp' && c.port === 81)) r.expectAllIngress('x/a', false);
    },
  },
  {
    name: 'stacked policies with overlapping podSelectors',
    policies: [knp('x', 'p80-from-y', { podSelector: podSel('a'), ingress: [{ from: [{ namespaceSelector: nsSel('y') }], ports: [{ port: 80 }] }] }), knp('x', 'p81-from-z', { podSelector: podSel('a'), ingress: [{ from: [{ namespaceSelector: nsSel('z') }], ports: [{ port: 81 }] }] })],
    expect: (r, c) => {
      r.expectAllIngress('x/a', false);
      if (c.proto === 'tcp') r.expectWhere((f) => ns(f) === (c.port === 80 ? 'y' : 'z'), (t) => t === 'x/a', true);
    },
  },
  {
    name: 'named port ingress',
    policies: [knp('x', 'named', { podSelector: podSel('a'), ingress: [{ ports: [{ port: 'serve-81-tcp' }] }] })],
    expect: (r, c) => {
      if (!(c.proto === 'tcp' && c.port === 81)) r.expectAllIngress('x/a', false);
    },
  },
  {
    name: 'named port ingress from a namespace',
    policies: [knp('x', 'named-ns', { podSelector: podSel('a'), ingress: [{ from: [{ namespaceSelector: nsSel('y') }], ports: [{ port: 'serve-80-udp', protocol: 'UDP' }] }] })],
    expect: (r, c) => {
      r.expectAllIngress('x/a', false);
      if (c.proto === 'udp' && c.port === 80) r.expectWhere((f) => ns(f) === 'y', (t) => t === 'x/a', true);
    },
  },
  {
    name: 'named port egress',
    policies: [knp('x', 'named-egress', { podSelector: podSel('a'), policyTypes: ['Egress'], egress: [{ ports: [{ port: 'serve-80-tcp' }] }] })],
    expect: (r, c) => {
      if (!(c.proto === 'tcp' && c.port === 80)) r.expectAllEgress('x/a', false);
    },
  },
  {
    name: 'endPort range 80-81 TCP',
    policies: [knp('x', 'range', { podSelector: podSel('a'), ingress: [{ ports: [{ port: 80, endPort: 81, protocol: 'TCP' }] }] })],
    expect: (r, c) => {
      if (c.proto !== 'tcp') r.expectAllIngress('x/a', false);
    },
  },
  {
    name: 'endPort range 81-90 excludes 80',
    policies: [knp('x', 'range2', { podSelector: podSel('a'), ingress: [{ ports: [{ port: 81, endPort: 90 }] }] })],
    expect: (r, c) => {
      if (!(c.proto === 'tcp' && c.port === 81)) r.expectAllIngress('x/a', false);
    },
  },
  {
    name: 'protocol only: any UDP port',
    policies: [knp('x', 'udp', { podSelector: podSel('a'), ingress: [{ ports: [{ protocol: 'UDP' }] }] })],
    expect: (r, c) => {
      if (c.proto === 'tcp') r.expectAllIngress('x/a', false);
    },
  },
  {
    name: 'egress to an ipBlock',
    policies: [knp('x', 'cidr', { podSelector: podSel('a'), policyTypes: ['Egress'], egress: [{ to: [{ ipBlock: { cidr: `${ipOf('y/b')}/32` } }] }] })],
    expect: (r) => r.expectAllEgress('x/a', false).expect('x/a', 'y/b', true),
  },
  {
    name: 'egress to an ipBlock with except',
    policies: [knp('x', 'except', { podSelector: podSel('a'), policyTypes: ['Egress'], egress: [{ to: [{ ipBlock: { cidr: '10.65.0.0/16', except: [`${ipOf('y/b')}/32`, '10.65.2.0/24'] } }] }] })],
    expect: (r) => r.expect('x/a', 'y/b', false).expectWhere((f) => f === 'x/a', (t) => ns(t) === 'z', false),
  },
  {
    name: 'ingress and egress controlled independently',
    policies: [knp('x', 'in-deny', { podSelector: podSel('a'), policyTypes: ['Ingress'] }), knp('x', 'eg-allow', { podSelector: podSel('a'), policyTypes: ['Egress'], egress: [{}] })],
    expect: (r) => r.expectAllIngress('x/a', false),
  },
  {
    name: 'client-side egress deny beats server allow',
    policies: [knp('x', 'eg-deny', { podSelector: podSel('a'), policyTypes: ['Egress'] }), knp('y', 'allow', { podSelector: {}, ingress: [{}] })],
    expect: (r) => r.expectAllEgress('x/a', false),
  },
  {
    name: 'ingress and egress together',
    policies: [knp('x', 'both', { podSelector: podSel('a'), policyTypes: ['Ingress', 'Egress'], ingress: [{ from: [{ namespaceSelector: nsSel('y') }] }], egress: [{ to: [{ namespaceSelector: nsSel('z') }] }] })],
    expect: (r) => r.expectAllIngress('x/a', false).expectAllEgress('x/a', false).expectWhere((f) => ns(f) === 'y', (t) => t === 'x/a', true).expectWhere((f) => f === 'x/a', (t) => ns(t) === 'z', true),
  },
  {
    name: 'updated namespace labels',
    policies: [knp('x', 'from-team', { podSelector: podSel('a'), ingress: [{ from: [{ namespaceSelector: { matchLabels: { team: 'blue' } } }] }] })],
    before: [{ type: 'profile-update', profile: nsProfile('z', { ns: 'z', team: 'blue' }) }],
    after: [{ type: 'profile-update', profile: nsProfile('z', { ns: 'z' }) }],
    expect: (r) => r.expectAllIngress('x/a', false).expectWhere((f) => ns(f) === 'z', (t) => t === 'x/a', true),
  },
  {
    name: 'updated pod labels',
    policies: [knp('x', 'from-canary', { podSelector: podSel('a'), ingress: [{ from: [{ namespaceSelector: {}, podSelector: { matchLabels: { canary: 'yes' } } }] }] })],
    before: [{ type: 'endpoint-update', endpoint: wep('y', 'c', ipOf('y/c'), { pod: 'c', canary: 'yes' }, { ports: NAMED }) }],
    after: [{ type: 'endpoint-update', endpoint: wep('y', 'c', ipOf('y/c'), { pod: 'c' }, { ports: NAMED }) }],
    expect: (r) => r.expectAllIngress('x/a', false).expect('y/c', 'x/a', true),
  },
];

describe('Kubernetes netpol e2e model on real namespaces', () => {
  let lab: PolicyLab;
  beforeAll(async () => {
    lab = await PolicyLab.create({
      backend: 'nft',
      pods: PODS.map((p) => ({ ns: ns(p), pod: pod(p), ip: ipOf(p), labels: { pod: pod(p) }, ports: NAMED })),
      namespaces: Object.fromEntries(NSS.map((n) => [n, { ns: n }])),
    });
  });
  afterAll(async () => lab?.cleanup());

  it('no policy: everything reachable', async () => {
    expect(await checkMatrix(lab, PODS, COMBOS, () => new Reachability(PODS))).toEqual([]);
  });

  for (const c of CASES) {
    it(c.name, async () => {
      await lab.apply(...(c.before ?? []), ...c.policies.map((policy): PolicyEvent => ({ type: 'k8s-policy-update', policy })));
      try {
        const bad = await checkMatrix(lab, PODS, COMBOS, (combo) => {
          const r = new Reachability(PODS);
          c.expect(r, combo);
          return r;
        });
        expect(bad).toEqual([]);
      } finally {
        await lab.apply(...c.policies.map((p): PolicyEvent => ({ type: 'k8s-policy-remove', namespace: p.metadata.namespace ?? 'default', name: p.metadata.name })), ...(c.after ?? []));
      }
    });
  }
});
