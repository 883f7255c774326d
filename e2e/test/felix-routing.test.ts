// Root test: felix (routing) end to end. Three node namespaces on two underlay segments joined
// by the fabric's router, pods as namespaces, felix in each node fed from a real etcd.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { Netlink } from '@tabby/netlink';
import { poll, run } from '@tabby/testkit';
import { startFelixCluster, type FelixCluster, type FelixClusterNode } from '../src/felix-cluster.js';

const isRoot = process.getuid?.() === 0;

/** Whether this kernel can create an ipip device (probed in a scratch namespace of our own). */
function ipipSupported(): { ok: boolean; why: string } {
  const ns = `tbyipip${process.pid}`;
  try {
    execFileSync('ip', ['netns', 'add', ns]);
    execFileSync('ip', ['-n', ns, 'link', 'add', 'tprobe', 'type', 'ipip'], { stdio: 'pipe' });
    return { ok: true, why: '' };
  } catch (e: unknown) {
    return { ok: false, why: String((e as { stderr?: Buffer }).stderr ?? e).trim() };
  } finally {
    execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
  }
}

async function routeLine(n: FelixClusterNode, dst: string): Promise<string> {
  return (await run('ip', ['-n', n.netns.name, 'route', 'show', 'exact', dst])).trim();
}

