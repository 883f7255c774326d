/**
 * bgp-ingest: a source announces N routes over eBGP to the receiver under test — Tabby
 * (`tabby-bgp`), BIRD, GoBGP, FRR — each run in fresh network namespaces. Measures the time from
 * the source's session reaching Established until the receiver's Loc-RIB holds all N (polled),
 * the receiver's CPU time over that span, and its peak RSS (VmHWM). Prints the median of the
 * runs per receiver.
 *
 * Feeds (`--feed`): `bird` (default) — a BIRD 2 source exporting N static /32s (Established from
 * BIRD's millisecond `since` stamp); `host32`, `table`, `ipv6` — our own sender (bgp-source.ts),
 * which encodes the feed before connecting and writes it at once, so it is never the bottleneck:
 * N /32s, a realistic IPv4 table (/8–/24, N/4 AS paths with communities and MEDs), or an IPv6
 * table over an IPv6 session (see bgp-feed.ts).
 *
 * `node bench/dist/run.js bgp-ingest [--routes 100000,1000000] [--runs 3] [--slow-runs 1]
 *  [--receivers tabby,bird,gobgp,frr] [--feed bird|host32|table|ipv6]` — `--slow-runs` caps the
 *  runs for GoBGP/FRR at >= 1M. A receiver `tabby=PATH` runs another build's tabby-bgp.js (an old
 *  build against the new one, in the same run). The runs of the receivers alternate (run 1 of
 *  each, then run 2 of each, ...), so a change in the machine's load hits them alike.
 *
 * Everything (namespaces, daemons, temp dirs) is removed after each run.
 */
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BirdDaemon, FrrDaemon, GobgpDaemon, TestNet, poll, tempDir, type Netns, type Proc } from '@tabby/testkit';
import { requestStatus, type StatusReport } from '@tabby/bgp';
import { emit, median, option, type Bench } from '../emit.js';
import type { FeedKind } from '../bgp-feed.js';
import { cpuSeconds, peakRss } from '../proc.js';

/** A receiver daemon started for one run. */
export interface RunningReceiver {
  pid: number;
  count(): Promise<number>;
  stop(): Promise<void>;
}

/** Addresses of the two-namespace bench topology. */
export const SRC = { addr: '10.0.0.1', asn: 65001 };
export const RCV = { addr: '10.0.0.2', asn: 65002 };
/** IPv6 addresses of the same link (the `ipv6` feed's session). */
export const SRC6 = 'fd00:10::1';
export const RCV6 = 'fd00:10::2';

/** Where a feed comes from. */
export type Feed = 'bird' | FeedKind;

/** Path of the built `tabby-bgp` entry point. */
export const TABBY_BIN = join(dirname(fileURLToPath(import.meta.url)), '../../../bgp/dist/bin/tabby-bgp.js');

