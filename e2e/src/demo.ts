/**
 * `npm run demo`: a Tabby cluster in network namespaces on this machine, run as users deploy it:
 * etcd, a routed fabric with a BIRD top-of-rack, and one `tabby-node` per node (IPAM, BGP speaker,
 * felix). Pods are added as kubelet would, through the tabby CNI plugin; they get addresses
 * from IPAM, felix programs their routes, BGP carries blocks between nodes on the same segment and VXLAN (CrossSubnet) to the
 * node on the other segment; pods ping across nodes. Then a Calico NetworkPolicy, applied as
 * YAML, lets only the backend reach the database: the frontend's pings are dropped by the
 * iptables chains felix wrote. Everything is removed at the end (also on failure or Ctrl-C).
 */
import { parseDocuments } from '@tabby/api';
import { runCtl } from '@tabby/ctl';
import { startNodeCluster, type ClusterPod, type NodeCluster } from './node-cluster.js';

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

async function show(c: NodeCluster): Promise<void> {
  for (const n of c.nodes) {
    const st = await c.status(n);
    say(`tabby-node on ${n.name} (${n.ip}, segment ${n.segment}) — BGP peers:`);
    process.stdout.write(table([['PEER', 'ASN', 'TYPE', 'STATE', 'RECEIVED', 'ADVERTISED'], ...st.bgp.peers.map((p) => [p.address, String(p.asn), p.type, p.state, String(p.prefixesReceived), String(p.prefixesAdvertised)])]) + '\n');
    const kernel = await n.netns.ip('route', 'show', 'proto', '80');
    say(`routes felix programmed on ${n.name}:\n${kernel.trimEnd().replace(/^/gm, '  ')}`);
  }
  const torRoutes = (await c.tor.routes()).filter((r) => r.best);
  say(`BIRD (top of rack, AS 65000) learned ${torRoutes.length} pod blocks:`);
  process.stdout.write(table([['PREFIX', 'VIA', 'FROM'], ...torRoutes.map((r) => [r.prefix, r.via ?? '', r.from])]) + '\n');
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
  say('starting a 3-node cluster in network namespaces: two nodes on one segment, one on another');
  const c = await startNodeCluster({ layout: [2, 1], log: say });
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
    say(ok ? 'every pod reached every other pod: over BGP-learned routes within a segment, over VXLAN across segments' : 'some pings FAILED');
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
    return ok && blocked && allowed ? 0 : 1;
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
