/**
 * node-convergence: a pod ADD on node A (the tabby CNI plugin run as kubelet runs it) → the route
 * for its block in node B's kernel, in a cluster of real tabby-node processes (full BGP mesh,
 * no encapsulation, one segment). The pool's blocks are /30, so about every fourth ADD claims a
 * new block that BGP must carry to B: only ADDs after which a new route appears in B are samples. B's kernel is watched through a
 * netlink socket in its namespace (route notifications, no polling).
 *
 * Figures: `add_to_remote_route` (ADD started → route in B), p50 / p99 / max; `block_to_remote_route`
 * (the block's IPAMBlock seen by a datastore watch in this process → route in B: the agents' part,
 * without the ADD's own IPAM work); `cni_add` (the ADD's own duration, same samples); the load average.
 *
 * Usage: node-convergence [--nodes 10] [--samples 40]
 */
import { loadavg } from 'node:os';
import type { IPAMBlock } from '@tabby/api';
import { performance } from 'node:perf_hooks';
import { startNodeCluster } from '@tabby/e2e';
import { NetlinkKernel } from '@tabby/felix';
import { poll } from '@tabby/testkit';
import { emit, median, option, percentile, type Bench } from '../emit.js';

const round = (x: number): number => Math.round(x * 10) / 10;

const bench: Bench = {
  description: 'pod ADD on one tabby-node → its block route in another node’s kernel (BGP mesh), p50/p99',
  async run(args) {
    const nodes = Number(option(args, '--nodes', '10'));
    const samples = Number(option(args, '--samples', '40'));
    const c = await startNodeCluster({ layout: [nodes], poolEnv: { CALICO_IPV4POOL_VXLAN: 'Never', CALICO_IPV4POOL_BLOCK_SIZE: '30' } });
    const kernel = await NetlinkKernel.open(c.nodes[nodes - 1]!.netns.name);
    try {
      const [a, b] = [c.nodes[0]!, c.nodes[nodes - 1]!];
      await poll(async () => (await c.status(a)).bgp.peers.filter((p) => p.state === 'Established').length === nodes, { what: 'mesh up', timeout: 120_000 });
      const seen = new Map<string, number>();
      const watch = kernel.watch();
      for (const r of await kernel.ownedRoutes()) if (r.dst) seen.set(r.dst, 0); // routed before the first sample
      watch.on('event', (ev: { type: string; action?: string; route?: { dst?: string } }) => {
        if (ev.type === 'route' && ev.action === 'new' && ev.route?.dst && !seen.has(ev.route.dst)) seen.set(ev.route.dst, performance.now());
      });
      // When each block was claimed, as a datastore watch sees it (the agents see it the same way).
      const claimed = new Map<string, number>();
      const ac = new AbortController();
      void (async () => {
        for await (const ev of c.store.watch<IPAMBlock>({ kind: 'IPAMBlock', signal: ac.signal })) {
          if (ev.type === 'added') claimed.set(ev.object.spec.cidr, performance.now());
        }
      })().catch(() => {});
      const converge: number[] = [];
      const agents: number[] = [];
      const adds: number[] = [];
      for (let i = 0; converge.length < samples; i++) {
        const t0 = performance.now();
        const pod = await c.addPod(a, 'bench', `p${i}`);
        const added = performance.now() - t0;
        // A route that this ADD made appear in B: the block A claimed for it (IPAM claims the next
        // block as the current one fills), or the pod's own /32 (an address lent from another
        // node's block). An ADD that claimed nothing new is no sample.
        const wall = Date.now();
        const fresh = (): string | undefined => [...seen].find(([, t]) => t >= t0)?.[0];
        const dst = await poll(() => fresh() ?? (Date.now() - wall > 1000 ? 'none' : undefined), { what: `a new route on ${b.name}`, timeout: 30_000, interval: 1 });
        if (dst === 'none') {
          if (i > samples * 8) throw new Error(`${i} ADDs, ${converge.length} new routes (${pod.ip})`);
          continue;
        }
        converge.push(seen.get(dst)! - t0);
        const at = claimed.get(dst);
        if (at !== undefined) agents.push(seen.get(dst)! - at);
        adds.push(added);
      }
      watch.close();
      ac.abort();
      const base = { bench: 'node-convergence', nodes, samples, load: loadavg().map(round) };
      emit({ ...base, metric: 'add_to_remote_route_p50', value: round(median(converge)), unit: 'ms' });
      emit({ ...base, metric: 'add_to_remote_route_p99', value: round(percentile(converge, 99)), unit: 'ms', goal: '< 100 ms' });
      emit({ ...base, metric: 'add_to_remote_route_max', value: round(Math.max(...converge)), unit: 'ms' });
      if (agents.length) {
        emit({ ...base, metric: 'block_to_remote_route_p50', value: round(median(agents)), unit: 'ms', samples: agents.length });
        emit({ ...base, metric: 'block_to_remote_route_p99', value: round(percentile(agents, 99)), unit: 'ms' });
      }
      emit({ ...base, metric: 'cni_add_p50', value: round(median(adds)), unit: 'ms' });
    } finally {
      kernel.close();
      await c.stop();
    }
  },
};
export default bench;
