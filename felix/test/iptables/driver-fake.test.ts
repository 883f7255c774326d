import { describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { FakeKernel, IptablesDriver, PolicyCalculator, PolicyDataplane, createPolicyMetrics, detectBackend, namespaceProfile, ChainName } from '@tabby/felix';
import { iface, np, wep } from '../policy/fixtures.js';

function calc(): PolicyCalculator {
  const c = new PolicyCalculator({ nodeName: 'node1', config: { ipv6Support: false } });
  c.onEvent({ type: 'profile-update', profile: namespaceProfile('x') });
  c.onEvent({ type: 'endpoint-update', endpoint: wep('x', 'a', '10.65.0.1', { app: 'a' }) });
  c.onEvent({ type: 'policy-update', policy: np('x', 'p', { selector: 'all()', ingress: [{ action: 'Allow', source: { selector: "app == 'a'" } }] }) });
  return c;
}

describe('IptablesDriver on the fake kernel', () => {
  it('writes everything once, then nothing, then only what changed; never touches KUBE chains', async () => {
    const k = new FakeKernel();
    k.table('nft/4', 'filter').set('KUBE-FORWARD', ['-j ACCEPT']);
    k.table('nft/4', 'filter').get('FORWARD')?.push('-j KUBE-FORWARD');
    const c = calc();
    const drv = new IptablesDriver({ family: 4, backend: 'nft' }, { runner: k });
    const s1 = await drv.apply(c.desired().v4.tables);
    expect(s1.chainsWritten).toBeGreaterThan(5);
    expect(s1.hooksAdded).toBe(4);
    const s2 = await drv.apply(c.desired().v4.tables);
    expect(s2.chainsWritten + s2.hooksAdded + s2.bytes).toBe(0);
    c.onEvent({ type: 'endpoint-update', endpoint: wep('x', 'b', '10.65.0.2', { app: 'b' }) });
    const s3 = await drv.apply(c.desired().v4.tables);
    // the new endpoint's two chains + both dispatch chains, in one restore
    expect(s3.chainsWritten).toBe(4);
    const last = k.calls.at(-1);
    expect(last?.input).toContain(ChainName.toWorkload(iface('x', 'b')));
    expect(last?.input).toContain('cali-to-wl-dispatch');
    expect(last?.input).not.toContain('KUBE');
    expect(k.table('nft/4', 'filter').get('KUBE-FORWARD')).toEqual(['-j ACCEPT']);
    expect(k.table('nft/4', 'filter').get('FORWARD')?.at(-1)).toBe('-j KUBE-FORWARD');
  });

  it('repairs a flushed chain and a deleted hook on read-back', async () => {
    const k = new FakeKernel();
    const c = calc();
    const drv = new IptablesDriver({ family: 4, backend: 'legacy' }, { runner: k });
    await drv.apply(c.desired().v4.tables);
    k.flushChain('legacy/4', 'filter', ChainName.toWorkload(iface('x', 'a')));
    k.deleteRule('legacy/4', 'filter', 'FORWARD', /cali-FORWARD/);
    const s = await drv.apply(c.desired().v4.tables, { readBack: true });
    expect(s.chainsWritten).toBe(1);
    expect(s.hooksAdded).toBe(1);
    expect(k.table('legacy/4', 'filter').get('FORWARD')?.[0]).toContain('-j cali-FORWARD');
  });

  it('in Insert mode a hook pushed down by another writer goes back to the top', async () => {
    const k = new FakeKernel();
    const c = calc();
    const drv = new IptablesDriver({ family: 4, backend: 'nft' }, { runner: k });
    await drv.apply(c.desired().v4.tables);
    k.table('nft/4', 'filter').set('KUBE-FORWARD', []);
    k.table('nft/4', 'filter').get('FORWARD')?.unshift('-j KUBE-FORWARD');
    const s = await drv.apply(c.desired().v4.tables, { readBack: true });
    expect(s).toMatchObject({ hooksAdded: 1, hooksDeleted: 1, chainsWritten: 0 });
    expect(k.table('nft/4', 'filter').get('FORWARD')).toEqual([expect.stringContaining('-j cali-FORWARD'), '-j KUBE-FORWARD']);
    const again = await drv.apply(c.desired().v4.tables, { readBack: true });
    expect(again.hooksAdded + again.hooksDeleted).toBe(0);
  });

  it('after a failed restore, reads back and converges', async () => {
    const k = new FakeKernel();
    const c = calc();
    const drv = new IptablesDriver({ family: 4, backend: 'nft' }, { runner: k });
    k.failNext(/restore/, 'iptables-restore: line 3 failed');
    await expect(drv.apply(c.desired().v4.tables)).rejects.toMatchObject({ code: 'restore-failed' });
    const s = await drv.apply(c.desired().v4.tables);
    expect(s.readBack).toBe(true);
    expect(s.chainsWritten).toBeGreaterThan(5);
  });

  it('detects the backend from kubelet hint chains, then rule counts', async () => {
    const k = new FakeKernel();
    k.table('legacy/4', 'mangle').set('KUBE-IPTABLES-HINT', []);
    expect((await detectBackend(k)).backend).toBe('legacy');
    const k2 = new FakeKernel();
    k2.table('legacy/4', 'filter').get('INPUT')?.push('-j ACCEPT');
    expect((await detectBackend(k2)).backend).toBe('legacy');
    expect((await detectBackend(new FakeKernel())).backend).toBe('nft');
  });
});

describe('PolicyDataplane on the fake kernel', () => {
  it('syncs ipsets before rules, repairs drift, removes unreferenced sets after rules', async () => {
    const k = new FakeKernel();
    const reg = new Registry();
    const dp = new PolicyDataplane({ nodeName: 'node1', config: { ipv6Support: false }, backend: 'nft', repairIntervalMs: 0 }, { runner: k, metrics: createPolicyMetrics(reg) });
    for (const ev of [
      { type: 'profile-update', profile: namespaceProfile('x') },
      { type: 'endpoint-update', endpoint: wep('x', 'a', '10.65.0.1', { app: 'a' }) },
      { type: 'policy-update', policy: np('x', 'p', { selector: 'all()', ingress: [{ action: 'Allow', source: { selector: "app == 'a'" } }] }) },
    ] as const) dp.onEvent(ev);
    await dp.start();
    const sel = [...k.sets.keys()].find((n) => n.startsWith('cali40s:'));
    expect(sel).toBeDefined();
    expect([...(k.sets.get(sel ?? '')?.members ?? [])]).toEqual(['10.65.0.1']);
    k.delMember(sel ?? '', '10.65.0.1');
    await dp.repair();
    expect([...(k.sets.get(sel ?? '')?.members ?? [])]).toEqual(['10.65.0.1']);
    dp.onEvent({ type: 'policy-remove', kind: 'NetworkPolicy', namespace: 'x', name: 'p' });
    await dp.flush();
    expect(k.sets.has(sel ?? '')).toBe(false);
    const text = await reg.metrics();
    expect(text).toMatch(/tabby_felix_policy_repairs_total\{what="ipsets"\} 1/);
    await dp.stop();
  });

  it('a failed sync is followed by a working one (read back, full diff)', async () => {
    const k = new FakeKernel();
    const dp = new PolicyDataplane({ nodeName: 'node1', config: { ipv6Support: false }, backend: 'legacy', repairIntervalMs: 0, retryMs: 60_000 }, { runner: k });
    dp.onEvent({ type: 'profile-update', profile: namespaceProfile('x') });
    dp.onEvent({ type: 'endpoint-update', endpoint: wep('x', 'a', '10.65.0.1', { app: 'a' }) });
    await dp.start();
    k.failNext(/iptables-legacy-restore/, 'line 7 failed');
    dp.calculator.onEvent({ type: 'policy-update', policy: np('x', 'p', { selector: 'all()', ingress: [{ action: 'Deny' }] }) });
    await expect(dp.flush()).rejects.toMatchObject({ code: 'restore-failed' });
    dp.calculator.onEvent({ type: 'policy-remove', kind: 'NetworkPolicy', namespace: 'x', name: 'p' });
    dp.calculator.onEvent({ type: 'policy-update', policy: np('x', 'q', { selector: 'all()', ingress: [{ action: 'Deny' }] }) });
    const r = await dp.flush();
    expect(r.iptables[4]?.readBack).toBe(true);
    expect(k.table('legacy/4', 'filter').has(ChainName.policyIn('default/x/q'))).toBe(true);
    expect(k.table('legacy/4', 'filter').has(ChainName.policyIn('default/x/p'))).toBe(false);
    await dp.stop();
  });

  it('a burst of events costs a couple of syncs, and a remote endpoint reaches the sets', async () => {
    const k = new FakeKernel();
    const dp = new PolicyDataplane({ nodeName: 'node1', config: { ipv6Support: false }, backend: 'nft', repairIntervalMs: 0 }, { runner: k });
    dp.onEvent({ type: 'profile-update', profile: namespaceProfile('x') });
    dp.onEvent({ type: 'policy-update', policy: np('x', 'p', { selector: 'all()', ingress: [{ action: 'Allow', source: { selector: "app == 'a'" } }] }) });
    await dp.start();
    const before = k.calls.filter((c) => c.cmd.endsWith('-restore')).length;
    for (let i = 0; i < 100; i++) dp.onEvent({ type: 'endpoint-update', endpoint: wep('x', `p${i}`, `10.65.0.${i + 1}`, { app: 'b' }) });
    await dp.flush();
    expect(k.calls.filter((c) => c.cmd.endsWith('-restore')).length - before).toBeLessThanOrEqual(2);
    expect(k.table('nft/4', 'filter').size).toBeGreaterThan(200);
    dp.onEvent({ type: 'endpoint-update', endpoint: wep('x', 'remote', '10.65.9.9', { app: 'a' }, { node: 'node2' }) });
    await dp.flush();
    const sel = [...k.sets.entries()].find(([n]) => n.startsWith('cali40s:'));
    expect([...(sel?.[1].members ?? [])]).toEqual(['10.65.9.9']);
    await dp.stop();
  });
});
