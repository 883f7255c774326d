/**
 * `npm run demo`: a Tabby cluster in network namespaces on this machine, run as users deploy it:
 * etcd, a routed fabric with a BIRD top-of-rack, and one `tabby-node` per node (IPAM, BGP speaker,
 * felix). Pods are added as kubelet would, through the tabby CNI plugin; they get addresses
 * from IPAM, felix programs their routes, BGP (a full mesh, no encapsulation: Calico's default)
 * carries every node's blocks to the others; pods ping across nodes. Then a Calico NetworkPolicy, applied as
 * YAML, lets only the backend reach the database: the frontend's pings are dropped by the
 * iptables chains felix wrote. Last, BGP between node1 and node2 is blocked while node2's agent
 * restarts: after bgpFallbackTimeout the two route each other over the VXLAN fallback (pings,
 * `tabbyctl node status`, routes), and when BGP is let through the routes move back without a
 * lost ping. Everything is removed at the end (also on failure or Ctrl-C).
 */
import { parseDocuments } from '@tabby/api';
import { runCtl } from '@tabby/ctl';
import { join } from 'node:path';
import { startNodeCluster, type AgentNode, type ClusterPod, type NodeCluster } from './node-cluster.js';
import { Fabric } from './fabric.js';
import { blockOf, ContinuousPing } from './probe.js';

/** The policy the demo applies, as an operator would write it for Calico. */
export const DB_POLICY_YAML = `apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata:
  name: db-from-backend
  namespace: data
spec:
  order: 100
  selector: app == 'db'
  types: [Ingress]
  ingress:
    - action: Allow
      protocol: ICMP
      source:
        selector: app == 'backend'
        namespaceSelector: projectcalico.org/name == 'web'
`;

const t0 = Date.now();
const say = (line: string): void => {
  process.stdout.write(`[${((Date.now() - t0) / 1000).toFixed(1).padStart(5)}s] ${line}\n`);
};
const table = (rows: string[][]): string => {
  const w = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => '  ' + r.map((c, i) => c.padEnd(w[i]!)).join('  ')).join('\n');
};

/** `tabbyctl node status` against a node's tabby-node socket, as an operator runs it on the node. */
async function nodeStatus(n: AgentNode): Promise<void> {
  let out = '';
  await runCtl(['node', 'status', '--socket', join(n.runDir, 'node.sock')], { out: (t) => (out += t), err: (t) => (out += t), stdin: () => '', env: {} });
  say(`tabbyctl node status (on ${n.name}, ${n.ip}, segment ${n.segment})\n${out.trimEnd().replace(/^/gm, '  ')}`);
}

async function routes(n: AgentNode): Promise<void> {
  const kernel = await n.netns.ip('route', 'show', 'proto', '80');
  say(`routes felix programmed on ${n.name}:\n${kernel.trimEnd().replace(/^/gm, '  ')}`);
}

async function show(c: NodeCluster): Promise<void> {
  await nodeStatus(c.nodes[0]!);
  for (const n of c.nodes) await routes(n);
  const torRoutes = (await c.tor.routes()).filter((r) => r.best);
  say(`BIRD (top of rack, AS 65000) learned ${torRoutes.length} pod blocks:`);
  process.stdout.write(table([['PREFIX', 'VIA', 'FROM'], ...torRoutes.map((r) => [r.prefix, r.via ?? '', r.from])]) + '\n');
}

/**
 * The automatic fallback: BGP between node1 and node2 is blocked (node2's firewall drops TCP 179
 * from node1) while node2's tabby-node restarts (as on an upgrade), so that session cannot come
 * back: node1 drops node2's route (or keeps it as stale while a graceful restart lasts), and once
 * the session has not come back for bgpFallbackTimeout both route each other's blocks over VXLAN
 * from the datastore. Then BGP is let through and the routes move back,
 * without losing a ping.
 */
async function fallback(c: NodeCluster, from: ClusterPod, to: ClusterPod): Promise<boolean> {
  const [n1, n2] = c.nodes as [AgentNode, AgentNode];
  const route = async (): Promise<string> => (await n1.netns.ip('route', 'show', 'proto', '80')).split('\n').find((l) => l.startsWith(blockOf(to.ip))) ?? 'none';
  say(`BGP between ${n1.name} and ${n2.name} gets blocked (${n2.name} drops TCP 179 from ${n1.name}) while tabby-node on ${n2.name} restarts (as on an upgrade)`);
  let blockedAt = 0;
  const restarted = c.restartAgent(n2, 'SIGTERM', async () => {
    await Fabric.blockBgpBetween(n1, n2, true);
    blockedAt = Date.now();
  });
  while (!blockedAt) await new Promise((r) => setTimeout(r, 20));
  say(`${n2.name}'s agent stopped; ${n1.name}'s route to its block: ${await route()}; pinging ${to.namespace}/${to.name} from ${from.namespace}/${from.name}`);
  while (!(await c.ping(from, to.ip)) && Date.now() - blockedAt < 30_000);
  const back = await c.ping(from, to.ip);
  say(`ping ${from.namespace}/${from.name} -> ${to.namespace}/${to.name}: ${back ? `answered ${((Date.now() - blockedAt) / 1000).toFixed(1)} s after the block (bgpFallbackTimeout 3 s)` : 'FAILED'}`);
  await restarted;
  say(`${n1.name}'s route to ${to.name}'s block now: ${await route()}`);
  await nodeStatus(n2);
  say('BGP is let through again; a ping every 50 ms runs while the routes move back to BGP (after a 10 s hold)');
  const ping = new ContinuousPing(c.net, from, to.ip);
  await Fabric.blockBgpBetween(n1, n2, false);
  const until = Date.now() + 45_000;
  while (Date.now() < until && ((await c.status(n1)).fallback.length > 0 || (await c.status(n2)).fallback.length > 0)) await new Promise((r) => setTimeout(r, 250));
  const count = await ping.stop();
  say(`${count.received} pings answered, ${count.lost.length} lost while the routes moved back; ${n1.name}'s route: ${await route()}`);
  return back && count.lost.length === 0 && (await c.status(n2)).fallback.length === 0;
}

