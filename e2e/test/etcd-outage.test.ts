// Root test: the datastore down for 60 s under a running cluster (three tabby-node processes on
// two segments). The dataplane stays as it was — continuous pings across nodes lose nothing, no
// agent exits — and once etcd is back everything resyncs: a pod added afterwards gets its routes
// and is reachable from the other nodes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { poll } from '@tabby/testkit';
import { startNodeCluster, type ClusterPod, type NodeCluster } from '../src/node-cluster.js';
import { ContinuousPing, routeTo } from '../src/probe.js';

const isRoot = process.getuid?.() === 0;
const OUTAGE_MS = 60_000;

describe.skipIf(!isRoot)('etcd stopped for 60 s', () => {
  let c: NodeCluster;
  let pods: ClusterPod[];

  beforeAll(async () => {
    c = await startNodeCluster({ layout: [2, 1] });
    pods = await Promise.all(c.nodes.map((n, i) => c.addPod(n, 'default', `pod${i + 1}`)));
    for (const [a, b] of [[0, 1], [0, 2], [2, 1]] as const) await poll(() => c.ping(pods[a]!, pods[b]!.ip), { what: `ping ${pods[a]!.name} → ${pods[b]!.name}`, timeout: 60_000 });
  }, 240_000);

  afterAll(async () => {
    await c?.stop();
  });

  it('the dataplane keeps forwarding while etcd is down; after it returns a new pod gets routes', async () => {
    const pings = [new ContinuousPing(c.net, pods[0]!, pods[1]!.ip, 0.2), new ContinuousPing(c.net, pods[0]!, pods[2]!.ip, 0.2), new ContinuousPing(c.net, pods[2]!, pods[1]!.ip, 0.2)];
    await poll(() => pings.every((p) => p.replies > 2), { what: 'pings running', timeout: 10_000 });
    await c.etcd.kill();
    await new Promise((r) => setTimeout(r, OUTAGE_MS)); // the outage itself, not a wait for a condition
    expect(c.nodes.filter((n) => !n.agent.running).map((n) => n.name)).toEqual([]);
    for (const n of c.nodes) expect((await c.status(n)).bgp.peers.filter((p) => p.state === 'Established')).toHaveLength(3);
    await c.etcd.restart();
    const counts = await Promise.all(pings.map((p) => p.stop()));
    expect(counts.map((x) => x.lost)).toEqual([[], [], []]);
    expect(counts.every((x) => x.received > (OUTAGE_MS / 1000) * 4)).toBe(true);

    // Resync: the agents' watches come back; CNI ADD (datastore + IPAM through tabby-node) works again.
    const late = await poll(() => c.addPod(c.nodes[2]!, 'default', 'late'), { what: 'a pod added after etcd returned', timeout: 60_000, interval: 1000 });
    expect(await routeTo(c.nodes[2]!, `${late.ip}/32`)).toMatch(/ dev cali[0-9a-f]{11} .*proto 80/);
    await poll(() => c.ping(pods[0]!, late.ip), { what: 'node1 pod → the late pod', timeout: 30_000 });
    await poll(() => c.ping(late, pods[1]!.ip), { what: 'the late pod → node2 pod', timeout: 30_000 });
    for (const n of c.nodes) expect((await c.status(n)).ready).toBe(true);
  }, 240_000);
});
