/**
 * The Kubernetes netpol e2e reachability model (test/e2e/network/netpol): a matrix of
 * from × to pods, all true by default, edited with the upstream helpers' vocabulary; compared
 * with real probes and with the evaluator, mismatches listed.
 */
import { evaluate, type PolicyModel } from '@tabby/felix';
import type { PolicyLab, Probe } from './lab.js';

/** The expected matrix of one port/protocol. */
export class Reachability {
  private readonly m = new Map<string, boolean>();
  constructor(readonly pods: string[], dflt = true) {
    for (const a of pods) for (const b of pods) if (a !== b) this.m.set(`${a}>${b}`, dflt);
  }
  expect(from: string, to: string, v: boolean): this {
    if (from !== to) this.m.set(`${from}>${to}`, v);
    return this;
  }
  expectAllIngress(to: string, v: boolean): this {
    for (const a of this.pods) this.expect(a, to, v);
    return this;
  }
  expectAllEgress(from: string, v: boolean): this {
    for (const b of this.pods) this.expect(from, b, v);
    return this;
  }
  /** Sets every pair where both predicates hold. */
  expectWhere(from: (p: string) => boolean, to: (p: string) => boolean, v: boolean): this {
    for (const a of this.pods) for (const b of this.pods) if (from(a) && to(b)) this.expect(a, b, v);
    return this;
  }
  get(from: string, to: string): boolean {
    return this.m.get(`${from}>${to}`) ?? true;
  }
}

/** One port/protocol combination of a matrix. */
export interface Combo {
  port: number;
  proto: 'tcp' | 'udp';
}

/** Probes every pair for every combo; returns mismatches against `expected` and the evaluator. */
export async function checkMatrix(lab: PolicyLab, pods: string[], combos: Combo[], expected: (c: Combo) => Reachability): Promise<{ probe: string; want: boolean; got: boolean; evaluator: boolean }[]> {
  const probes: Probe[] = [];
  for (const c of combos) for (const a of pods) for (const b of pods) if (a !== b) probes.push({ from: a, to: b, port: c.port, proto: c.proto });
  const got = await lab.probe(probes);
  const model: PolicyModel = lab.dp.calculator.model();
  const wants = new Map(combos.map((c) => [`${c.port}/${c.proto}`, expected(c)]));
  const bad: { probe: string; want: boolean; got: boolean; evaluator: boolean }[] = [];
  probes.forEach((p, i) => {
    const want = wants.get(`${p.port}/${p.proto}`)?.get(p.from, p.to) ?? true;
    const ev = evaluate(model, { src: lab.ip(p.from), dst: lab.ip(p.to), protocol: p.proto === 'tcp' ? 6 : 17, srcPort: 40000, dstPort: p.port }).verdict === 'allow';
    if (want !== got[i] || ev !== got[i]) bad.push({ probe: `${p.from} -> ${p.to} ${p.proto}/${p.port}`, want, got: got[i] === true, evaluator: ev });
  });
  return bad;
}

/** Probes flows, compares each with its expectation and with the evaluator; returns mismatches. */
export async function checkFlows(lab: PolicyLab, flows: [Probe, boolean][]): Promise<string[]> {
  const got = await lab.probe(flows.map(([p]) => p));
  const model = lab.dp.calculator.model();
  const bad: string[] = [];
  flows.forEach(([p, want], i) => {
    const protocol = p.proto === 'tcp' ? 6 : p.proto === 'udp' ? 17 : 1;
    const flow = { src: lab.ip(p.from), dst: lab.ip(p.to), protocol, srcPort: 40000, dstPort: p.port, ...(p.proto === 'icmp' ? { icmpType: p.icmpType ?? 8, icmpCode: p.icmpCode ?? 0 } : {}) };
    const ev = evaluate(model, flow).verdict === 'allow';
    if (got[i] !== want || ev !== want) bad.push(`${p.from} -> ${p.to} ${p.proto}/${p.port}: want ${want}, got ${String(got[i])}, evaluator ${ev}`);
  });
  return bad;
}