async function pingAll(pairs: Array<[ClusterPod, ClusterPod]>): Promise<boolean> {
  let ok = true;
  for (const [src, dst] of pairs) {
    let result = 'ok';
    try {
      const out = await src.netns.exec('ping', '-c2', '-i0.2', '-W2', dst.ip);
      result = `ok (${/= [\d.]+\/([\d.]+)\//.exec(out)?.[1]} ms)`;
    } catch {
      result = 'FAILED';
      ok = false;
    }
    say(`ping ${src.namespace}/${src.name} (${src.ip}, ${src.node}) -> ${dst.namespace}/${dst.name} (${dst.ip}, ${dst.node}): ${result}`);
  }
  return ok;
}

async function main(): Promise<number> {
  say('starting a 3-node cluster in network namespaces: three nodes on one segment, pods routed by BGP (no encapsulation)');
  const c = await startNodeCluster({ layout: [3], poolEnv: { CALICO_IPV4POOL_VXLAN: 'Never' }, log: say });
  const stop = (): void => {
    void c.stop().finally(() => process.exit(130));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    const [n1, n2, n3] = c.nodes as [typeof c.nodes[0], typeof c.nodes[0], typeof c.nodes[0]];
    say('adding pods through the tabby CNI plugin (each ADD is handed to its node\'s tabby-node over cni.sock)');
    const frontend = await c.addPod(n1, 'web', 'frontend', { app: 'frontend' });
    const backend = await c.addPod(n2, 'web', 'backend', { app: 'backend' });
    const db = await c.addPod(n3, 'data', 'db', { app: 'db' });
    say(`pods: ${c.pods.map((p) => `${p.namespace}/${p.name}=${p.ip} on ${p.node}`).join(', ')}`);
    say('waiting until every pod reaches every other pod');
    const pairs: Array<[ClusterPod, ClusterPod]> = [[frontend, backend], [frontend, db], [backend, db], [db, frontend]];
    const deadline = Date.now() + 60_000;
    for (const [a, b] of pairs) while (!(await c.ping(a, b.ip)) && Date.now() < deadline);
    await show(c);
    const ok = await pingAll(pairs);
    say(ok ? 'every pod reached every other pod, over BGP-learned routes' : 'some pings FAILED');
    say(`applying a Calico NetworkPolicy (only web/backend may reach data/db):\n${DB_POLICY_YAML.trimEnd().replace(/^/gm, '  ')}`);
    for (const r of parseDocuments(DB_POLICY_YAML, 'db-policy.yaml')) await c.store.create(r);
    const until = Date.now() + 30_000;
    while ((await c.ping(frontend, db.ip)) && Date.now() < until);
    const blocked = !(await c.ping(frontend, db.ip));
    const allowed = await c.ping(backend, db.ip);
    say(`ping web/frontend -> data/db: ${blocked ? 'blocked by the policy' : 'NOT BLOCKED'}`);
    say(`ping web/backend -> data/db: ${allowed ? 'ok (allowed by the policy)' : 'FAILED'}`);
    for (const [src, dst] of [['web/frontend', 'data/db'], ['web/backend', 'data/db']]) {
      let out = '';
      await runCtl(['policy', 'trace', src!, dst!, '--protocol', 'icmp'], { out: (t) => (out += t), err: (t) => (out += t), stdin: () => '', env: { ETCD_ENDPOINTS: c.etcd.endpoint } });
      say(`tabbyctl policy trace ${src} ${dst} --protocol icmp\n${out.trimEnd().replace(/^/gm, '  ')}`);
    }
    const chains = (await n3.netns.exec('iptables-save', '-t', 'filter')).split('\n').filter((l) => l.includes('cali-pi-') || l.includes('cali-tw-')).slice(0, 8);
    say(`felix's chains on node3 (excerpt):\n${chains.join('\n').replace(/^/gm, '  ')}`);
    const fellBack = await fallback(c, frontend, backend);
    return ok && blocked && allowed && fellBack ? 0 : 1;
  } finally {
    say('cleaning up namespaces and processes');
    await c.stop();
  }
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`demo failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  },
);