/** The i-th /32 of the bench: 100.64.0.0 + i. */
export function routeAddr(i: number): string {
  const v = 0x64400000 + i;
  return `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
}

/** BIRD config for a source announcing `n` /32s to `peer`, with the BGP protocol disabled until `birdc enable p`. */
export function sourceBirdConfig(n: number, me: { addr: string; asn: number }, peer: { addr: string; asn: number }): string {
  const lines: string[] = [`router id ${me.addr};`, 'protocol device {}', 'protocol static feed { ipv4;'];
  for (let i = 0; i < n; i++) lines.push(`route ${routeAddr(i)}/32 blackhole;`);
  lines.push('}');
  lines.push(`protocol bgp p { local ${me.addr} as ${me.asn}; neighbor ${peer.addr} as ${peer.asn}; disabled; connect delay time 1; ipv4 { import none; export all; }; }`);
  return lines.join('\n') + '\n';
}

/** Epoch ms of a BIRD `since` stamp ("HH:MM:SS.mmm", today, local time). */
export function birdSince(since: string): number {
  const [h, m, s] = since.split(':') as [string, string, string];
  const d = new Date();
  d.setHours(Number(h), Number(m), 0, 0);
  return d.getTime() + Math.round(Number(s) * 1000);
}

/** Starts `tabby-bgp` in `ns` with `config` (written as JSON, which YAML accepts; the status socket is added) and waits for its socket. */
export async function startTabby(
  net: TestNet,
  ns: Netns,
  config: Record<string, unknown>,
  extraArgs: string[] = [],
  bin = TABBY_BIN,
): Promise<RunningReceiver & { proc: Proc; socket: string }> {
  const { dir, remove } = tempDir('tabby-bgp-bench-');
  const socket = join(dir, 'status.sock');
  writeFileSync(join(dir, 'tabby.yaml'), JSON.stringify({ ...config, statusSocket: socket }));
  const envArgs = (process.env.TABBY_BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const proc = net.spawn(ns, process.execPath, [...envArgs, ...extraArgs, bin, '--config', join(dir, 'tabby.yaml'), '--log-level', process.env.TABBY_BENCH_LOG_LEVEL ?? 'warn']);
  const up = await poll(async () => (!proc.running ? 'dead' : requestStatus(socket, { cmd: 'status' }).then(() => 'up')), { timeout: 120_000, what: 'tabby-bgp status socket' });
  if (up === 'dead') throw new Error(`tabby-bgp exited: ${proc.output}`);
  return {
    pid: proc.pid,
    proc,
    socket,
    count: async () => {
      const r = (await requestStatus<StatusReport>(socket, { cmd: 'status' })).locRib;
      return r.ipv4 + r.ipv6;
    },
    stop: async () => {
      // A profiler (--cpu-prof, --heap-prof in TABBY_BENCH_NODE_ARGS) writes its file at exit: give it time.
      await proc.stop('SIGTERM', envArgs.some((a) => a.includes('prof')) ? 60_000 : 3000);
      remove();
    },
  };
}

/** A receiver: ours (this build, or `tabby=PATH` for another build's tabby-bgp.js) or a peer daemon. */
type ReceiverName = 'tabby' | 'bird' | 'gobgp' | 'frr' | `tabby=${string}`;

async function startReceiver(name: ReceiverName, net: TestNet, ns: Netns, v6: boolean): Promise<RunningReceiver> {
  const [src, rcv, fam] = v6 ? [SRC6, RCV6, 'ipv6'] : [SRC.addr, RCV.addr, 'ipv4'];
  if (v6 && !name.startsWith('tabby') && name !== 'bird') throw new Error(`the ipv6 feed runs with tabby and bird only, not ${name}`);
  if (name.startsWith('tabby'))
    return startTabby(
      net,
      ns,
      {
        routerId: RCV.addr,
        asn: RCV.asn,
        listen: { address: rcv, port: 179 },
        peers: [{ address: src, asn: SRC.asn, passive: true, families: [`${fam}-unicast`] }],
      },
      [],
      name.startsWith('tabby=') ? name.slice('tabby='.length) : TABBY_BIN,
    );
  switch (name) {
    case 'bird': {
      const d = await BirdDaemon.start({ ns, net }, `router id ${RCV.addr};\nprotocol device {}\nprotocol bgp p { local ${rcv} as ${RCV.asn}; neighbor ${src} as ${SRC.asn}; passive on; ${fam} { import all; export none; }; }\n`);
      // "Routes: N imported" of the protocol: cheap, unlike `show route count` over a million routes.
      return { pid: d.proc.pid, count: async () => (await d.protocol('p'))?.channels[fam]?.imported ?? 0, stop: () => d.stop() };
    }
    case 'gobgp': {
      const d = await GobgpDaemon.start({ ns, net }, `global:\n  config: { as: ${RCV.asn}, router-id: ${RCV.addr} }\nneighbors:\n  - config: { neighbor-address: ${SRC.addr}, peer-as: ${SRC.asn} }\n    transport: { config: { passive-mode: true } }\n    afi-safis: [{ config: { afi-safi-name: ipv4-unicast } }]\n`);
      // Accepted paths of the neighbor (they enter the global RIB as they are accepted): cheap to ask.
      return { pid: d.proc.pid, count: async () => (await d.neighbor(SRC.addr))?.accepted['ipv4-unicast'] ?? 0, stop: () => d.stop() };
    }
    case 'frr': {
      const d = await FrrDaemon.start({ ns, net }, `hostname rcv\nrouter bgp ${RCV.asn}\n bgp router-id ${RCV.addr}\n no bgp ebgp-requires-policy\n neighbor ${SRC.addr} remote-as ${SRC.asn}\n neighbor ${SRC.addr} passive\n`);
      return { pid: d.bgpd.pid, count: async () => (await d.peer(SRC.addr))?.pfxRcd.ipv4Unicast ?? 0, stop: () => d.stop() };
    }
    default:
      throw new Error(`unknown receiver ${name}: expected tabby, tabby=PATH, bird, gobgp or frr`);
  }
}

/** Two namespaces joined by a veth: source (10.0.0.1) and receiver (10.0.0.2). */
export async function benchTopology(net: TestNet): Promise<{ src: Netns; rcv: Netns }> {
  const src = await net.netns('s');
  const rcv = await net.netns('r');
  await net.veth(src, net.name('s0'), rcv, net.name('r0'), `${SRC.addr}/30`, `${RCV.addr}/30`);
  await src.ip('addr', 'add', `${SRC6}/64`, 'dev', net.name('s0'), 'nodad');
  await rcv.ip('addr', 'add', `${RCV6}/64`, 'dev', net.name('r0'), 'nodad');
  return { src, rcv };
}

/** Starts the BIRD source with `n` routes loaded and its session still disabled. */
export async function startSource(net: TestNet, ns: Netns, n: number): Promise<BirdDaemon> {
  const bird = await BirdDaemon.start({ ns, net }, sourceBirdConfig(n, SRC, RCV), { timeoutMs: 120_000 });
  await poll(async () => (await bird.routeCount()) === n, { timeout: 120_000, interval: 200, what: `source BIRD to load ${n} routes` });
  return bird;
}

/** Waits for the source's session to be Established; returns its epoch ms. */
export async function establishedAt(bird: BirdDaemon, timeoutMs = 60_000): Promise<number> {
  const p = await poll(async () => {
    const x = await bird.protocol('p');
    return x?.bgpState === 'Established' && x;
  }, { timeout: timeoutMs, interval: 20, what: 'source session Established' });
  return birdSince(p.since);
}

/**
 * Keeps the BIRD source awake while a run is active: an idle BIRD's sender can stall between
 * bursts; a control-socket request every 100 ms wakes its event loop. Returns the stop function.
 */
export function keepAwake(bird: BirdDaemon): () => void {
  let on = true;
  void (async () => {
    while (on) {
      await bird.birdc('show', 'protocols', 'p').catch(() => undefined);
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  return () => void (on = false);
}

/** Path of the built sender (bgp-source.ts). */
const SOURCE_BIN = join(dirname(fileURLToPath(import.meta.url)), '../bgp-source.js');

/** Starts our own sender of `kind` in `ns`; resolves with the epoch ms of its Established. */
async function ownSource(net: TestNet, ns: Netns, kind: FeedKind, n: number): Promise<{ established: Promise<number> }> {
  const v6 = kind === 'ipv6';
  const proc = net.spawn(ns, process.execPath, [SOURCE_BIN, '--kind', kind, '--routes', String(n), '--local', v6 ? SRC6 : SRC.addr, '--peer', v6 ? RCV6 : RCV.addr, '--as', String(SRC.asn), '--peer-as', String(RCV.asn), '--router-id', SRC.addr]);
  const line = (key: string): number | false => {
    const m = new RegExp(`"${key}":(\\d+)`).exec(proc.output);
    if (!m && !proc.running) throw new Error(`bgp-source exited: ${proc.output.slice(-500)}`);
    return m ? Number(m[1]) : false;
  };
  await poll(async () => line('ready'), { timeout: 300_000, interval: 100, what: 'bgp-source to encode its feed' });
  return { established: poll(async () => line('established'), { timeout: 60_000, interval: 10, what: 'bgp-source session Established' }) };
}

async function oneRun(name: ReceiverName, n: number, feed: Feed): Promise<{ seconds: number; rss: number; cpu: number }> {
  const net = new TestNet();
  try {
    const { src, rcv } = await benchTopology(net);
    let t0: number;
    let r: RunningReceiver;
    let stopAwake = (): void => undefined;
    if (feed === 'bird') {
      const source = await startSource(net, src, n);
      r = await startReceiver(name, net, rcv, false);
      await source.birdc('enable', 'p');
      stopAwake = keepAwake(source);
      t0 = await establishedAt(source);
    } else {
      r = await startReceiver(name, net, rcv, feed === 'ipv6');
      t0 = await (await ownSource(net, src, feed, n)).established;
    }
    const cpu0 = cpuSeconds(r.pid);
    await poll(async () => (await r.count()) >= n, { timeout: 300_000, interval: name.startsWith('tabby') ? 25 : 100, what: `${name} to hold ${n} routes` }).finally(stopAwake);
    const seconds = (Date.now() - t0) / 1000;
    const cpu = cpuSeconds(r.pid) - cpu0;
    const rss = peakRss(r.pid);
    await r.stop();
    return { seconds, rss, cpu };
  } finally {
    await net.cleanup();
  }
}

const bench: Bench = {
  description: 'BIRD or our own sender announces N routes (/32s, a realistic table, IPv6); time from Established to all in the receiver Loc-RIB and peak RSS, Tabby vs BIRD/GoBGP/FRR',
  async run(args) {
    const sizes = option(args, '--routes', '100000,1000000').split(',').map(Number);
    const runs = Number(option(args, '--runs', '3'));
    const slowRuns = Number(option(args, '--slow-runs', String(runs)));
    const receivers = option(args, '--receivers', 'tabby,bird,gobgp,frr').split(',') as ReceiverName[];
    const feed = option(args, '--feed', 'bird') as Feed;
    if (!['bird', 'host32', 'table', 'ipv6'].includes(feed)) throw new Error(`--feed ${feed}: expected bird, host32, table or ipv6`);
    for (const n of sizes) {
      const results = new Map<ReceiverName, Array<{ seconds: number; rss: number; cpu: number }>>(receivers.map((r) => [r, []]));
      for (let i = 0; i < runs; i++) {
        for (const name of receivers) {
          const slow = (name === 'gobgp' || name === 'frr') && n >= 1_000_000;
          if (slow && i >= slowRuns) continue;
          try {
            results.get(name)!.push(await oneRun(name, n, feed));
          } catch (e: unknown) {
            emit({ bench: 'bgp-ingest', metric: 'error', value: 1, unit: 'count', receiver: name, routes: n, feed, error: e instanceof Error ? e.message.slice(0, 500) : String(e) });
          }
        }
      }
      for (const name of receivers) {
        const res = results.get(name)!;
        if (!res.length) continue;
        const secs = res.map((r) => r.seconds);
        const rss = median(res.map((r) => r.rss));
        emit({ bench: 'bgp-ingest', metric: 'ingest_time', value: Number(median(secs).toFixed(3)), unit: 's', receiver: name, routes: n, feed, runs: res.length, samples: secs.map((s) => Number(s.toFixed(3))) });
        emit({ bench: 'bgp-ingest', metric: 'receiver_cpu', value: Number(median(res.map((r) => r.cpu)).toFixed(2)), unit: 's', receiver: name, routes: n, feed, runs: res.length, note: 'CPU the receiver used from Established to all routes (includes answering the count polls)' });
        emit({ bench: 'bgp-ingest', metric: 'peak_rss', value: Number((rss / 1e6).toFixed(1)), unit: 'MB', receiver: name, routes: n, feed, runs: res.length });
        emit({ bench: 'bgp-ingest', metric: 'load_average', value: Number(loadavg()[0]!.toFixed(2)), unit: 'load', receiver: name, routes: n, feed, note: '1-minute load average after the runs (shared machine: figures are noisy)' });
        emit({ bench: 'bgp-ingest', metric: 'peak_rss_per_route', value: Math.round(rss / n), unit: 'B', receiver: name, routes: n, feed, runs: res.length });
      }
    }
  },
};
export default bench;
