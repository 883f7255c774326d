/**
 * Pods on different nodes: two node namespaces routing each other's pods over a link, each with
 * its own PolicyDataplane fed the same events (every endpoint, local or not). Ingress policy is
 * enforced on the destination's node, egress on the source's; selectors match remote pods by
 * their addresses in the ipsets of both nodes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PolicyEvent } from '@tabby/felix';
import { PolicyLab, type Probe } from './lab.js';
import { checkFlows } from './reach.js';
import { gnp, np } from './fixtures.js';

const tcp = (from: string, to: string): Probe => ({ from, to, port: 80, proto: 'tcp' });

describe('policy across two nodes (nft)', () => {
  let lab: PolicyLab;
  beforeAll(async () => {
    lab = await PolicyLab.create({
      backend: 'nft',
      pods: [
        { ns: 'x', pod: 'a', ip: '10.65.0.1', labels: { pod: 'a' }, node: 'node1' },
        { ns: 'y', pod: 'b', ip: '10.65.0.2', labels: { pod: 'b' }, node: 'node1' },
        { ns: 'x', pod: 'b', ip: '10.65.1.1', labels: { pod: 'b' }, node: 'node2' },
        { ns: 'y', pod: 'a', ip: '10.65.1.2', labels: { pod: 'a' }, node: 'node2' },
      ],
      namespaces: { x: { ns: 'x' }, y: { ns: 'y' } },
    });
  });
  afterAll(async () => lab?.cleanup());

  it('without policy every pod reaches every other, across nodes', async () => {
    expect(await checkFlows(lab, [[tcp('x/a', 'x/b'), true], [tcp('x/b', 'x/a'), true], [tcp('y/a', 'y/b'), true], [tcp('y/b', 'x/b'), true]])).toEqual([]);
  });

  it('ingress on the destination node, egress on the source node', async () => {
    const evs: PolicyEvent[] = [
      { type: 'policy-update', policy: np('x', 'only-b', { selector: "pod == 'a'", ingress: [{ action: 'Allow', source: { selector: "pod == 'b'" } }] }) },
      { type: 'policy-update', policy: gnp('y-no-egress-to-x', { namespaceSelector: "ns == 'y'", selector: 'all()', types: ['Egress'], egress: [{ action: 'Deny', destination: { namespaceSelector: "ns == 'x'" } }, { action: 'Allow' }] }) },
    ];
    await lab.apply(...evs);
    try {
      expect(
        await checkFlows(lab, [
          [tcp('x/b', 'x/a'), true], // node2 → node1, selected by x's only-b
          [tcp('y/b', 'x/a'), false], // same node: y's egress deny
          [tcp('y/a', 'x/b'), false], // same node (node2): egress deny
          [tcp('y/a', 'x/a'), false], // node2 → node1: egress deny on node2
          [tcp('y/b', 'x/b'), false], // node1 → node2, x/b has no policy: only node1's egress deny
          [tcp('x/b', 'y/a'), true],
          [tcp('x/a', 'y/b'), true],
          [tcp('y/a', 'y/b'), true], // node2 → node1 within y
        ]),
      ).toEqual([]);
    } finally {
      await lab.apply({ type: 'policy-remove', kind: 'NetworkPolicy', namespace: 'x', name: 'only-b' }, { type: 'policy-remove', kind: 'GlobalNetworkPolicy', name: 'y-no-egress-to-x' });
    }
  });
});
