/**
 * node-fallback: the automatic fallback's reaction time with real tabby-node processes. Three
 * nodes on one segment, a pure-BGP pool (no encapsulation); a ping every 20 ms from a pod on
 * node1 to a pod on node2. Each round: node2's agent stops (Cease: node1 drops node2's BGP
 * route), node2 starts dropping BGP from node1, the agent starts again — so that session cannot
 * come back. Measured from the block to the first answered ping after the outage (pods connected
 * again over VXLAN from the datastore), against the goal bgpFallbackTimeout + 1 s; then BGP is
 * let through and the pings lost while the routes move back to BGP are counted.
 *
 * Usage: node-fallback [--rounds 3] [--timeout 3]   (bgpFallbackTimeout, seconds)
 */
import { loadavg } from 'node:os';
import { Fabric, startNodeCluster } from '@tabby/e2e';
import { poll } from '@tabby/testkit';
import { emit, median, option, type Bench } from '../emit.js';

const round = (x: number): number => Math.round(x * 10) / 10;

/** Unix-time (ms) of each answered request of a `ping -D` output, by sequence number. */
function replies(out: string): Map<number, number> {
  const m = new Map<number, number>();
  for (const r of out.matchAll(/^\[(\d+\.\d+)\] .*icmp_seq=(\d+) /gm)) m.set(Number(r[2]), Number(r[1]) * 1000);
  return m;
}

const bench: Bench = {
  description: 'BGP blocked between two tabby-nodes → pods connected again over the fallback tunnel (goal ≤ bgpFallbackTimeout + 1 s)',
  async run(args) {
    const rounds = Number(option(args, '--rounds', '3'));
    const timeoutS = Number(option(args, '--timeout', '3'));
    const c = await startNodeCluster({ layout: [3], fallbackTimeout: timeoutS, poolEnv: { CALICO_IPV4POOL_VXLAN: 'Never' } });
    try {
      const [n1, n2] = [c.nodes[0]!, c.nodes[1]!];
      const [a, b] = [await c.addPod(n1, 'bench', 'a'), await c.addPod(n2, 'bench', 'b')];
      await poll(() => c.ping(a, b.ip), { what: 'a → b', timeout: 60_000 });
      const restore: number[] = [];
      const lostBack: number[] = [];
      for (let r = 0; r < rounds; r++) {
        const ping = c.net.spawn(a.netns, 'ping', ['-D', '-n', '-i', '0.02', '-W', '1', b.ip], { maxOutput: 64 << 20 });
        await poll(() => replies(ping.output).size > 10, { what: 'ping running', timeout: 10_000 });
        let blockedAt = 0;
        await c.restartAgent(n2, 'SIGTERM', async () => {
          await Fabric.blockBgpBetween(n1, n2, true);
          blockedAt = Date.now();
        });
        // Connected again: the first answer after the first unanswered request since the block.
        const back = await poll(() => {
          const got = replies(ping.output);
          const seqs = [...got.keys()].sort((x, y) => x - y);
          const gap = seqs.findIndex((s, i) => i > 0 && got.get(s)! > blockedAt && s !== seqs[i - 1]! + 1);
          return gap < 0 ? undefined : got.get(seqs[gap]!)!;
        }, { what: 'pings answered again after the block', timeout: 60_000, interval: 20 });
        restore.push(back - blockedAt);
        const before = replies(ping.output).size;
        await Fabric.blockBgpBetween(n1, n2, false);
        await poll(async () => (await c.status(n1)).fallback.length === 0 && (await c.status(n2)).fallback.length === 0, { what: 'back on BGP', timeout: 90_000, interval: 250 });
        await ping.stop('SIGINT', 3000);
        const got = replies(ping.output);
        const last = Math.max(...got.keys());
        const seqs = [...got.keys()].sort((x, y) => x - y).slice(before);
        lostBack.push(seqs.length === 0 ? 0 : last - seqs[0]! + 1 - seqs.length);
      }
      const base = { bench: 'node-fallback', rounds, bgpFallbackTimeoutS: timeoutS, load: loadavg().map(round) };
      emit({ ...base, metric: 'blocked_to_connected_median', value: Math.round(median(restore)), unit: 'ms', goal: `<= ${timeoutS * 1000 + 1000} ms`, samples: restore.map(Math.round) });
      emit({ ...base, metric: 'blocked_to_connected_max', value: Math.round(Math.max(...restore)), unit: 'ms' });
      emit({ ...base, metric: 'pings_lost_moving_back_to_bgp', value: lostBack.reduce((x, y) => x + y, 0), unit: 'packets', samples: lostBack });
    } finally {
      await c.stop();
    }
  },
};
export default bench;
