/**
 * Calico-specific policy semantics on a real node namespace (legacy iptables backend): order and
 * Pass, Deny before Allow, tiers, GlobalNetworkPolicy with a namespaceSelector, notSelector /
 * notNets / notPorts, ICMP type and code, profiles, NAT outgoing to an external namespace.
 * Every flow is also checked against the evaluator.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IPPool } from '@tabby/api';
import { namespaceProfile, type PolicyEvent } from '@tabby/felix';
import { PolicyLab, type Probe } from './lab.js';
import { checkFlows } from './reach.js';
import { gnp, np, wep } from './fixtures.js';

const tcp = (from: string, to: string, port = 80): Probe => ({ from, to, port, proto: 'tcp' });
const udp = (from: string, to: string, port = 80): Probe => ({ from, to, port, proto: 'udp' });
const ping = (from: string, to: string, icmpType = 8): Probe => ({ from, to, port: 0, proto: 'icmp', icmpType });

const pool = (natOutgoing: boolean): IPPool => ({
  apiVersion: 'projectcalico.org/v3',
  kind: 'IPPool',
  metadata: { name: 'pods' },
  spec: { cidr: '10.65.0.0/16', blockSize: 26, ipipMode: 'Never', vxlanMode: 'Never', natOutgoing, disabled: false, disableBGPExport: false, nodeSelector: 'all()', allowedUses: ['Workload'] },
});

describe('Calico policy semantics on real namespaces (legacy backend)', () => {
  let lab: PolicyLab;
  beforeAll(async () => {
    lab = await PolicyLab.create({
      backend: 'legacy',
      pods: [
        { ns: 'x', pod: 'a', ip: '10.65.0.1', labels: { pod: 'a' } },
        { ns: 'x', pod: 'b', ip: '10.65.0.2', labels: { pod: 'b' } },
        { ns: 'x', pod: 'c', ip: '10.65.0.3', labels: { pod: 'c' } },
        { ns: 'y', pod: 'a', ip: '10.65.1.1', labels: { pod: 'a' } },
      ],
      namespaces: { x: { ns: 'x' }, y: { ns: 'y' } },
    });
  });
  afterAll(async () => lab?.cleanup());

  async function scenario(events: PolicyEvent[], undo: PolicyEvent[], flows: [Probe, boolean][]): Promise<void> {
    await lab.apply(...events);
    try {
      expect(await checkFlows(lab, flows)).toEqual([]);
    } finally {
      await lab.apply(...undo);
    }
  }
  const rm = (name: string, namespace = 'x'): PolicyEvent => ({ type: 'policy-remove', kind: 'NetworkPolicy', namespace, name });
  const up = (policy: Parameters<typeof np>[2] & { name: string }, namespace = 'x'): PolicyEvent => ({ type: 'policy-update', policy: np(namespace, policy.name, policy) });

  it('order: a lower-order Deny wins over a higher-order Allow', async () => {
    await scenario(
      [up({ name: 'deny-b', order: 10, selector: "pod == 'a'", ingress: [{ action: 'Deny', source: { selector: "pod == 'b'" } }] }), up({ name: 'allow', order: 20, selector: "pod == 'a'", ingress: [{ action: 'Allow' }] })],
      [rm('deny-b'), rm('allow')],
      [[tcp('x/b', 'x/a'), false], [tcp('x/c', 'x/a'), true], [tcp('y/a', 'x/a'), true]],
    );
  });

  it('Pass skips the rest of the tier and lands on the profile', async () => {
    await scenario(
      [up({ name: 'pass-b', order: 10, selector: "pod == 'a'", ingress: [{ action: 'Pass', source: { selector: "pod == 'b'" } }] }), up({ name: 'deny', order: 20, selector: "pod == 'a'", ingress: [{ action: 'Deny' }] })],
      [rm('pass-b'), rm('deny')],
      [[tcp('x/b', 'x/a'), true], [tcp('x/c', 'x/a'), false]],
    );
  });

  it('Deny before Allow inside one policy', async () => {
    await scenario(
      [up({ name: 'mixed', selector: "pod == 'a'", ingress: [{ action: 'Deny', protocol: 'TCP', destination: { ports: [80] } }, { action: 'Allow' }] })],
      [rm('mixed')],
      [[tcp('x/b', 'x/a', 80), false], [tcp('x/b', 'x/a', 81), true], [udp('x/b', 'x/a', 80), true]],
    );
  });

  it('tiers: a Pass in an earlier tier defers to the default tier', async () => {
    await scenario(
      [
        { type: 'tier-update', name: 'security', order: 100 },
        { type: 'policy-update', policy: gnp('security.gate', { tier: 'security', order: 1, selector: "pod == 'a'", ingress: [{ action: 'Deny', source: { selector: "pod == 'c'" } }, { action: 'Pass' }] }) },
        up({ name: 'only-b', selector: "pod == 'a'", ingress: [{ action: 'Allow', source: { selector: "pod == 'b'" } }] }),
      ],
      [{ type: 'policy-remove', kind: 'GlobalNetworkPolicy', name: 'security.gate' }, rm('only-b'), { type: 'tier-remove', name: 'security' }],
      [[tcp('x/b', 'x/a'), true], [tcp('x/c', 'x/a'), false], [tcp('y/a', 'x/a'), false]],
    );
  });

  it('GlobalNetworkPolicy with a namespaceSelector applies across namespaces', async () => {
    await scenario(
      [{ type: 'policy-update', policy: gnp('deny-into-y', { namespaceSelector: "ns == 'y'", selector: 'all()', ingress: [{ action: 'Deny', source: { namespaceSelector: "ns == 'x'" } }] }) }],
      [{ type: 'policy-remove', kind: 'GlobalNetworkPolicy', name: 'deny-into-y' }],
      [[tcp('x/a', 'y/a'), false], [tcp('x/a', 'x/b'), true]],
    );
  });

  it('notSelector, notNets and notPorts', async () => {
    await scenario(
      [
        up({ name: 'not-sel', selector: "pod == 'a'", ingress: [{ action: 'Allow', source: { notSelector: "pod == 'b'" } }] }),
        up({ name: 'not-nets', selector: "pod == 'b'", ingress: [{ action: 'Allow', source: { notNets: ['10.65.0.3/32'] } }] }),
        up({ name: 'not-ports', selector: "pod == 'c'", ingress: [{ action: 'Allow', protocol: 'TCP', destination: { notPorts: [80] } }] }),
      ],
      [rm('not-sel'), rm('not-nets'), rm('not-ports')],
      [
        [tcp('x/b', 'x/a'), false],
        [tcp('x/c', 'x/a'), true],
        [tcp('x/c', 'x/b'), false],
        [tcp('x/a', 'x/b'), true],
        [tcp('x/a', 'x/c', 80), false],
        [tcp('x/a', 'x/c', 81), true],
        [udp('x/a', 'x/c', 81), false],
      ],
    );
  });

  it('ICMP type and code', async () => {
    await scenario(
      [
        up({ name: 'echo', selector: "pod == 'a'", ingress: [{ action: 'Allow', protocol: 'ICMP', icmp: { type: 8, code: 0 } }] }),
        up({ name: 'ts-only', selector: "pod == 'b'", ingress: [{ action: 'Allow', protocol: 'ICMP', icmp: { type: 13 } }] }),
        up({ name: 'not-echo', selector: "pod == 'c'", ingress: [{ action: 'Allow', protocol: 'ICMP', notICMP: { type: 8 } }] }),
      ],
      [rm('echo'), rm('ts-only'), rm('not-echo')],
      [
        [ping('y/a', 'x/a'), true],
        [tcp('y/a', 'x/a'), false],
        [ping('y/a', 'x/b'), false],
        [ping('y/a', 'x/b', 13), true],
        [ping('y/a', 'x/c'), false],
        [ping('y/a', 'x/c', 13), true],
      ],
    );
  });

  it('profiles: a namespace profile that denies, and the default deny once any policy selects', async () => {
    const denyY = namespaceProfile('y', { ns: 'y' });
    denyY.spec.ingress = [{ action: 'Deny' }];
    await scenario(
      [{ type: 'profile-update', profile: denyY }],
      [{ type: 'profile-update', profile: namespaceProfile('y', { ns: 'y' }) }],
      [[tcp('x/a', 'y/a'), false], [tcp('y/a', 'x/a'), true]],
    );
    await scenario(
      [up({ name: 'egress-only', selector: "pod == 'a'", types: ['Egress'], egress: [{ action: 'Allow', destination: { selector: "pod == 'b'" } }] })],
      [rm('egress-only')],
      [[tcp('x/a', 'x/b'), true], [tcp('x/a', 'x/c'), false], [tcp('x/c', 'x/a'), true]],
    );
  });

  it('a new pod is unreachable (and cannot send) until its chains exist, then gets its policy in one step', async () => {
    // Its interface and route exist before the dataplane hears of it (as after CNI ADD).
    const fresh = await lab.plumb({ ns: 'x', pod: 'new', ip: '10.65.0.9' });
    await lab.serve([fresh.netns.name]);
    expect(await lab.probe([tcp('x/b', 'x/new'), tcp('x/new', 'x/b')])).toEqual([false, false]);
    await lab.apply(
      up({ name: 'new-only-b', selector: "pod == 'new'", ingress: [{ action: 'Allow', source: { selector: "pod == 'b'" } }] }),
      { type: 'endpoint-update', endpoint: wep('x', 'new', '10.65.0.9', { pod: 'new' }) },
    );
    expect(await checkFlows(lab, [[tcp('x/b', 'x/new'), true], [tcp('x/c', 'x/new'), false], [tcp('x/new', 'x/b'), true]])).toEqual([]);
    await lab.apply(rm('new-only-b'), { type: 'endpoint-remove', namespace: 'x', name: 'node1-k8s-new-eth0' });
    expect(await lab.probe([tcp('x/b', 'x/new')])).toEqual([false]);
  });

  it('workload to host follows defaultEndpointToHostAction (after egress policy)', async () => {
    const toHost = (): Probe => ({ from: 'x/a', to: 'node', port: 0, proto: 'icmp', icmpType: 8 });
    expect(await lab.probe([toHost()])).toEqual([false]);
    await lab.apply({ type: 'config-update', config: { endpointToHostAction: 'Accept' } });
    expect(await lab.probe([toHost()])).toEqual([true]);
    try {
      await lab.apply(up({ name: 'no-egress', selector: "pod == 'a'", types: ['Egress'] }));
      expect(await lab.probe([toHost()])).toEqual([false]);
    } finally {
      await lab.apply(rm('no-egress'), { type: 'config-update', config: { endpointToHostAction: 'Drop' } });
    }
    expect(await lab.probe([toHost()])).toEqual([false]);
  });

  it('NAT outgoing: pods reach the external host only when their pool masquerades', async () => {
    const out = (): Probe => ({ from: 'x/a', to: 'ext', port: 80, proto: 'tcp' });
    expect(await lab.probe([out()])).toEqual([false]);
    await lab.apply({ type: 'pool-update', pool: pool(true) });
    expect(await lab.probe([out(), { ...out(), proto: 'udp', port: 81 }])).toEqual([true, true]);
    await lab.apply({ type: 'pool-update', pool: pool(false) });
    expect(await lab.probe([out()])).toEqual([false]);
    await lab.apply({ type: 'pool-remove', name: 'pods' });
  });
});
