/**
 * The ipset driver and backend detection on a real network namespace: sets created and filled
 * in one session, a set resized through a temporary set and swap while an iptables rule uses
 * it, foreign sets left alone, our unreferenced sets destroyed; kubelet's hint chain deciding
 * the backend.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestNet, type Netns } from '@tabby/testkit';
import { IpsetDriver, detectBackend, netnsRunner, type IpSetState } from '@tabby/felix';

const set = (name: string, members: string[], type: IpSetState['type'] = 'hash:ip'): IpSetState => ({ name, type, family: 4, members: new Set(members) });

describe('ipsets and backend detection in a namespace', () => {
  let net: TestNet;
  let ns: Netns;
  beforeAll(async () => {
    net = new TestNet();
    ns = await net.netns('s');
  });
  afterAll(async () => net?.cleanup());

  it('creates, fills, resizes by swap under a referencing rule, and destroys only our sets', async () => {
    await ns.exec('ipset', 'create', 'foreign', 'hash:ip');
    const drv = new IpsetDriver({ runner: netnsRunner(ns.name) }, { maxelem: 4 });
    const small = set('cali40s:test', ['10.0.0.1', '10.0.0.2']);
    const st1 = await drv.applyAdds([small, set('cali40s:other', ['10.0.0.9'])]);
    expect(st1.created).toBe(2);
    await ns.exec('iptables-nft', '-A', 'INPUT', '-m', 'set', '--match-set', 'cali40s:test', 'src', '-j', 'ACCEPT');
    const big = set('cali40s:test', Array.from({ length: 10 }, (_, i) => `10.0.0.${i + 1}`));
    const st2 = await drv.applyAdds([big]);
    expect(st2.swapped).toBe(1);
    const saved = await ns.exec('ipset', 'save', 'cali40s:test');
    expect(saved).toMatch(/maxelem 10\b/);
    expect(saved.split('\n').filter((l) => l.startsWith('add ')).length).toBe(10);
    const st3 = await drv.applyDeletes([big]);
    expect(st3.destroyed).toBe(1);
    const names = (await ns.exec('ipset', 'list', '-n')).split('\n').filter(Boolean).sort();
    expect(names).toEqual(['cali40s:test', 'foreign']);
    await ns.exec('iptables-nft', '-F', 'INPUT');
  });

  it('detects the backend from the kubelet hint chain', async () => {
    expect((await detectBackend(netnsRunner(ns.name))).backend).toBe('nft');
    await ns.exec('iptables-legacy', '-t', 'mangle', '-N', 'KUBE-IPTABLES-HINT');
    expect(await detectBackend(netnsRunner(ns.name))).toMatchObject({ backend: 'legacy' });
  });

  it('refuses to run without a namespace', () => {
    expect(() => netnsRunner('')).toThrow(/root namespace/);
  });
});
