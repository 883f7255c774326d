/**
 * End to end (root): two nodes on a fabric, IPAM from etcd, tabby-bgp mesh plus a BIRD ToR;
 * each node learns the other's block over BGP, the route goes into its kernel, and a pod on
 * one node reaches a pod on the other.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type Cluster } from '../src/cluster.js';

describe('e2e: pods on two nodes reach each other over BGP-learned routes', () => {
  let c: Cluster;
  beforeAll(async () => {
    c = await startCluster({ nodes: 2, podsPerNode: 1 });
    await c.programRoutes();
  });
  afterAll(() => c?.stop());

  it('each node has a blackhole for its own block and a route via the other node for the other block', async () => {
    const [a, b] = c.nodes as [Cluster['nodes'][0], Cluster['nodes'][0]];
    const routesA = await a.nl.routes.dump({ protocol: 80 });
    expect(routesA.find((r) => r.dst === a.blocks[0])?.type).toBe('blackhole');
    expect(routesA.find((r) => r.dst === b.blocks[0])?.gateway).toBe(b.ip);
  });

  it('the mesh and the ToR sessions are Established and the ToR learned both blocks', async () => {
    for (const n of c.nodes) {
      const st = await c.status(n);
      expect(st.peers.map((p) => p.state)).toEqual(st.peers.map(() => 'Established'));
    }
    const tor = (await c.tor.routes()).map((r) => r.prefix);
    for (const n of c.nodes) expect(tor).toContain(n.blocks[0]);
  });

  it('a pod pings a pod on the other node', async () => {
    const src = c.nodes[0]!.pods[0]!;
    const dst = c.nodes[1]!.pods[0]!;
    expect(await src.netns.exec('ping', '-c1', '-W3', dst.ip)).toContain('1 received');
  });
});
