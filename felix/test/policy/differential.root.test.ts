/**
 * Differential test: random Calico policies (fast-check, seeded, bounded) programmed into a real
 * node namespace; every pair of four pods probed on TCP 80, TCP 81 and UDP 80 and compared with
 * the evaluator. A mismatch is shrunk by fast-check to a minimal policy set (each shrink step
 * re-probes for real, so the run is bounded by time as well as by count).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { EntityRule, GlobalNetworkPolicy, NetworkPolicy, Rule } from '@tabby/api';
import type { PolicyEvent } from '@tabby/felix';
import { PolicyLab, type Probe } from './lab.js';
import { checkFlows } from './reach.js';

const PODS: Array<{ ns: string; pod: string; ip: string; labels: Record<string, string> }> = [
  { ns: 'x', pod: 'a', ip: '10.65.0.1', labels: { pod: 'a', role: 'fe' } },
  { ns: 'x', pod: 'b', ip: '10.65.0.2', labels: { pod: 'b', role: 'be' } },
  { ns: 'y', pod: 'a', ip: '10.65.1.1', labels: { pod: 'a', role: 'be' } },
  { ns: 'y', pod: 'b', ip: '10.65.1.2', labels: { pod: 'b' } },
];
const KEYS = PODS.map((p) => `${p.ns}/${p.pod}`);
const SELECTORS = ['all()', "role == 'fe'", "role == 'be'", "pod == 'a'", '!has(role)'];
const NETS = ['10.65.0.0/24', '10.65.1.1/32', '10.65.0.2/32'];

const entity: fc.Arbitrary<EntityRule> = fc.record(
  {
    selector: fc.constantFrom(...SELECTORS),
    notSelector: fc.constantFrom(...SELECTORS.slice(1)),
    namespaceSelector: fc.constantFrom("ns == 'x'", "ns == 'y'", 'all()'),
    nets: fc.subarray(NETS, { minLength: 1, maxLength: 2 }),
    notNets: fc.subarray(NETS, { minLength: 1, maxLength: 1 }),
  },
  { requiredKeys: [] },
);

const rule: fc.Arbitrary<Rule> = fc
  .record({
    action: fc.constantFrom('Allow', 'Deny', 'Pass', 'Log', 'Allow') as fc.Arbitrary<Rule['action']>,
    protocol: fc.option(fc.constantFrom('TCP', 'UDP'), { nil: undefined }),
    source: fc.option(entity, { nil: undefined }),
    ports: fc.option(fc.constantFrom<(number | string)[]>([80], [81], [80, 81], ['80:81']), { nil: undefined }),
    notPorts: fc.option(fc.constantFrom<(number | string)[]>([80], [81]), { nil: undefined }),
  })
  .map(({ action, protocol, source, ports, notPorts }) => {
    const r: Rule = { action };
    if (protocol) r.protocol = protocol;
    if (source && Object.keys(source).length) r.source = source;
    if (protocol && (ports || notPorts)) r.destination = { ...(ports ? { ports } : {}), ...(notPorts ? { notPorts } : {}) };
    return r;
  });

const policy = (i: number): fc.Arbitrary<NetworkPolicy | GlobalNetworkPolicy> =>
  fc
    .record({
      where: fc.constantFrom('x', 'y', 'global'),
      order: fc.option(fc.integer({ min: 1, max: 5 }), { nil: undefined }),
      selector: fc.constantFrom(...SELECTORS),
      ingress: fc.array(rule, { maxLength: 3 }),
      egress: fc.array(rule, { maxLength: 2 }),
      egressType: fc.boolean(),
    })
    .map(({ where, order, selector, ingress, egress, egressType }) => {
      const types: ('Ingress' | 'Egress')[] = egressType || egress.length ? ['Ingress', 'Egress'] : ['Ingress'];
      const spec = { selector, types, ingress, egress: types.includes('Egress') ? egress : [], ...(order !== undefined ? { order } : {}) };
      return where === 'global'
        ? ({ apiVersion: 'projectcalico.org/v3', kind: 'GlobalNetworkPolicy', metadata: { name: `r${i}` }, spec } satisfies GlobalNetworkPolicy)
        : ({ apiVersion: 'projectcalico.org/v3', kind: 'NetworkPolicy', metadata: { name: `r${i}`, namespace: where }, spec } satisfies NetworkPolicy);
    });

const policies = fc.tuple(policy(0), policy(1), policy(2)).chain((ps) => fc.integer({ min: 1, max: 3 }).map((n) => ps.slice(0, n)));

const FLOWS: Probe[] = KEYS.flatMap((a) => KEYS.filter((b) => b !== a).flatMap((b) => [80, 81].map((port): Probe => ({ from: a, to: b, port, proto: 'tcp' })).concat([{ from: a, to: b, port: 80, proto: 'udp' }])));

describe('differential: evaluator vs real probes (random policies)', () => {
  let lab: PolicyLab;
  beforeAll(async () => {
    lab = await PolicyLab.create({ backend: 'nft', pods: PODS, namespaces: { x: { ns: 'x' }, y: { ns: 'y' } } });
  });
  afterAll(async () => lab?.cleanup());

  it('agree on every probed flow', async () => {
    await fc.assert(
      fc.asyncProperty(policies, async (ps) => {
        await lab.apply(...ps.map((policy): PolicyEvent => ({ type: 'policy-update', policy })));
        try {
          const model = lab.dp.calculator.model();
          // The evaluator is the expectation; checkFlows compares both with the probes.
          const { evaluate } = await import('@tabby/felix');
          const flows: [Probe, boolean][] = FLOWS.map((p) => [p, evaluate(model, { src: lab.ip(p.from), dst: lab.ip(p.to), protocol: p.proto === 'tcp' ? 6 : 17, srcPort: 40000, dstPort: p.port }).verdict === 'allow']);
          expect(await checkFlows(lab, flows)).toEqual([]);
        } finally {
          await lab.apply(...ps.map((p): PolicyEvent => ({ type: 'policy-remove', kind: p.kind, name: p.metadata.name, ...(p.metadata.namespace ? { namespace: p.metadata.namespace } : {}) })));
        }
      }),
      { seed: 20261203, numRuns: 20, interruptAfterTimeLimit: 150_000, markInterruptAsFailure: false },
    );
  }, 240_000);
});
