/**
 * Drift on a real node namespace, for both iptables backends: another writer flushes one of our
 * chains, deletes a hook rule, reloads the whole filter table, or deletes an ipset member; the
 * periodic read-back repairs each within seconds, and kube-proxy's KUBE-* chains and rules are
 * left as they were. IPv6 chains are programmed alongside.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { poll } from '@tabby/testkit';
import { ChainName, type IptablesBackend } from '@tabby/felix';
import { PolicyLab } from './lab.js';
import { np } from './fixtures.js';

describe.each(['nft', 'legacy'] as IptablesBackend[])('drift repair (%s)', (backend) => {
  let lab: PolicyLab;
  const ipt = (v: 4 | 6 = 4): string => `${v === 4 ? 'iptables' : 'ip6tables'}-${backend}`;
  const save = (table = 'filter', v: 4 | 6 = 4): Promise<string> => lab.node.exec(`${ipt(v)}-save`, '-t', table);

  beforeAll(async () => {
    lab = await PolicyLab.create({
      backend,
      pods: [
        { ns: 'x', pod: 'a', ip: '10.65.0.1', labels: { pod: 'a' } },
        { ns: 'x', pod: 'b', ip: '10.65.0.2', labels: { pod: 'b' } },
      ],
      namespaces: { x: {} },
      config: { ipv6Support: true },
      repairIntervalMs: 300,
    });
    // kube-proxy's rules: they must survive every repair.
    await lab.node.exec(ipt(), '-N', 'KUBE-FORWARD');
    await lab.node.exec(ipt(), '-A', 'KUBE-FORWARD', '-m', 'comment', '--comment', 'kube', '-j', 'RETURN');
    await lab.node.exec(ipt(), '-A', 'FORWARD', '-j', 'KUBE-FORWARD');
    await lab.apply({ type: 'policy-update', policy: np('x', 'only-b', { selector: "pod == 'a'", ingress: [{ action: 'Allow', source: { selector: "pod == 'b'" } }] }) });
  });
  afterAll(async () => lab?.cleanup());

  const twA = (): string => ChainName.toWorkload(lab.pods.get('x/a')?.iface ?? '');
  const reachable = async (): Promise<boolean> => (await lab.probe([{ from: 'x/b', to: 'x/a', port: 80, proto: 'tcp' }]))[0] === true;
  const kubeIntact = async (): Promise<void> => {
    const s = await save();
    expect(s).toContain('-A KUBE-FORWARD -m comment --comment kube -j RETURN');
    expect(s).toContain('-A FORWARD -j KUBE-FORWARD');
  };

  it('programs IPv4 and IPv6 chains and leaves KUBE-* alone', async () => {
    expect(await save()).toContain(`:${twA()} -`);
    expect(await save('filter', 6)).toContain(`:${twA()} -`);
    expect(await reachable()).toBe(true);
    await kubeIntact();
  });

  it('a flushed endpoint chain is rewritten', async () => {
    await lab.node.exec(ipt(), '-F', twA());
    await poll(async () => (await save()).includes(`-A ${twA()} `), { what: 'chain repaired', timeout: 15_000 });
    expect(await reachable()).toBe(true);
    await kubeIntact();
  });

  it('a deleted hook rule is put back', async () => {
    const hook = (await save()).split('\n').find((l) => l.startsWith('-A FORWARD') && l.includes('cali-FORWARD'));
    expect(hook).toBeDefined();
    await lab.node.exec(ipt(), ...(hook ?? '').replace(/^-A/, '-D').match(/"[^"]*"|\S+/g)!.map((t) => t.replace(/^"|"$/g, '')));
    await poll(async () => (await save()).includes('-j cali-FORWARD'), { what: 'hook repaired', timeout: 15_000 });
    await kubeIntact();
  });

  it('a hook pushed down by a rule inserted above it goes back to the top', async () => {
    await lab.node.exec(ipt(), '-I', 'FORWARD', '1', '-j', 'KUBE-FORWARD');
    const first = async (): Promise<string | undefined> => (await save()).split('\n').find((l) => l.startsWith('-A FORWARD'));
    await poll(async () => (await first())?.includes('cali-FORWARD'), { what: 'hook back on top', timeout: 15_000 });
    await lab.node.exec(ipt(), '-D', 'FORWARD', '-j', 'KUBE-FORWARD');
    await kubeIntact();
  });

  it('a reload of the whole table by another writer is repaired', async () => {
    await lab.node.exec('sh', '-c', `printf '*filter\\n:INPUT ACCEPT [0:0]\\n:FORWARD ACCEPT [0:0]\\n:OUTPUT ACCEPT [0:0]\\n:KUBE-FORWARD - [0:0]\\n-A FORWARD -j KUBE-FORWARD\\n-A KUBE-FORWARD -m comment --comment kube -j RETURN\\nCOMMIT\\n' | ${ipt()}-restore`);
    expect(await save()).not.toContain('cali-');
    await poll(async () => (await save()).includes(`-A ${twA()} `) && (await save()).includes('-j cali-FORWARD'), { what: 'table repaired', timeout: 15_000 });
    expect(await reachable()).toBe(true);
    await kubeIntact();
  });

  it('a deleted ipset member is re-added', async () => {
    const sets = await lab.node.exec('ipset', 'save');
    const line = sets.split('\n').find((l) => l.startsWith('add cali40s:') && l.endsWith(' 10.65.0.2'));
    expect(line).toBeDefined();
    const name = line?.split(' ')[1] ?? '';
    await lab.node.exec('ipset', 'del', name, '10.65.0.2');
    await poll(async () => (await lab.node.exec('ipset', 'save')).includes(`add ${name} 10.65.0.2`), { what: 'member repaired', timeout: 15_000 });
    expect(await reachable()).toBe(true);
  });
});
