/**
 * bgp-rib: the pure RIB alone (no codec, no TCP). Peer A announces N IPv4 /32s (default 1M) in
 * UPDATEs of ~800 prefixes, each UPDATE with its own attribute set (N/800 distinct sets, as BIRD
 * packs them); then peer B announces the same prefixes (equal preference, so every prefix runs
 * the full decision); then A withdraws everything. Flushes every 16 UPDATEs, as a speaker would
 * per socket read. Messages are built in chunks of 128 UPDATEs outside the timed region, with a
 * minor GC before each chunk, so the figures are the RIB's own (wall time, and CPU time, which
 * is the steadier one on a shared machine). Reports ns/route per phase and bytes per route (heapUsed / RSS deltas after
 * global.gc, and peak RSS over the baseline).
 *
 * `node bench/dist/run.js bgp-rib [--routes 1000000] [--per-update 800] [--out 0] [--flush-every 16] [--no-best] [--numeric]`
 * `--numeric` feeds NLRI as numbers through `Rib.beginUpdate` (the codec's forEachIpv4Nlri path).
 * `--out K` adds K established eBGP peers that receive exports (Adj-RIB-Out); `--no-best` turns
 * off best-path events (as the route-reflector daemon runs).
 * Re-spawns itself with --expose-gc when needed. Creates nothing outside the process.
 */
import { spawnSync } from 'node:child_process';
import { Rib, type UpdateMessage } from '@tabby/bgp';
import { emit, type Bench } from '../emit.js';

interface Opts {
  routes: number;
  perUpdate: number;
  out: number;
  flushEvery: number;
  best: boolean;
  numeric: boolean;
}

function parse(args: string[]): Opts {
  const o: Opts = { routes: 1_000_000, perUpdate: 800, out: 0, flushEvery: 16, best: true, numeric: false };
  for (let i = 0; i < args.length; i += 2) {
    if (args[i] === '--no-best' || args[i] === '--numeric') {
      if (args[i] === '--no-best') o.best = false;
      else o.numeric = true;
      i--;
      continue;
    }
    const v = Number(args[i + 1]);
    if (args[i] === '--routes') o.routes = v;
    else if (args[i] === '--per-update') o.perUpdate = v;
    else if (args[i] === '--out') o.out = v;
    else if (args[i] === '--flush-every') o.flushEvery = v;
  }
  return o;
}

