/**
 * netlink-dump: with N /32 routes (protocol 80) plus a few others in a test namespace, time a
 * full route dump, a dump filtered by protocol (kernel-side under NETLINK_GET_STRICT_CHK and
 * re-checked client-side), a filter matching nothing, and `ip route show proto 80` for
 * reference.
 *
 * Usage: netlink-dump [count] [--rounds R]   (default 100000 routes, 5 rounds; medians).
 */
import { execFileSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { Netlink, type Request, type RouteFilter } from '@tabby/netlink';
import { TestNet } from '@tabby/testkit';
import { emit, median, type Bench } from '../emit.js';

function dst(i: number): string {
  return `10.${64 + ((i >> 16) & 63)}.${(i >> 8) & 255}.${i & 255}/32`;
}

async function timeDump(nl: Netlink, f: RouteFilter, rounds: number): Promise<{ ms: number; cpu: number; count: number }> {
  const times: number[] = [];
  const cpus: number[] = [];
  let count = 0;
  for (let r = 0; r < rounds; r++) {
    const c = process.cpuUsage();
    const t = performance.now();
    count = (await nl.routes.dump(f)).length;
    times.push(performance.now() - t);
    const cu = process.cpuUsage(c);
    cpus.push((cu.user + cu.system) / 1000);
  }
  return { ms: median(times), cpu: median(cpus), count };
}

const bench: Bench = {
  description: 'dump and filter N routes in a namespace (@tabby/netlink), with ip route show for reference',
  async run(args) {
    const ri = args.indexOf('--rounds');
    const rounds = ri >= 0 ? Number(args[ri + 1]) : 5;
    const n = Number(args.find((a, i) => !a.startsWith('--') && i !== ri + 1) ?? 100_000);
    const net = new TestNet();
    try {
      const ns = await net.netns('db');
      await ns.ip('link', 'add', 'd0', 'type', 'veth', 'peer', 'name', 'd1');
      await ns.ip('link', 'set', 'd0', 'up');
      await ns.ip('link', 'set', 'd1', 'up');
      const nl = await Netlink.open({ netns: ns.name });
      const oif = (await nl.links.get('d0')).index;
      const reqs: Request[] = [];
      for (let i = 0; i < n; i++) reqs.push({ kind: 'route', op: 'add', route: { dst: dst(i), oif, protocol: 80 } });
      for (let i = 0; i < 100; i++) reqs.push({ kind: 'route', op: 'add', route: { dst: `172.16.${i}.0/24`, oif, protocol: 4 } });
      const res = await nl.batch(reqs);
      if (res.failed.length) throw new Error(`setup: ${res.failed[0]!.error.message}`);
      const base = { bench: 'netlink-dump', routes: n, rounds, loadavg1: Math.round(loadavg()[0]! * 100) / 100 };
      const cases: Array<[string, RouteFilter]> = [
        ['dump_all', {}],
        ['dump_ipv4_main', { family: 4, table: 254 }],
        ['dump_proto80', { family: 4, protocol: 80 }],
        ['dump_proto80_oif', { family: 4, protocol: 80, oif }],
        ['dump_proto_none', { family: 4, protocol: 99 }],
      ];
      for (const [metric, f] of cases) {
        const { ms, cpu, count } = await timeDump(nl, f, rounds);
        emit({ ...base, metric, value: Math.round(ms * 100) / 100, unit: 'ms', matched: count });
        emit({ ...base, metric: `${metric}_cpu`, value: Math.round(cpu * 100) / 100, unit: 'ms', matched: count });
      }
      const ipTimes: number[] = [];
      let ipLines = 0;
      for (let r = 0; r < rounds; r++) {
        const t = performance.now();
        const out = execFileSync('ip', ['-n', ns.name, 'route', 'show', 'proto', '80'], { maxBuffer: 1 << 28 }).toString();
        ipTimes.push(performance.now() - t);
        ipLines = out.split('\n').length - 1;
      }
      emit({ ...base, metric: 'ip_route_show_proto80', value: Math.round(median(ipTimes) * 100) / 100, unit: 'ms', matched: ipLines });
      nl.close();
    } finally {
      await net.cleanup();
    }
  },
};

export default bench;
