// Root test: IPv6 VXLAN end to end. tabby-node on three dual-stack nodes (two on one segment,
// one on another) with an IPv6 pool whose vxlanMode is Always, then CrossSubnet: every node gets
// an IPv6 VTEP (ipv6VXLANTunnelAddr) and vxlan-v6.calico, and pods ping6 across nodes over it,
// also while a node's agent is killed and restarts.
// Then the IPv6 pool goes BGP-only (Never) and BGP is blocked — on one node's firewall within a
// segment, and at the router between segments: the automatic fallback moves the unreachable
// nodes' IPv6 blocks onto vxlan-v6.calico, pings answer, and once BGP is back (after the hold)
// the same-segment block returns to its BGP route without losing a ping.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IPPool, Node } from '@tabby/api';
import { poll, run } from '@tabby/testkit';
import { Fabric } from '../src/fabric.js';
import { startNodeCluster, type AgentNode, type ClusterPod, type NodeCluster } from '../src/node-cluster.js';
import { ContinuousPing, routeTo } from '../src/probe.js';

const isRoot = process.getuid?.() === 0;

describe.skipIf(!isRoot)('IPv6 VXLAN: vxlan-v6.calico for an IPv6 pool, and the IPv6 side of the BGP fallback', () => {
  let c: NodeCluster;
  let pods: ClusterPod[];
  let n1: AgentNode, n2: AgentNode, n3: AgentNode;
  let p1: ClusterPod, p2: ClusterPod, p3: ClusterPod;
  /** A node's IPv6 VTEP address, from its Node. */
  const vtep6 = async (n: AgentNode): Promise<string> => (await c.store.get<Node>({ kind: 'Node', name: n.name })).spec.ipv6VXLANTunnelAddr ?? '';
  /** The IPv6 block affine to a node (one pod each: one block). */
  const block6 = async (n: AgentNode): Promise<string> => (await c.ipam.blocksForNode(n.name)).find((b) => b.includes(':'))!;
  const setMode6 = async (mode: 'Always' | 'CrossSubnet' | 'Never'): Promise<void> => {
    const pool = await c.store.get<IPPool>({ kind: 'IPPool', name: 'default-ipv6-ippool' });
    await c.store.update({ ...pool, spec: { ...pool.spec, vxlanMode: mode } });
  };
  const ping6 = async (a: ClusterPod, b: ClusterPod): Promise<void> => {
    await poll(() => c.ping(a, b.ip6!), { what: `ping6 ${a.name} → ${b.name}`, timeout: 30_000 });
  };

  beforeAll(async () => {
    c = await startNodeCluster({ layout: [2, 1], ipv6: true, poolEnv: { CALICO_IPV6POOL_VXLAN: 'Always' } });
    [n1, n2, n3] = c.nodes as [AgentNode, AgentNode, AgentNode];
    pods = await Promise.all(c.nodes.map((n, i) => c.addPod(n, 'default', `pod${i + 1}`)));
    [p1, p2, p3] = pods as [ClusterPod, ClusterPod, ClusterPod];
  }, 240_000);

  afterAll(async () => {
    await c?.stop();
  });

  it('Always: IPv6 VTEPs on every node, vxlan-v6.calico as Calico has it, ping6 across nodes and segments over it', async () => {
    for (const n of c.nodes) {
      const node = await c.store.get<Node>({ kind: 'Node', name: n.name });
      expect(node.spec.ipv6VXLANTunnelAddr).toMatch(/^fd00:248:/);
      expect(node.spec.vxlanTunnelMACAddrV6).toMatch(/^66(:[0-9a-f]{2}){5}$/);
    }
    for (const [a, b] of [[p1, p2], [p1, p3], [p3, p2]] as const) await ping6(a, b);
    for (const n of [n2, n3]) {
      const dst = await block6(n);
      expect(await routeTo(n1, dst)).toMatch(new RegExp(`^${dst} via ${await vtep6(n)} dev vxlan-v6\\.calico proto 80 .*onlink`));
    }
    const ns = n1.netns.name;
    expect(await run('ip', ['-n', ns, '-d', 'link', 'show', 'vxlan-v6.calico'])).toMatch(new RegExp(`mtu 1430 .*vxlan id 4096 local ${n1.ip6} dev eth0 .*dstport 4789 nolearning`, 's'));
    expect(await run('ip', ['-n', ns, '-6', 'addr', 'show', 'dev', 'vxlan-v6.calico'])).toContain(`inet6 ${await vtep6(n1)}/128 scope global`);
    const fdb = await run('bridge', ['-n', ns, 'fdb', 'show', 'dev', 'vxlan-v6.calico']);
    for (const n of [n2, n3]) expect(fdb).toContain(`dst ${n.ip6} self permanent`);
    const ndp = await run('ip', ['-n', ns, '-6', 'neigh', 'show', 'dev', 'vxlan-v6.calico']);
    const v3 = await vtep6(n3);
    expect(ndp).toMatch(new RegExp(`${v3} lladdr [0-9a-f:]{17} PERMANENT`));
    // Drift made by hand is repaired from the notifications: the NDP entry, then the FDB entry.
    const mac3 = new RegExp(`${v3} lladdr ([0-9a-f:]{17})`).exec(ndp)![1]!;
    const show = (what: 'neigh' | 'fdb'): Promise<string> => (what === 'neigh' ? run('ip', ['-n', ns, '-6', 'neigh', 'show', 'dev', 'vxlan-v6.calico']) : run('bridge', ['-n', ns, 'fdb', 'show', 'dev', 'vxlan-v6.calico']));
    await run('ip', ['-n', ns, '-6', 'neigh', 'del', v3, 'dev', 'vxlan-v6.calico']);
    await poll(async () => (await show('neigh')).includes(`${v3} lladdr ${mac3} PERMANENT`), { what: 'NDP entry repaired', timeout: 10_000 });
    await run('bridge', ['-n', ns, 'fdb', 'del', mac3, 'dev', 'vxlan-v6.calico', 'dst', n3.ip6]);
    await poll(async () => (await show('fdb')).includes(`${mac3} dst ${n3.ip6} self permanent`), { what: 'FDB entry repaired', timeout: 10_000 });
    await ping6(p1, p3);
  }, 120_000);

  it('CrossSubnet: the same-segment node directly, the other segment over vxlan-v6.calico; ping6 still works', async () => {
    await setMode6('CrossSubnet');
    const [b2, b3] = [await block6(n2), await block6(n3)];
    await poll(async () => (await routeTo(n1, b2)).startsWith(`${b2} via ${n2.ip6} dev eth0 proto 80`), { what: 'direct IPv6 route to node2', timeout: 20_000 });
    expect(await routeTo(n1, b3)).toContain('dev vxlan-v6.calico');
    await ping6(p1, p2);
    await ping6(p1, p3);
  }, 90_000);

  it('kill -9 of tabby-node under a continuous ping6 over vxlan-v6.calico: no packet lost, the device kept', async () => {
    const index = async (): Promise<string> => (await run('ip', ['-n', n1.netns.name, '-o', 'link', 'show', 'vxlan-v6.calico'])).split(':')[0]!;
    const before = await index();
    const ping = new ContinuousPing(c.net, p1, p3.ip6!);
    await poll(() => ping.replies > 5, { what: 'ping6 running', timeout: 10_000 });
    await c.restartAgent(n1, 'SIGKILL');
    await poll(async () => (await c.status(n1)).ready, { what: 'node1 ready again', timeout: 60_000 });
    await poll(() => ping.replies > 20, { what: 'ping6 after the restart', timeout: 10_000 });
    const count = await ping.stop();
    expect(count.lost).toEqual([]);
    expect(await index()).toBe(before);
  }, 120_000);

  it('BGP-only IPv6 pool, BGP blocked: the fallback moves IPv6 blocks onto vxlan-v6.calico, and back after the hold', async () => {
    await setMode6('Never');
    const [b2, b3] = [await block6(n2), await block6(n3)];
    const onBgp = async (): Promise<boolean> => (await routeTo(n1, b2)).startsWith(`${b2} via ${n2.ip6} dev eth0 proto 80`);
    await poll(onBgp, { what: 'node1 routes node2 IPv6 block over BGP', timeout: 30_000 });
    await ping6(p1, p2);
    try {
      // node2's and node3's agents stop cleanly (Cease: peers drop their routes); meanwhile node2's
      // firewall starts dropping node1's BGP, and the router BGP between segments (both families),
      // so those sessions cannot come back.
      await c.restartAgent(n2, 'SIGTERM', () => Fabric.blockBgpBetween(n1, n2, true));
      await c.restartAgent(n3, 'SIGTERM', () => c.fabric.blockBgp(true));
      await poll(async () => (await c.status(n1)).fallback.join() === [n2.name, n3.name].sort().join(), { what: 'node1 reports node2 and node3 on the fallback', timeout: 60_000 });
      for (const [n, dst] of [[n2, b2], [n3, b3]] as const) {
        const via = new RegExp(`^${dst} via ${await vtep6(n)} dev vxlan-v6\\.calico proto 80 .*onlink`);
        await poll(async () => via.test(await routeTo(n1, dst)), { what: `node1: ${n.name}'s IPv6 block over vxlan-v6.calico`, timeout: 20_000 });
      }
      await ping6(p1, p2);
      await ping6(p1, p3);
      await ping6(p3, p1);
    } finally {
      await c.fabric.blockBgp(false);
      await Fabric.blockBgpBetween(n1, n2, false);
    }
    const ping = new ContinuousPing(c.net, p1, p2.ip6!);
    await poll(async () => (await c.status(n1)).fallback.length === 0, { what: 'node1: no node on the fallback', timeout: 90_000 });
    await poll(onBgp, { what: 'node2 IPv6 block back on its BGP route', timeout: 30_000 });
    await poll(() => ping.replies > 10, { what: 'ping6 on the BGP route', timeout: 10_000 });
    expect((await ping.stop()).lost).toEqual([]); // the switch back loses nothing
  }, 240_000);

  it('IPv6 BGP blocked while IPv4 BGP works: only the IPv6 block takes vxlan-v6.calico; the IPv4 block stays on BGP', async () => {
    await setMode6('Never');
    const b2 = await block6(n2);
    const v4 = (await c.ipam.blocksForNode(n2.name)).find((b) => !b.includes(':'))!;
    try {
      await c.restartAgent(n2, 'SIGTERM', () => Fabric.blockBgpBetween(n1, n2, true, [6]));
      await poll(async () => (await c.status(n1)).fallbackFamilies[n2.name]?.join() === '6', { what: 'node1 reports node2 on the fallback for IPv6 only', timeout: 60_000 });
      const via = new RegExp(`^${b2} via ${await vtep6(n2)} dev vxlan-v6\\.calico proto 80 .*onlink`);
      await poll(async () => via.test(await routeTo(n1, b2)), { what: "node1: node2's IPv6 block over vxlan-v6.calico", timeout: 20_000 });
      expect(await routeTo(n1, v4)).not.toContain('vxlan');
      const peers = (await c.status(n1)).bgp.peers.filter((p) => p.address === n2.ip || p.address === n2.ip6);
      expect(peers.find((p) => p.address === n2.ip)?.state).toBe('Established');
      expect(peers.find((p) => p.address === n2.ip6)?.state).not.toBe('Established');
      await ping6(p1, p2);
      await poll(() => c.ping(p1, p2.ip), { what: 'ping (IPv4) node1 → node2 over BGP', timeout: 20_000 });
    } finally {
      await Fabric.blockBgpBetween(n1, n2, false, [6]);
    }
    await poll(async () => (await c.status(n1)).fallback.length === 0, { what: 'node1: no node on the fallback', timeout: 90_000 });
  }, 240_000);
});
