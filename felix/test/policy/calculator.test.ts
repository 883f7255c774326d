import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ChainName, PolicyCalculator, namespaceProfile, ruleBody, type DesiredPolicyState, type PolicyEvent } from '@tabby/felix';
import { iface, np, wep } from './fixtures.js';

function dump(d: DesiredPolicyState): unknown {
  const fam = (f: DesiredPolicyState['v4']): unknown => ({
    filter: [...(f.tables.filter?.chains.values() ?? [])].map((c) => [c.name, c.rules.map(ruleBody)]).sort(),
    nat: [...(f.tables.nat?.chains.values() ?? [])].map((c) => [c.name, c.rules.map(ruleBody)]).sort(),
    sets: [...f.ipsets.values()].map((s) => [s.name, s.type, [...s.members].sort()]).sort(),
  });
  return { v4: fam(d.v4), v6: d.v6 ? fam(d.v6) : undefined };
}

const events: PolicyEvent[] = [
  { type: 'profile-update', profile: namespaceProfile('x', { ns: 'x' }) },
  { type: 'profile-update', profile: namespaceProfile('y', { ns: 'y' }) },
  { type: 'endpoint-update', endpoint: wep('x', 'a', '10.65.0.1', { pod: 'a' }) },
  { type: 'endpoint-update', endpoint: wep('x', 'b', '10.65.0.2', { pod: 'b' }, { ports: [{ name: 'http', protocol: 'TCP', port: 80 }] }) },
  { type: 'endpoint-update', endpoint: wep('y', 'a', '10.65.1.1', { pod: 'a' }, { node: 'node2' }) },
  { type: 'policy-update', policy: np('x', 'allow-a', { selector: "pod == 'b'", ingress: [{ action: 'Allow', protocol: 'TCP', source: { selector: "pod == 'a'" }, destination: { ports: ['http', 81] } }] }) },
  { type: 'k8s-policy-update', policy: { metadata: { name: 'deny-y', namespace: 'y' }, spec: { podSelector: {}, ingress: [] } } },
  { type: 'pool-update', pool: { apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name: 'p' }, spec: { cidr: '10.65.0.0/16', blockSize: 26, ipipMode: 'Never', vxlanMode: 'Never', natOutgoing: true, disabled: false, disableBGPExport: false, nodeSelector: 'all()', allowedUses: ['Workload'] } } },
];