describe.skipIf(!isRoot)('felix routing end to end (VXLAN, CrossSubnet, drift, restart)', () => {
  let c: FelixCluster;
  let a: FelixClusterNode;
  let b: FelixClusterNode;
  let cc: FelixClusterNode;
  const blockOf = (ip: string): string => `${ip.split('.').slice(0, 3).join('.')}.${Number(ip.split('.')[3]) & ~63}/26`;

  beforeAll(async () => {
    c = await startFelixCluster({ vxlanMode: 'Always' });
    [a, b, cc] = c.nodes as [FelixClusterNode, FelixClusterNode, FelixClusterNode];
  }, 180_000);

  afterAll(async () => {
    await c?.stop();
  });

  it('VXLAN Always: pods ping across nodes on both segments; routes, device and peers as Calico has them', async () => {
    const pa = a.pods[0]!;
    for (const target of [b.pods[0]!, cc.pods[0]!]) await poll(() => c.ping(pa, target.ip), { what: `ping ${pa.ip} → ${target.ip}`, timeout: 20_000 });
    await poll(() => c.ping(cc.pods[0]!, b.pods[0]!.ip), { what: 'ping c → b', timeout: 20_000 });
    expect(await routeLine(a, `${pa.ip}/32`)).toBe(`${pa.ip} dev ${pa.iface} proto 80 scope link`);
    expect(await routeLine(a, blockOf(pa.ip))).toBe(`blackhole ${blockOf(pa.ip)} proto 80`);
    expect(await routeLine(a, blockOf(cc.pods[0]!.ip))).toMatch(/^10\.245\.\d+\.\d+\/26 via 10\.245\.\d+\.\d+ dev vxlan\.calico proto 80 onlink/);
    const vx = await run('ip', ['-n', a.netns.name, '-d', 'link', 'show', 'vxlan.calico']);
    expect(vx).toMatch(/vxlan id 4096 local 10\.201\.0\.1 dev eth0 srcport \d+ \d+ dstport 4789 nolearning/);
    const fdb = await run('bridge', ['-n', a.netns.name, 'fdb', 'show', 'dev', 'vxlan.calico']);
    expect(fdb).toContain('dst 10.201.1.3 self permanent');
    expect((await run('cat', [`/proc/sys/net/ipv4/conf/${pa.iface}/proxy_arp`], { netns: a.netns.name })).trim()).toBe('1');
    expect((await run('cat', [`/proc/sys/net/ipv4/neigh/${pa.iface}/proxy_delay`], { netns: a.netns.name })).trim()).toBe('0');
  });

  it('CrossSubnet: same-segment nodes route directly, the other segment over VXLAN; pings still work', async () => {
    await c.setModes('Never', 'CrossSubnet');
    const bBlock = blockOf(b.pods[0]!.ip);
    await poll(async () => (await routeLine(a, bBlock)) === `${bBlock} via 10.201.0.2 dev eth0 proto 80`, { what: 'direct route to b', timeout: 20_000 });
    expect(await routeLine(a, blockOf(cc.pods[0]!.ip))).toContain('dev vxlan.calico');
    await poll(() => c.ping(a.pods[0]!, b.pods[0]!.ip), { what: 'ping a → b direct', timeout: 20_000 });
    await poll(() => c.ping(a.pods[0]!, cc.pods[0]!.ip), { what: 'ping a → c over vxlan', timeout: 20_000 });
    await c.setModes('Never', 'Always');
    await poll(async () => (await routeLine(a, bBlock)).includes('vxlan.calico'), { what: 'back to vxlan', timeout: 20_000 });
  });

  it('repairs drift made by hand: a pod route, a remote route, an FDB entry, the VXLAN device', async () => {
    const pa = a.pods[0]!;
    const cBlock = blockOf(cc.pods[0]!.ip);
    const ns = a.netns.name;
    await run('ip', ['-n', ns, 'route', 'del', `${pa.ip}/32`]);
    await poll(async () => (await routeLine(a, `${pa.ip}/32`)).includes(pa.iface), { what: 'pod route repaired', timeout: 5000 });
    await run('ip', ['-n', ns, 'route', 'del', cBlock]);
    await poll(async () => (await routeLine(a, cBlock)).includes('vxlan.calico'), { what: 'remote route repaired', timeout: 5000 });
    const fdbLine = (await run('bridge', ['-n', ns, 'fdb', 'show', 'dev', 'vxlan.calico'])).split('\n').find((l) => l.includes('10.201.1.3'))!;
    const mac = fdbLine.split(' ')[0]!;
    await run('bridge', ['-n', ns, 'fdb', 'del', mac, 'dev', 'vxlan.calico', 'dst', '10.201.1.3']);
    await poll(async () => (await run('bridge', ['-n', ns, 'fdb', 'show', 'dev', 'vxlan.calico'])).includes('dst 10.201.1.3'), { what: 'fdb entry repaired', timeout: 5000 });
    await run('ip', ['-n', ns, 'link', 'del', 'vxlan.calico']);
    await poll(async () => (await routeLine(a, cBlock)).includes('vxlan.calico'), { what: 'device and its routes repaired', timeout: 5000 });
    await poll(() => c.ping(pa, cc.pods[0]!.ip), { what: 'ping after repair', timeout: 10_000 });
  });

  it('kill -9 and restart under a continuous ping: no packet lost, no route deleted or re-added', async () => {
    const pa = a.pods[0]!;
    const target = cc.pods[0]!.ip;
    await poll(() => c.ping(pa, target), { what: 'ping before restart', timeout: 10_000 });
    const monitor = c.net.spawn(a.netns, 'ip', ['monitor', 'route']);
    const pinger = c.net.spawn(pa.netns, 'ping', ['-i', '0.02', '-c', '250', '-W', '1', target]);
    await poll(() => /icmp_seq=20 /.test(pinger.output), { what: 'ping running', timeout: 10_000 });
    process.kill(a.felix!.pid, 'SIGKILL');
    await a.felix!.exited;
    await c.startFelix(a);
    const done = await pinger.exited;
    expect(pinger.output, `ip monitor route meanwhile:\n${monitor.output}`).toMatch(/250 packets transmitted, 250 received, 0% packet loss/);
    expect(done.code).toBe(0);
    await monitor.stop('SIGTERM', 1000);
    const changes = monitor.output.split('\n').filter((l) => l.includes('proto 80') || l.startsWith('Deleted'));
    expect(changes).toEqual([]);
  });

  it('BGP fallback: a no-encap pool without BGP is carried over VXLAN from the datastore', async () => {
    await c.setModes('Never', 'Never');
    const cBlock = blockOf(cc.pods[0]!.ip);
    await poll(async () => (await routeLine(a, cBlock)) === '', { what: 'no route without BGP', timeout: 20_000 });
    expect(await c.ping(a.pods[0]!, cc.pods[0]!.ip)).toBe(false);
    for (const n of [a, cc]) {
      await n.felix!.stop('SIGTERM', 5000);
      await c.startFelix(n, ['--bgp-disabled']);
    }
    await poll(async () => (await routeLine(a, cBlock)).includes('dev vxlan.calico'), { what: 'fallback route over vxlan', timeout: 20_000 });
    await poll(() => c.ping(a.pods[0]!, cc.pods[0]!.ip), { what: 'ping over the fallback tunnel', timeout: 20_000 });
    await c.setModes('Never', 'Always');
  });

  it('IPIP end to end where the kernel has the ipip module', async (ctx) => {
    const probe = ipipSupported();
    if (!probe.ok) {
      console.log(`skipping IPIP end to end: this kernel cannot create an ipip device (${probe.why}); IPIP is covered by byte-level netlink tests and the graph's tests`);
      ctx.skip();
    }
    await c.setModes('Always', 'Never');
    const nl = await Netlink.open({ netns: a.netns.name });
    try {
      await poll(async () => (await nl.links.find('tunl0'))?.up === true, { what: 'tunl0 up', timeout: 20_000 });
    } finally {
      nl.close();
    }
    await c.setModes('Never', 'Always');
  });
});