function addr(i: number): string {
  const v = 0x64400000 + i;
  return `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
}

/** The u-th UPDATE of a peer, built lazily as the codec would decode it. */
function update(o: Opts, u: number, peer: string, withdrawOnly: boolean): UpdateMessage {
  const nlri = [];
  const end = Math.min(o.routes, (u + 1) * o.perUpdate);
  for (let i = u * o.perUpdate; i < end; i++) nlri.push({ afi: 1 as const, addr: addr(i), len: 32 });
  if (withdrawOnly) return { type: 'update', withdrawn: nlri, attributes: {}, nlri: [] };
  const attributes = {
    origin: 0 as const,
    asPath: [{ type: 2 as const, asns: [65001, 64600 + (u % 1000), 65100 + Math.floor(u / 1000)] }],
    nextHop: peer === 'a' ? '10.0.0.1' : '10.0.0.3',
    localPref: 100,
  };
  return { type: 'update', withdrawn: [], attributes, nlri };
}

/** An UPDATE as the numeric fast path sees it: attributes plus (addr, len) pairs, as the codec's forEachIpv4Nlri yields them. */
interface NumericUpdate {
  attributes: UpdateMessage['attributes'];
  addrs: Uint32Array;
  lens: Uint8Array;
  withdraw: boolean;
}
type Msg = UpdateMessage | NumericUpdate;

function numericUpdate(o: Opts, u: number, peer: string, withdrawOnly: boolean): NumericUpdate {
  const m = update(o, u, peer, withdrawOnly);
  const list = withdrawOnly ? m.withdrawn : m.nlri;
  const addrs = new Uint32Array(list.length);
  const lens = new Uint8Array(list.length);
  for (let i = 0; i < list.length; i++) {
    addrs[i] = 0x64400000 + u * o.perUpdate + i;
    lens[i] = 32;
  }
  return { attributes: m.attributes, addrs, lens, withdraw: withdrawOnly };
}

function ingestNumeric(rib: Rib, peer: string, m: Msg): { exceeded: boolean } {
  if (!('addrs' in m)) return rib.ingest(peer, m);
  const s = rib.beginUpdate(peer, m.attributes);
  const cb = m.withdraw ? s.withdraw4 : s.announce4;
  for (let i = 0; i < m.addrs.length; i++) cb(m.addrs[i]!, m.lens[i]!, 0);
  return s.end();
}

function gc(full = false): void {
  const g = (globalThis as { gc?: (o?: { type: 'minor' | 'major' }) => void }).gc;
  if (!g) return;
  g({ type: full ? 'major' : 'minor' });
  if (full) g({ type: 'major' });
}

interface Mem {
  heap: number;
  rss: number;
}

function mem(): Mem {
  gc(true);
  const m = process.memoryUsage();
  return { heap: m.heapUsed, rss: m.rss };
}

function cpuNs(): number {
  const c = process.cpuUsage();
  return (c.user + c.system) * 1000;
}

/**
 * Runs one phase; returns wall and CPU ns per route spent in ingest+flush (CPU time is the
 * steadier figure on a shared machine), the flush share, and the peak RSS seen.
 */
function phase(rib: Rib, o: Opts, peer: string, withdrawOnly: boolean): { ns: number; cpu: number; flushNs: number; peakRss: number } {
  const updates = Math.ceil(o.routes / o.perUpdate);
  let ns = 0n;
  let flushNs = 0n;
  let cpu = 0;
  let peakRss = 0;
  const chunk = 8 * o.flushEvery;
  for (let base = 0; base < updates; base += chunk) {
    // Decode-side garbage is made and collected outside the timed region: only the RIB is timed.
    const msgs: Msg[] = [];
    for (let u = base; u < Math.min(updates, base + chunk); u++) msgs.push(o.numeric ? numericUpdate(o, u, peer, withdrawOnly) : update(o, u, peer, withdrawOnly));
    peakRss = Math.max(peakRss, process.memoryUsage.rss());
    gc();
    const c0 = cpuNs();
    for (let k = 0; k < msgs.length; k++) {
      const u = base + k;
      const t0 = process.hrtime.bigint();
      const r = o.numeric ? ingestNumeric(rib, peer, msgs[k]!) : rib.ingest(peer, msgs[k] as UpdateMessage);
      ns += process.hrtime.bigint() - t0;
      if (r.exceeded) throw new Error('unexpected max-prefix');
      if ((u + 1) % o.flushEvery === 0 || u === updates - 1) {
        const t1 = process.hrtime.bigint();
        rib.flush();
        flushNs += process.hrtime.bigint() - t1;
      }
    }
    cpu += cpuNs() - c0;
  }
  return { ns: Number(ns + flushNs) / o.routes, cpu: cpu / o.routes, flushNs: Number(flushNs) / o.routes, peakRss: Math.max(peakRss, process.memoryUsage.rss()) };
}

/**
 * Control: the same chunked messages, timed the same way, but only each prefix's address is
 * read (char by char). The floor any consumer of decoded UPDATEs pays on this machine.
 */
function control(o: Opts): number {
  const updates = Math.ceil(o.routes / o.perUpdate);
  let cpu = 0;
  let sink = 0;
  const chunk = 8 * o.flushEvery;
  for (let base = 0; base < updates; base += chunk) {
    const msgs: UpdateMessage[] = [];
    for (let u = base; u < Math.min(updates, base + chunk); u++) msgs.push(update(o, u, 'a', false));
    gc();
    const c0 = cpuNs();
    for (const m of msgs)
      for (const p of m.nlri) {
        let a = 0;
        for (let i = 0; i < p.addr.length; i++) a = (a * 31 + p.addr.charCodeAt(i)) | 0;
        sink ^= a + p.len;
      }
    cpu += cpuNs() - c0;
  }
  return sink === 0.5 ? -1 : cpu / o.routes;
}

async function run(args: string[]): Promise<void> {
  if (!(globalThis as { gc?: unknown }).gc) {
    const r = spawnSync(process.execPath, ['--expose-gc', ...process.execArgv, ...process.argv.slice(1)], { stdio: 'inherit' });
    if (r.status !== 0) throw new Error(`bgp-rib child exited with ${r.status}`);
    return;
  }
  const o = parse(args);
  emit({ bench: 'bgp-rib', metric: 'calibration-loop', value: round(calibrate()), unit: 'ns/iteration', note: 'CPU ns of a trivial add loop: ~0.3 on an idle modern core' });
  const base = mem();
  const rib = new Rib({ asn: 64512, routerId: '10.0.0.2', bestChanges: o.best });
  const families: ['ipv4-unicast'] = ['ipv4-unicast'];
  rib.addPeer({ id: 'a', address: '10.0.0.1', asn: 64512 });
  rib.addPeer({ id: 'b', address: '10.0.0.3', asn: 64512 });
  rib.peerUp('a', { routerId: '10.0.0.1', localAddress: '10.0.0.2', families }, 0);
  rib.peerUp('b', { routerId: '10.0.0.3', localAddress: '10.0.0.2', families }, 0);
  for (let k = 0; k < o.out; k++) {
    rib.addPeer({ id: `out${k}`, address: `10.1.0.${k + 1}`, asn: 65000 + k });
    rib.peerUp(`out${k}`, { routerId: `10.1.0.${k + 1}`, localAddress: '10.1.0.254', families }, 0);
  }
  rib.flush();
  const common = { routes: o.routes, perUpdate: o.perUpdate, outPeers: o.out, bestEvents: o.best, numericNlri: o.numeric };
  const a = phase(rib, o, 'a', false);
  const afterA = mem();
  emit({ bench: 'bgp-rib', metric: 'ingest-peer-a', value: round(a.ns), unit: 'ns/route', cpuNsPerRoute: round(a.cpu), flushShare: round(a.flushNs), ...common });
  emit({ bench: 'bgp-rib', metric: 'heap-after-peer-a', value: round((afterA.heap - base.heap) / o.routes), unit: 'bytes/route', ...common });
  emit({ bench: 'bgp-rib', metric: 'rss-after-peer-a', value: round((afterA.rss - base.rss) / o.routes), unit: 'bytes/route', ...common });
  const b = phase(rib, o, 'b', false);
  const afterB = mem();
  emit({ bench: 'bgp-rib', metric: 'ingest-peer-b-same-prefixes', value: round(b.ns), unit: 'ns/route', cpuNsPerRoute: round(b.cpu), flushShare: round(b.flushNs), ...common });
  emit({ bench: 'bgp-rib', metric: 'heap-after-peer-b', value: round((afterB.heap - base.heap) / (2 * o.routes)), unit: 'bytes/path', ...common });
  emit({ bench: 'bgp-rib', metric: 'rss-after-peer-b', value: round((afterB.rss - base.rss) / (2 * o.routes)), unit: 'bytes/path', ...common });
  emit({ bench: 'bgp-rib', metric: 'peak-rss-over-baseline', value: round((Math.max(a.peakRss, b.peakRss) - base.rss) / o.routes), unit: 'bytes/prefix', ...common });
  const w = phase(rib, o, 'a', true);
  emit({ bench: 'bgp-rib', metric: 'withdraw-peer-a', value: round(w.ns), unit: 'ns/route', cpuNsPerRoute: round(w.cpu), flushShare: round(w.flushNs), ...common });
  emit({ bench: 'bgp-rib', metric: 'attr-sets', value: rib.attrSetCount, unit: 'count', locRib: rib.locRibSize('ipv4-unicast'), ...common });
  // Last, so its garbage does not skew the memory baseline.
  emit({ bench: 'bgp-rib', metric: 'control-read-prefixes', value: round(control(o)), unit: 'cpu-ns/route', note: 'reading decoded prefixes only, no RIB' });
}

/** CPU ns per iteration of a trivial loop: how loaded/slow this machine is right now. */
function calibrate(): number {
  const c0 = cpuNs();
  let s = 0;
  for (let i = 0; i < 1e8; i++) s = (s + i * 7) | 0;
  const ns = (cpuNs() - c0) / 1e8;
  return s === 0.5 ? -1 : ns;
}

function round(x: number): number {
  return Math.round(x * 10) / 10;
}

const bench: Bench = {
  description: 'pure RIB: ingest 1M /32 from two peers, ns/route and bytes/route',
  run,
};
export default bench;
