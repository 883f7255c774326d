// Root test: a dual-stack cluster. tabby-node autodetects each node's IPv6 address at start
// (IP6=autodetect), creates the IPv6 pool from CALICO_IPV6POOL_CIDR, and meshes over both
// families; the CNI plugin gives every pod an address of each family; pods ping and ping6
// across nodes over BGP-learned routes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Node } from '@tabby/api';
import { poll } from '@tabby/testkit';
import { startNodeCluster, type ClusterPod, type NodeCluster } from '../src/node-cluster.js';

const isRoot = process.getuid?.() === 0;

describe.skipIf(!isRoot)('IPv4 and IPv6: a dual-stack pool, pods ping6 across nodes', () => {
  let c: NodeCluster;
  let pods: ClusterPod[];

  beforeAll(async () => {
    c = await startNodeCluster({ layout: [3], ipv6: true });
    pods = await Promise.all(c.nodes.map((n, i) => c.addPod(n, 'default', `pod${i + 1}`)));
  }, 240_000);

  afterAll(async () => {
    await c?.stop();
  });

  it('registers both addresses, meshes over both families, and routes IPv6 blocks from BGP', async () => {
    const node = await c.store.get<Node>({ kind: 'Node', name: 'node1' });
    expect(node.spec.bgp?.ipv6Address).toBe(`${c.nodes[0]!.ip6}/64`);
    expect((await c.store.list({ kind: 'IPPool' })).items.map((p) => p.metadata.name).sort()).toEqual(['default-ipv4-ippool', 'default-ipv6-ippool']);
    for (const n of c.nodes) {
      await poll(async () => (await c.status(n)).bgp.peers.filter((p) => p.state === 'Established').length === 5, { what: `${n.name}: 2 IPv4 + 2 IPv6 mesh sessions and the ToR`, timeout: 60_000 });
    }
    expect(pods.every((p) => p.ip6?.startsWith('fd00:248:'))).toBe(true);
    const [p1, p2, p3] = pods as [ClusterPod, ClusterPod, ClusterPod];
    for (const [a, b] of [[p1, p2], [p2, p3], [p3, p1]] as const) {
      await poll(() => c.ping(a, b.ip6!), { what: `ping6 ${a.name} → ${b.name}`, timeout: 30_000 });
      await poll(() => c.ping(a, b.ip), { what: `ping ${a.name} → ${b.name}`, timeout: 30_000 });
    }
    const v6Routes = await c.nodes[0]!.netns.ip('-6', 'route', 'show', 'proto', '80');
    expect(v6Routes).toMatch(new RegExp(`via ${c.nodes[1]!.ip6} dev eth0`));
    expect(v6Routes).toMatch(new RegExp(`${p1.ip6} dev cali[0-9a-f]{11}`));
  }, 180_000);
});
