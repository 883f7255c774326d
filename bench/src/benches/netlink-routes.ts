/**
 * netlink-routes: add then delete N /32 routes (scope link, protocol 80) on a veth inside a
 * test namespace, through @tabby/netlink (one batch) and through `ip -batch` (same namespace
 * setup, same run), and print both and the ratio. Target: ours <= 1.2x ip -batch.
 *
 * Wall time and CPU time (user+sys; ip's from /usr/bin/time) are both reported: with other
 * work on the machine, wall time is mostly time spent waiting for a CPU.
 *
 * Usage: netlink-routes [count ...] [--rounds R] [--sweep]  (--sweep: CPU time by requests per send)   (default counts 10000 100000, 3 rounds;
 * the median round is reported).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Netlink, type Request } from '@tabby/netlink';
import { TestNet } from '@tabby/testkit';
import { emit, median, type Bench } from '../emit.js';

/** The i-th /32 route destination, 10.64.0.0 upwards. */
function dst(i: number): string {
  return `10.${64 + ((i >> 16) & 63)}.${(i >> 8) & 255}.${i & 255}`;
}

/** Wall and CPU (user+sys) milliseconds of one measured step. */
interface Timing {
  wall: number;
  cpu: number;
}

const hasTime = existsSync('/usr/bin/time');

function ipBatch(ns: string, file: string): Timing {
  const t = performance.now();
  // /usr/bin/time reports the child's CPU time: on a loaded machine wall time is mostly waiting.
  const argv = ['ip', '-n', ns, '-batch', file];
  const cmd = hasTime ? ['/usr/bin/time', '-f', 'cpu %U %S', ...argv] : argv;
  const r = spawnSync(cmd[0]!, cmd.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] });
  if (r.status !== 0) throw new Error(`ip -batch failed: ${r.stderr?.toString() ?? r.error?.message}`);
  const out = r.stderr.toString();
  const wall = performance.now() - t;
  const m = /cpu ([\d.]+) ([\d.]+)/.exec(out);
  return { wall, cpu: m ? (Number(m[1]) + Number(m[2])) * 1000 : NaN };
}

async function ours(nl: Netlink, reqs: Request[]): Promise<Timing> {
  const c = process.cpuUsage();
  const t = performance.now();
  const res = await nl.batch(reqs);
  const wall = performance.now() - t;
  const cu = process.cpuUsage(c);
  if (res.failed.length > 0) throw new Error(`${res.failed.length} requests failed, first: ${res.failed[0]!.error.message}`);
  return { wall, cpu: (cu.user + cu.system) / 1000 };
}

function parseArgs(args: string[]): { counts: number[]; rounds: number; sweep: boolean } {
  const counts: number[] = [];
  let rounds = 3;
  let sweep = false;
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--rounds') rounds = Number(args[++i]);
    else if (args[i] === '--sweep') sweep = true;
    else counts.push(Number(args[i]));
  }
  return { counts: counts.length ? counts : [10_000, 100_000], rounds, sweep };
}

/** Requests per sendto vs time: the effect of batching (1 = one send and one ack wait per route, like ip). */
async function sweepBatchSizes(ns: string, oif: number, adds: Request[], dels: Request[], rounds: number): Promise<void> {
  for (const batchSize of [1, 16, 256, 4096]) {
    const nl = await Netlink.open({ netns: ns, socket: { batchSize } });
    const add: number[] = [];
    const del: number[] = [];
    for (let r = 0; r < rounds; r++) {
      add.push((await ours(nl, adds)).cpu);
      del.push((await ours(nl, dels)).cpu);
    }
    nl.close();
    emit({ bench: 'netlink-routes', routes: adds.length, rounds, oif, batchSize, metric: 'tabby_add_del_cpu_by_batch_size', value: round(median(add) + median(del)), unit: 'ms' });
  }
}

const bench: Bench = {
  description: 'add+delete N /32 routes in a namespace: @tabby/netlink batch vs ip -batch',
  async run(args) {
    const { counts, rounds, sweep } = parseArgs(args);
    const net = new TestNet();
    const dir = mkdtempSync(join(tmpdir(), 'tabby-nlbench-'));
    try {
      const ns = await net.netns('rb');
      await ns.ip('link', 'add', 'b0', 'type', 'veth', 'peer', 'name', 'b1');
      await ns.ip('link', 'set', 'b0', 'up');
      await ns.ip('link', 'set', 'b1', 'up');
      const nl = await Netlink.open({ netns: ns.name });
      const oif = (await nl.links.get('b0')).index;
      for (const n of counts) {
        const lines = Array.from({ length: n }, (_, i) => `${dst(i)}/32 dev b0 scope link proto 80`);
        writeFileSync(join(dir, 'add'), lines.map((l) => `route add ${l}`).join('\n') + '\n');
        writeFileSync(join(dir, 'del'), lines.map((l) => `route del ${l}`).join('\n') + '\n');
        const adds: Request[] = [];
        const dels: Request[] = [];
        for (let i = 0; i < n; i++) {
          adds.push({ kind: 'route', op: 'add', route: { dst: `${dst(i)}/32`, oif, scope: 253, protocol: 80 } });
          dels.push({ kind: 'route', op: 'del', route: { dst: `${dst(i)}/32`, oif, scope: 253, protocol: 80 } });
        }
        const m = { ipAdd: [] as Timing[], ipDel: [] as Timing[], nlAdd: [] as Timing[], nlDel: [] as Timing[] };
        for (let r = 0; r < rounds; r++) {
          m.ipAdd.push(ipBatch(ns.name, join(dir, 'add')));
          m.ipDel.push(ipBatch(ns.name, join(dir, 'del')));
          m.nlAdd.push(await ours(nl, adds));
          m.nlDel.push(await ours(nl, dels));
        }
        const base = { bench: 'netlink-routes', routes: n, rounds, loadavg1: round(loadavg()[0]!) };
        for (const kind of ['wall', 'cpu'] as const) {
          const med = (xs: Timing[]): number => median(xs.map((x) => x[kind]));
          const ip = { add: med(m.ipAdd), del: med(m.ipDel) };
          const tb = { add: med(m.nlAdd), del: med(m.nlDel) };
          const sfx = kind === 'wall' ? '' : '_cpu';
          if (kind === 'cpu' && !hasTime) continue;
          emit({ ...base, metric: `ip_batch_add${sfx}`, value: round(ip.add), unit: 'ms' });
          emit({ ...base, metric: `ip_batch_del${sfx}`, value: round(ip.del), unit: 'ms' });
          emit({ ...base, metric: `tabby_add${sfx}`, value: round(tb.add), unit: 'ms' });
          emit({ ...base, metric: `tabby_del${sfx}`, value: round(tb.del), unit: 'ms' });
          emit({ ...base, metric: `ratio_add${sfx}`, value: round(tb.add / ip.add, 3), unit: 'x' });
          emit({ ...base, metric: `ratio_del${sfx}`, value: round(tb.del / ip.del, 3), unit: 'x' });
          emit({ ...base, metric: `ratio_total${sfx}`, value: round((tb.add + tb.del) / (ip.add + ip.del), 3), unit: 'x' });
        }
        if (sweep) await sweepBatchSizes(ns.name, oif, adds, dels, rounds);
      }
      nl.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await net.cleanup();
    }
  },
};

function round(v: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

export default bench;
