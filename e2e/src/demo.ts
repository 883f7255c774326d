/**
 * `npm run demo`: a Tabby cluster in network namespaces on this machine, run as users deploy it:
 * etcd, a routed fabric with a BIRD top-of-rack, and one `tabby-node` per node (IPAM, BGP speaker,
 * felix). Pods are added as kubelet would; they get addresses from IPAM, felix programs their
 * routes, BGP carries blocks between nodes on the same segment and VXLAN (CrossSubnet) to the
 * node on the other segment; pods ping across nodes. Everything is removed at the end (also on
 * failure or Ctrl-C).
 */
import { startNodeCluster, type ClusterPod, type NodeCluster } from './node-cluster.js';

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
    return ok ? 0 : 1;
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
