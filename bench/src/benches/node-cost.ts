/**
 * node-cost: what one tabby-node costs in a full BGP mesh of N real agents (BIRD ToR): resident
 * memory (VmRSS) and CPU (utime + stime from /proc/<pid>/stat), per node, while idle and while
 * pods churn (CNI ADD and DEL through the plugin on every node in turn). Each window's CPU is
 * the median over all agents, as a percentage of one core.
 *
 * The nodes sit on routed segments of at most --per-segment nodes: the IPv4 neighbour table is
 * one for all namespaces of the machine (gc_thresh3, 1024 by default) and 50 nodes on one
 * segment overflow it (e2e/src/neighbour-budget.ts). One segment: no encapsulation (VXLAN
 * Never); several: VXLAN CrossSubnet, as a multi-rack cluster runs.
 *
 * Usage: node-cost [--nodes 10] [--per-segment 10] [--window 20] [--settle 0] [--churn 40]
 *   (window: seconds measured; settle: seconds waited after the mesh is up, before the idle window; churn: pods)
 */
import { loadavg } from 'node:os';
import { segmentLayout, startNodeCluster, type ClusterPod } from '@tabby/e2e';
import { poll } from '@tabby/testkit';
import { emit, median, option, type Bench } from '../emit.js';
import { cpuSeconds, rssMiB } from '../proc.js';

const round = (x: number): number => Math.round(x * 10) / 10;

const bench: Bench = {
  description: 'RSS and CPU of each tabby-node, idle and under pod churn, in a full mesh of N nodes',
  async run(args) {
    const nodes = Number(option(args, '--nodes', '10'));
    const windowS = Number(option(args, '--window', '20'));
    const churn = Number(option(args, '--churn', '40'));
    const settleS = Number(option(args, '--settle', '0'));
    const layout = segmentLayout(nodes, Number(option(args, '--per-segment', '10')));
    const t0 = Date.now();
    const poolEnv = { CALICO_IPV4POOL_VXLAN: layout.length > 1 ? 'CrossSubnet' : 'Never' };
    const c = await startNodeCluster({ layout, poolEnv, readyTimeoutMs: nodes * 6000 });
    try {
      const started = Date.now() - t0;
      await poll(async () => {
        for (const n of c.nodes) if ((await c.status(n)).bgp.peers.filter((p) => p.state === 'Established').length !== nodes) return false;
        return true;
      }, { what: `full mesh of ${nodes}`, timeout: 600_000, interval: 1000 });
      const meshUp = Date.now() - t0;
      await new Promise((r) => setTimeout(r, settleS * 1000)); // routes and felix still settle right after the last session came up
      const pids = c.nodes.map((n) => n.agent.pid);
      const measure = async (work: () => Promise<void>): Promise<{ cpu: number; rss: number; rssMax: number }> => {
        const before = pids.map(cpuSeconds);
        const start = Date.now();
        await Promise.all([work(), new Promise((r) => setTimeout(r, windowS * 1000))]);
        const secs = (Date.now() - start) / 1000;
        const cpu = pids.map((p, i) => ((cpuSeconds(p) - before[i]!) / secs) * 100);
        const rss = pids.map(rssMiB);
        return { cpu: median(cpu), rss: median(rss), rssMax: Math.max(...rss) };
      };
      const base = { bench: 'node-cost', nodes, layout, windowS, settleS, startMs: started, meshUpMs: meshUp };
      const idle = await measure(async () => {});
      emit({ ...base, load: loadavg().map(round), metric: 'idle_cpu_per_node', value: round(idle.cpu), unit: '% of a core' });
      emit({ ...base, load: loadavg().map(round), metric: 'idle_rss_per_node', value: round(idle.rss), unit: 'MiB', max: round(idle.rssMax) });
      let added = 0;
      const busy = await measure(async () => {
        const pods: ClusterPod[] = [];
        for (let i = 0; i < churn; i++) pods.push(await c.addPod(c.nodes[i % nodes]!, 'churn', `c${i}`));
        added = pods.length;
        for (const p of pods) await c.removePod(p);
      });
      emit({ ...base, load: loadavg().map(round), metric: 'churn_cpu_per_node', value: round(busy.cpu), unit: '% of a core', pods: added });
      emit({ ...base, load: loadavg().map(round), metric: 'churn_rss_per_node', value: round(busy.rss), unit: 'MiB', max: round(busy.rssMax) });
    } finally {
      await c.stop();
    }
  },
};
export default bench;
