// Root test: ten tabby-node processes on a two-segment fabric (five nodes per segment, BIRD ToR),
// one cluster shared by the scenarios that run in turn: the full mesh; kill -9 of an agent under
// continuous pings (no packet lost); BGP dropped by the router between segments (the sessions
// across it fail and the nodes route each other over the fallback; with this CrossSubnet VXLAN
// pool cross-segment routes come from the datastore either way, so pods stay connected; then
// back to BGP without loss); and 100 pods created and
// deleted through the CNI plugin with nothing left behind.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Resource } from '@tabby/api';
import { poll } from '@tabby/testkit';
import { startNodeCluster, type AgentNode, type ClusterPod, type NodeCluster } from '../src/node-cluster.js';
import { blockOf, ContinuousPing, kernelSnapshot, routeTo } from '../src/probe.js';

const isRoot = process.getuid?.() === 0;

describe.skipIf(!isRoot)('ten nodes: mesh, agent restart, BGP blocked at the router, pod churn', () => {
  let c: NodeCluster;
  let pods: ClusterPod[];
  const node = (i: number): AgentNode => c.nodes[i - 1]!;
  const established = async (n: AgentNode): Promise<number> => (await c.status(n)).bgp.peers.filter((p) => p.state === 'Established').length;
  /** The route on `on` toward `to`'s pod block is the BGP one, direct over the segment. */
  const onBgp = async (on: AgentNode, to: AgentNode, pod: ClusterPod): Promise<boolean> => (await routeTo(on, blockOf(pod.ip))).startsWith(`${blockOf(pod.ip)} via ${to.ip} dev eth0 proto 80`);

  beforeAll(async () => {
    c = await startNodeCluster({ layout: [5, 5] });
    pods = await Promise.all(c.nodes.map((n, i) => c.addPod(n, 'default', `pod${i + 1}`)));
  }, 300_000);

  afterAll(async () => {
    await c?.stop();
  });

  it('every node peers with the nine others and the ToR; pods reach each other across nodes and segments', async () => {
    for (const n of c.nodes) await poll(async () => (await established(n)) === 10, { what: `${n.name}: 10 sessions up`, timeout: 60_000 });
    // A ring over all ten pods, and one pod to every other: every node's routes are used.
    const pairs = [...pods.map((p, i) => [p, pods[(i + 1) % pods.length]!] as const), ...pods.slice(2).map((p) => [pods[0]!, p] as const)];
    await Promise.all(pairs.map(([a, b]) => poll(() => c.ping(a, b.ip), { what: `ping ${a.name} → ${b.name}`, timeout: 30_000 })));
    expect(await onBgp(node(1), node(2), pods[1]!)).toBe(true);
    expect(await routeTo(node(1), blockOf(pods[9]!.ip))).toMatch(/dev vxlan\.calico .*onlink/); // CrossSubnet
    expect((await c.tor.routes()).filter((r) => r.best)).toHaveLength(10);
  }, 120_000);

  it('kill -9 of tabby-node under continuous pings across nodes: no packet lost, routes and sessions come back', async () => {
    const [n1, n2] = [node(1), node(2)];
    const near = new ContinuousPing(c.net, pods[0]!, pods[1]!.ip); // same segment, BGP route
    const far = new ContinuousPing(c.net, pods[0]!, pods[6]!.ip); // other segment, VXLAN
    const back = new ContinuousPing(c.net, pods[6]!, pods[0]!.ip); // toward the restarted node
    await poll(() => near.replies > 5 && far.replies > 5 && back.replies > 5, { what: 'pings running', timeout: 10_000 });
    await c.restartAgent(n1, 'SIGKILL');
    await poll(async () => (await established(n1)) === 10 && (await c.status(n1)).ready, { what: 'restarted node1: 10 sessions, felix ready', timeout: 60_000 });
    // Peers may have moved node1's block to the fallback while it was down; wait until it is back on BGP.
    await poll(async () => (await c.status(n2)).fallback.length === 0 && (await onBgp(n2, n1, pods[0]!)), { what: 'node2 routes node1 over BGP again', timeout: 60_000 });
    // Keep pinging past the restart (a fast restart can be over within a few dozen replies).
    const after = near.replies;
    await poll(() => near.replies > after + 20, { what: 'pings after the restart', timeout: 10_000 });
    const counts = { near: await near.stop(), far: await far.stop(), back: await back.stop() };
    expect(counts.near.received).toBeGreaterThan(after);
    expect({ near: counts.near.lost, far: counts.far.lost, back: counts.back.lost }).toEqual({ near: [], far: [], back: [] });
    expect(await onBgp(n1, n2, pods[1]!)).toBe(true);
  }, 180_000);

  it('BGP dropped by the router between segments: sessions across it fail, the fallback routes, pods stay connected; back to BGP without loss', async () => {
    const [n1, n10] = [node(1), node(10)];
    try {
      // node10's agent stops cleanly (Cease: its peers drop its routes); while it is down the
      // router starts dropping BGP, so across segments its sessions cannot come back.
      await c.restartAgent(n10, 'SIGTERM', () => c.fabric.blockBgp(true));
      await poll(() => c.ping(pods[0]!, pods[9]!.ip), { what: 'node1 pod → node10 pod over the fallback', timeout: 30_000 });
      await poll(async () => (await c.status(n1)).fallback.includes(n10.name), { what: 'node1 reports node10 on the fallback', timeout: 30_000 });
      const st = await c.status(n10);
      expect(st.bgp.peers.filter((p) => p.state === 'Established').map((p) => p.address).sort()).toEqual([c.fabric.gateway, ...c.nodes.slice(5, 9).map((n) => n.ip)].sort());
      expect(st.fallback).toEqual(c.nodes.slice(0, 5).map((n) => n.name).sort());
      expect(await routeTo(n1, blockOf(pods[9]!.ip))).toMatch(/dev vxlan\.calico .*onlink/);
    } finally {
      await c.fabric.blockBgp(false);
    }
    const ping = new ContinuousPing(c.net, pods[0]!, pods[9]!.ip);
    await poll(async () => (await c.status(n1)).fallback.length === 0 && (await c.status(n10)).fallback.length === 0, { what: 'no node on the fallback', timeout: 90_000 });
    const count = await ping.stop();
    expect(count.lost).toEqual([]);
    expect(await established(n10)).toBe(10);
  }, 180_000);

  it('100 pods created and deleted through the CNI plugin leave no address, link, route, rule or IPAM allocation', async () => {
    const churn = [node(3), node(8)];
    const handles = async (): Promise<string[]> => (await c.store.list<Resource>({ kind: 'IPAMHandle' })).items.map((h) => h.metadata.name).sort();
    const before = { kernel: await Promise.all(churn.map((n) => kernelSnapshot(n))), handles: await handles() };
    const made: ClusterPod[] = [];
    const lanes = 5;
    await Promise.all(Array.from({ length: lanes * churn.length }, async (_, lane) => {
      for (let i = lane; i < 100; i += lanes * churn.length) made.push(await c.addPod(churn[lane % churn.length]!, 'churn', `c${i}`));
    }));
    expect(new Set(made.map((p) => p.ip)).size).toBe(100);
    await poll(() => c.ping(pods[0]!, made[made.length - 1]!.ip), { what: 'a churn pod reachable', timeout: 30_000 });
    await Promise.all(Array.from({ length: lanes * churn.length }, async (_, lane) => {
      for (let i = lane; i < made.length; i += lanes * churn.length) await c.removePod(made[i]!);
    }));
    for (const [i, n] of churn.entries()) {
      await poll(async () => JSON.stringify(await kernelSnapshot(n)) === JSON.stringify(before.kernel[i]), { what: `${n.name}: kernel as before the churn`, timeout: 60_000 }).catch(async (e: unknown) => {
        const now = await kernelSnapshot(n);
        throw new Error(`${String(e)}\nleft: ${now.filter((x) => !before.kernel[i]!.includes(x)).join('\n')}\ngone: ${before.kernel[i]!.filter((x) => !now.includes(x)).join('\n')}`);
      });
    }
    expect(await handles()).toEqual(before.handles);
    expect((await c.store.list({ kind: 'WorkloadEndpoint', namespace: 'churn' })).items).toEqual([]);
  }, 300_000);
});
