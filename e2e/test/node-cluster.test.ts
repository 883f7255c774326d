// Root test: the demo's cluster (e2e/src/node-cluster.ts) — tabby-node on a two-segment fabric
// with a BIRD ToR; pods ping within a segment over BGP and across segments over VXLAN.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Resource } from '@tabby/api';
import { runCtl } from '@tabby/ctl';
import { poll, run } from '@tabby/testkit';
import { startNodeCluster, type ClusterPod, type NodeCluster } from '../src/node-cluster.js';

const isRoot = process.getuid?.() === 0;

describe.skipIf(!isRoot)('the demo cluster: tabby-node on every node', () => {
  let c: NodeCluster;
  let pods: ClusterPod[];

  beforeAll(async () => {
    c = await startNodeCluster({ layout: [2, 1] });
    pods = [await c.addPod(c.nodes[0]!, 'web', 'frontend', { app: 'frontend' }), await c.addPod(c.nodes[1]!, 'web', 'backend', { app: 'backend' }), await c.addPod(c.nodes[2]!, 'data', 'db', { app: 'db' })];
  }, 180_000);

  afterAll(async () => {
    await c?.stop();
  });

  it('every node peers with the others and the ToR; pods ping across nodes and segments', async () => {
    for (const n of c.nodes) {
      await poll(async () => (await c.status(n)).bgp.peers.filter((p) => p.state === 'Established').length === 3, { what: `${n.name}: 3 sessions up`, timeout: 30_000 });
    }
    for (const [a, b] of [[0, 1], [0, 2], [2, 1]] as const) await poll(() => c.ping(pods[a]!, pods[b]!.ip), { what: `ping ${pods[a]!.name} → ${pods[b]!.name}`, timeout: 30_000 });
    const onNode1 = await run('ip', ['-n', c.nodes[0]!.netns.name, 'route', 'show', 'proto', '80']);
    expect(onNode1).toMatch(/via 10\.210\.0\.2 dev eth0/); // same segment: BGP, direct
    expect(onNode1).toMatch(/dev vxlan\.calico onlink/); // other segment: VXLAN
    const tor = (await c.tor.routes()).filter((r) => r.best);
    expect(tor).toHaveLength(3);
    expect(new Set(tor.map((r) => r.from)).size).toBe(3); // each block from its own node: no transit over iBGP
  });

  it('a NetworkPolicy applied to the datastore blocks what it does not allow, on every node', async () => {
    const [frontend, backend, db] = pods as [ClusterPod, ClusterPod, ClusterPod];
    await c.store.create({
      apiVersion: 'tabby.dev/v1', kind: 'NetworkPolicy', metadata: { name: 'db-from-backend', namespace: 'data' },
      spec: { order: 100, selector: "app == 'db'", types: ['Ingress'], ingress: [{ action: 'Allow', protocol: 'ICMP', source: { selector: "app == 'backend'", namespaceSelector: "projectcalico.org/name == 'web'" } }] },
    } as Resource);
    await poll(async () => !(await c.ping(frontend, db.ip)), { what: 'frontend → db blocked', timeout: 30_000 });
    expect(await c.ping(backend, db.ip)).toBe(true);
    // tabbyctl explains both verdicts with the evaluator that matches the programmed chains.
    const trace = async (src: string, dst: string): Promise<string> => {
      let out = '';
      const code = await runCtl(['policy', 'trace', src, dst, '--protocol', 'icmp'], { out: (t) => (out += t), err: (t) => (out += t), stdin: () => '', env: { ETCD_ENDPOINTS: c.etcd.endpoint } });
      expect(code).toBe(0);
      return out;
    };
    const denied = await trace('web/frontend', 'data/db');
    expect(denied).toMatch(/: DENY\n/);
    expect(denied).toMatch(/ingress +data\/.*: tier default(, policy .*db-from-backend)?.* -> end-of-tier/);
    const allowed = await trace('web/backend', 'data/db');
    expect(allowed).toMatch(/: ALLOW\n/);
    expect(allowed).toMatch(/db-from-backend, rule 0 -> allow/);
    expect(await c.ping(frontend, backend.ip)).toBe(true); // no policy selects backend
    await c.store.delete({ kind: 'NetworkPolicy', namespace: 'data', name: 'db-from-backend' });
    await poll(() => c.ping(frontend, db.ip), { what: 'frontend → db allowed again', timeout: 30_000 });
  });
});