describe('PolicyCalculator', () => {
  it('renders Calico chain layout for local endpoints only', () => {
    const calc = new PolicyCalculator({ nodeName: 'node1' });
    for (const e of events) calc.onEvent(e);
    const d = calc.desired();
    const chains = d.v4.tables.filter?.chains;
    expect(chains?.has(ChainName.toWorkload(iface('x', 'a')))).toBe(true);
    expect(chains?.has(ChainName.toWorkload(iface('y', 'a')))).toBe(false);
    for (const name of chains?.keys() ?? []) expect(name.length).toBeLessThanOrEqual(28);
    const tw = chains?.get(ChainName.toWorkload(iface('x', 'b')));
    const text = tw?.rules.map(ruleBody) ?? [];
    expect(text[0]).toContain('--ctstate RELATED,ESTABLISHED');
    expect(text[1]).toContain('--ctstate INVALID');
    expect(text.some((t) => t.includes(ChainName.policyIn('default/x/allow-a')))).toBe(true);
    expect(text.some((t) => t.includes('cali-pri-kns.x'))).toBe(true);
    expect(text.at(-1)).toContain('-j DROP');
    const pi = chains?.get(ChainName.policyIn('default/x/allow-a'));
    const piText = pi?.rules.map(ruleBody).join('\n') ?? '';
    expect(piText).toMatch(/-m set --match-set cali40s:\S+ src/);
    expect(piText).toMatch(/-m multiport --destination-ports 81/);
    expect(piText).toMatch(/-m set --match-set cali40n:\S+ dst,dst/);
    const sets = [...d.v4.ipsets.values()];
    const sel = sets.find((s) => s.type === 'hash:ip');
    expect([...(sel?.members ?? [])]).toEqual(['10.65.0.1']);
    const named = sets.find((s) => s.type === 'hash:ip,port');
    expect([...(named?.members ?? [])]).toEqual(['10.65.0.2,tcp:80']);
    expect(d.v4.ipsets.get('cali40masq-ipam-pools')?.members.has('10.65.0.0/16')).toBe(true);
    for (const s of sets) expect(s.name.length).toBeLessThanOrEqual(31);
    const nat = d.v4.tables.nat?.chains.get(ChainName.natOutgoing)?.rules.map(ruleBody).join('\n');
    expect(nat).toContain('MASQUERADE');
  });

  it('gives the same desired state for any event order', () => {
    const ref = new PolicyCalculator({ nodeName: 'node1' });
    for (const e of events) ref.onEvent(e);
    const want = dump(ref.desired());
    fc.assert(
      fc.property(fc.shuffledSubarray(events, { minLength: events.length, maxLength: events.length }), fc.boolean(), (order, mid) => {
        const c = new PolicyCalculator({ nodeName: 'node1' });
        order.forEach((e, i) => {
          c.onEvent(e);
          if (mid && i % 3 === 0) c.desired();
        });
        expect(dump(c.desired())).toEqual(want);
      }),
      { seed: 42, numRuns: 60 },
    );
  });

  it('removing everything leaves only the fixed chains and sets', () => {
    const c = new PolicyCalculator({ nodeName: 'node1' });
    for (const e of events) c.onEvent(e);
    c.desired();
    c.onEvent({ type: 'endpoint-remove', namespace: 'x', name: 'node1-k8s-a-eth0' });
    c.onEvent({ type: 'endpoint-remove', namespace: 'x', name: 'node1-k8s-b-eth0' });
    const d = c.desired();
    const names = [...(d.v4.tables.filter?.chains.keys() ?? [])].sort();
    expect(names).toEqual(['cali-FORWARD', 'cali-INPUT', 'cali-OUTPUT', 'cali-from-wl-dispatch', 'cali-to-wl-dispatch', 'cali-wl-to-host']);
    expect([...d.v4.ipsets.keys()].every((n) => !n.startsWith('cali40s:') && !n.startsWith('cali40n:'))).toBe(true);
  });

  it('lets IPv6 neighbour discovery from pods reach the host before any policy (v6 only)', () => {
    const c = new PolicyCalculator({ nodeName: 'node1' });
    c.onEvent({ type: 'endpoint-update', endpoint: wep('x', 'a', '10.65.0.1') });
    const d = c.desired();
    const v6 = d.v6?.tables.filter?.chains.get('cali-wl-to-host')?.rules.map((r) => `${r.match ?? ''} ${r.target}`) ?? [];
    expect(v6.slice(0, 6)).toEqual([130, 131, 132, 133, 135, 136].map((t) => `-p ipv6-icmp -m icmp6 --icmpv6-type ${t} -j ACCEPT`));
    expect(d.v4.tables.filter?.chains.get('cali-wl-to-host')?.rules.some((r) => r.match?.includes('icmp6'))).toBe(false);
  });

  it('splits dispatch chains by interface prefix as endpoints grow', () => {
    const c = new PolicyCalculator({ nodeName: 'node1', config: { dispatchSplitThreshold: 4 } });
    for (let i = 0; i < 40; i++) c.onEvent({ type: 'endpoint-update', endpoint: wep('x', `p${i}`, `10.65.0.${i + 1}`) });
    const chains = c.desired().v4.tables.filter?.chains;
    const root = chains?.get('cali-from-wl-dispatch');
    expect(root?.rules.some((r) => r.target.startsWith('-g cali-from-wl-dispatch-'))).toBe(true);
    for (const [name, ch] of chains ?? []) if (name.includes('dispatch')) expect(ch.rules.at(-1)?.target).toBe('-j DROP');
  });

  it('reports invalid input and keeps going', () => {
    const c = new PolicyCalculator({ nodeName: 'node1' });
    c.onEvent({ type: 'policy-update', policy: np('x', 'bad', { selector: 'a ==' }) });
    expect(c.inputProblems()[0]?.resource).toBe('NetworkPolicy/x/bad');
    c.onEvent({ type: 'policy-update', policy: np('x', 'bad', { selector: 'all()' }) });
    expect(c.inputProblems()).toEqual([]);
  });

  it('keeps unchanged chains by reference across a new endpoint', () => {
    const c = new PolicyCalculator({ nodeName: 'node1' });
    for (const e of events) c.onEvent(e);
    const d1 = c.desired();
    c.onEvent({ type: 'endpoint-update', endpoint: wep('x', 'c', '10.65.0.3', { pod: 'c' }) });
    const d2 = c.desired();
    const tw = ChainName.toWorkload(iface('x', 'a'));
    expect(d2.v4.tables.filter?.chains.get(tw)).toBe(d1.v4.tables.filter?.chains.get(tw));
    expect(d2.generation).toBeGreaterThan(d1.generation);
  });

  it('a change of set members only (remote endpoint) is a new generation', () => {
    const c = new PolicyCalculator({ nodeName: 'node1' });
    for (const e of events) c.onEvent(e);
    const d1 = c.desired();
    expect(c.desired()).toBe(d1);
    c.onEvent({ type: 'endpoint-update', endpoint: wep('y', 'z', '10.65.1.9', { pod: 'a' }, { node: 'node3' }) });
    const d2 = c.desired();
    expect(d2.generation).toBe(d1.generation); // selects nothing of ours: nothing to write
    const sel = [...d2.v4.ipsets.values()].find((s) => s.type === 'hash:ip');
    expect(sel?.members.has('10.65.1.9')).toBe(false);
    c.onEvent({ type: 'endpoint-update', endpoint: wep('x', 'z', '10.65.0.9', { pod: 'a' }, { node: 'node3' }) });
    const d3 = c.desired();
    expect(d3.generation).toBeGreaterThan(d2.generation);
    expect([...d3.v4.ipsets.values()].find((s) => s.type === 'hash:ip')?.members.has('10.65.0.9')).toBe(true);
  });

  it('tunnel rules in cali-INPUT: IPIP and VXLAN only from known hosts', () => {
    const c = new PolicyCalculator({ nodeName: 'node1', config: { ipipEnabled: true, vxlanEnabled: true, ipv6Support: false } });
    c.onEvent({ type: 'host-update', node: 'node2', addresses: ['172.16.0.2'] });
    const d = c.desired();
    const input = d.v4.tables.filter?.chains.get('cali-INPUT')?.rules.map(ruleBody) ?? [];
    expect(input[0]).toMatch(/-p ipencap -m set --match-set cali40all-hosts-net src -m addrtype --dst-type LOCAL -j ACCEPT/);
    expect(input[1]).toMatch(/-p ipencap -j DROP/);
    expect(input[2]).toMatch(/--dport 4789 -m set --match-set cali40all-vxlan-net src .* -j ACCEPT/);
    expect([...(d.v4.ipsets.get('cali40all-hosts-net')?.members ?? [])]).toEqual(['172.16.0.2']);
    c.onEvent({ type: 'host-update', node: 'node3', addresses: ['172.16.0.3'] });
    const d2 = c.desired();
    expect(d2.generation).toBeGreaterThan(d.generation);
    expect(d2.v4.ipsets.get('cali40all-hosts-net')?.members.size).toBe(2);
  });
});
