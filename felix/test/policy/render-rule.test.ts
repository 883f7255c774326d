import { describe, expect, it } from 'vitest';
import { normaliseRule, renderRuleMatch, RULE_FIELDS } from '@tabby/felix';

const r = (rule: Parameters<typeof normaliseRule>[0]) => normaliseRule(rule, 'x', 'test');

describe('rule rendering table', () => {
  it('has one row per field, each citing its rule', () => {
    for (const row of RULE_FIELDS) expect(row.rule.length).toBeGreaterThan(10);
  });

  it('nets with notNets on one side: only one -s (found by the differential test)', () => {
    const m = renderRuleMatch(r({ action: 'Allow', source: { nets: ['10.65.0.0/24'], notNets: ['10.65.0.2/32'] } }), 4);
    const text = m?.alternatives[0] ?? '';
    expect(text.match(/(^| )-s /g)?.length).toBe(1);
    expect(text).toMatch(/-m set ! --match-set cali40s:\S+ src/);
    expect(m?.sets.find((s) => s.kind === 'nets')).toMatchObject({ type: 'hash:net', cidrs: ['10.65.0.2/32'] });
  });

  it('splits more than 15 ports into several multiport rules (OR) and named ports into sets', () => {
    const ports = Array.from({ length: 20 }, (_, i) => 1000 + i);
    const m = renderRuleMatch(r({ action: 'Allow', protocol: 'TCP', destination: { ports: [...ports, 'http'] } }), 4);
    expect(m?.alternatives).toHaveLength(3);
    expect(m?.alternatives[2]).toMatch(/--match-set cali40n:\S+ dst,dst/);
  });

  it('leaves a rule out of the other family', () => {
    expect(renderRuleMatch(r({ action: 'Allow', protocol: 'ICMP' }), 6)).toBeNull();
    expect(renderRuleMatch(r({ action: 'Allow', source: { nets: ['fd00::/64'] } }), 4)).toBeNull();
    expect(renderRuleMatch(r({ action: 'Allow', ipVersion: 6 }), 4)).toBeNull();
    expect(renderRuleMatch(r({ action: 'Allow', protocol: 'ICMPv6', icmp: { type: 128 } }), 6)?.alternatives[0]).toBe('-p ipv6-icmp -m icmp6 --icmpv6-type 128');
  });

  it('renders negations', () => {
    const m = renderRuleMatch(r({ action: 'Deny', protocol: 'UDP', notProtocol: 'TCP', source: { notSelector: "a == 'b'" }, destination: { notPorts: [53, '60:70'] } }), 4);
    expect(m?.alternatives[0]).toMatch(/^-p udp ! -p tcp -m set ! --match-set cali40s:\S+ src -m multiport ! --destination-ports 53,60:70$/);
  });
});
