import { describe, expect, it } from 'vitest';
import { PolicyCalculator, evaluate, namespaceProfile } from '@tabby/felix';
import { gnp, np, wep } from './fixtures.js';

describe('evaluate', () => {
  function model() {
    const c = new PolicyCalculator({ nodeName: 'node1' });
    c.onEvent({ type: 'profile-update', profile: namespaceProfile('x', { team: 'red' }) });
    c.onEvent({ type: 'endpoint-update', endpoint: wep('x', 'a', '10.65.0.1', { app: 'a' }) });
    c.onEvent({ type: 'endpoint-update', endpoint: wep('x', 'b', '10.65.0.2', { app: 'b' }, { node: 'node2' }) });
    c.onEvent({ type: 'tier-update', name: 'sec', order: 10 });
    c.onEvent({ type: 'policy-update', policy: gnp('sec.pass', { tier: 'sec', selector: 'all()', namespaceSelector: "team == 'red'", ingress: [{ action: 'Log' }, { action: 'Pass', protocol: 'TCP' }, { action: 'Deny' }] }) });
    c.onEvent({ type: 'policy-update', policy: np('x', 'allow-b', { order: 1, selector: "app == 'a'", ingress: [{ action: 'Allow', protocol: 'TCP', source: { selector: "app == 'b'" }, destination: { ports: [80] } }] }) });
    return c.model();
  }

  it('explains an allow through a Pass in an earlier tier', () => {
    const v = evaluate(model(), { src: '10.65.0.2', dst: '10.65.0.1', protocol: 6, srcPort: 1234, dstPort: 80 });
    expect(v.verdict).toBe('allow');
    expect(v.path.map((s) => [s.direction, s.tier ?? s.profile, s.policy, s.rule, s.outcome])).toEqual([
      ['egress', 'kns.x', undefined, 0, 'allow'],
      ['ingress', 'sec', 'sec/sec.pass', 0, 'log'],
      ['ingress', 'sec', 'sec/sec.pass', 1, 'pass'],
      ['ingress', 'default', 'default/x/allow-b', 0, 'allow'],
    ]);
  });

  it('end of tier drops what no policy allowed; Deny in an earlier tier is final', () => {
    const m = model();
    expect(evaluate(m, { src: '10.65.0.2', dst: '10.65.0.1', protocol: 6, srcPort: 1, dstPort: 81 }).path.at(-1)).toMatchObject({ tier: 'default', outcome: 'end-of-tier' });
    expect(evaluate(m, { src: '10.65.0.2', dst: '10.65.0.1', protocol: 17, srcPort: 1, dstPort: 80 }).path.at(-1)).toMatchObject({ tier: 'sec', rule: 2, outcome: 'deny' });
  });

  it('addresses outside the model apply no policy', () => {
    expect(evaluate(model(), { src: '192.0.2.1', dst: '192.0.2.2', protocol: 6, dstPort: 80 })).toEqual({ verdict: 'allow', path: [] });
  });
});
