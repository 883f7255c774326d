/**
 * felix-routes: felix's routing half against the kernel, in a test namespace.
 * - Cold start: 1,000 local endpoints (veths exist) and 10,000 remote blocks (BGP best paths via
 *   100 next hops) → every route in the kernel. Compared, same run and namespace setup, with one
 *   raw @tabby/netlink batch of the same 11,000 routes and with `ip -batch` of them. Felix's
 *   figure includes reading the kernel back and 6 sysctls per endpoint; `felix_routes_only`
 *   subtracts the sysctl time measured separately.
 * - One endpoint added at 1,000 endpoints → its route in the kernel (felix idle after the event):
 *   p50 / p99.
 * - Memory of the pure graph per endpoint and per remote block (heap after GC).
 *
 * Usage: felix-routes [--endpoints N] [--blocks M] [--rounds R] [--adds K]
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Felix, NetlinkKernel, NetnsSysctl, RoutingGraph, workloadSysctls, type FelixEvent } from '@tabby/felix';
import { Netlink, type Request } from '@tabby/netlink';
import { TestNet } from '@tabby/testkit';
import { emit, median, option, percentile, type Bench } from '../emit.js';

const ME = 'bench-node';

function iface(i: number): string {
  return `cali${i.toString(16).padStart(11, '0')}`;
}
function podIp(i: number): string {
  return `10.250.${(i >> 8) & 255}.${i & 255}`;
}
function remoteBlock(j: number): string {
  const v = (16 << 16) + j * 64; // 10.(16..)…: /26 blocks after the local ones
  return `10.${(v >> 16) & 255}.${(v >> 8) & 255}.${v & 255}/26`;
}
function nextHop(j: number): string {
  return `10.100.0.${2 + (j % 100)}`;
}

function events(endpoints: number, blocks: number): FelixEvent[] {
  const ev: FelixEvent[] = [
    { type: 'node-update', node: { name: ME, ipv4Address: '10.100.0.1', ipv4Subnet: '10.100.0.0/16' } },
    { type: 'pool-update', pool: { name: 'p', cidr: '10.0.0.0/8', ipipMode: 'Never', vxlanMode: 'Never', disabled: false } },
    { type: 'block-update', block: { cidr: '10.250.0.0/22', node: ME } },
  ];
  for (let i = 0; i < endpoints; i++) ev.push({ type: 'endpoint-update', endpoint: { key: `ns/p${i}`, node: ME, iface: iface(i), ipNetworks: [`${podIp(i)}/32`] } });
  for (let j = 0; j < blocks; j++) {
    ev.push({ type: 'block-update', block: { cidr: remoteBlock(j), node: `n${j % 100}` } });
    ev.push({ type: 'bgp-route-update', prefix: remoteBlock(j), nextHop: nextHop(j) });
  }
  return ev;
}

function sh(args: string[], input?: string): void {
  const r = spawnSync(args[0]!, args.slice(1), { input, stdio: ['pipe', 'ignore', 'pipe'] });
  if (r.status !== 0) throw new Error(`${args.join(' ')} failed: ${r.stderr?.toString()}`);
}

function gc(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

function graphMemory(endpoints: number, blocks: number): { perEndpoint: number; perBlock: number } {
  const heap = (): number => {
    gc();
    return process.memoryUsage().heapUsed;
  };
  const measure = (e: number, b: number): number => {
    const before = heap();
    const g = new RoutingGraph(ME);
    for (const ev of events(e, b)) g.apply(ev);
    g.flush(0);
    const used = heap() - before;
    if (g.size.routes < 0) throw new Error('unreachable'); // keep g alive until measured
    return used;
  };
  const base = measure(0, 0);
  return { perEndpoint: (measure(endpoints, 0) - base) / endpoints, perBlock: (measure(0, blocks) - base) / blocks };
}

const bench: Bench = {
  description: 'felix cold start (1,000 endpoints + 10,000 remote blocks) vs raw netlink batch and ip -batch; endpoint-add latency; graph memory',
  async run(args) {
    const endpoints = Number(option(args, '--endpoints', '1000'));
    const blocks = Number(option(args, '--blocks', '10000'));
    const rounds = Number(option(args, '--rounds', '3'));
    const adds = Number(option(args, '--adds', '200'));
    const base = { bench: 'felix-routes', endpoints, blocks, rounds, loadavg1: round(loadavg()[0]!) };
    const net = new TestNet();
    const dir = mkdtempSync(join(tmpdir(), 'tabby-felixbench-'));
    try {
      const ns = await net.netns('fb');
      const links = ['link add u0 type veth peer name u1', 'link set u0 up', 'link set u1 up', 'addr add 10.100.0.1/16 dev u0'];
      for (let i = 0; i < endpoints + adds; i++) links.push(`link add ${iface(i)} type veth peer name p${i}`, `link set ${iface(i)} up`, `link set p${i} up`);
      sh(['ip', '-n', ns.name, '-batch', '-'], links.join('\n') + '\n');
      const nl = await Netlink.open({ netns: ns.name });
      const index = new Map((await nl.links.list()).map((l) => [l.name, l.index]));
      const raw: Request[] = [];
      const lines: string[] = [];
      for (let i = 0; i < endpoints; i++) {
        raw.push({ kind: 'route', op: 'replace', route: { dst: `${podIp(i)}/32`, oif: index.get(iface(i))!, scope: 253, protocol: 80 } });
        lines.push(`route replace ${podIp(i)}/32 dev ${iface(i)} scope link proto 80`);
      }
      raw.push({ kind: 'route', op: 'replace', route: { dst: '10.250.0.0/22', type: 'blackhole', protocol: 80 } });
      lines.push('route replace blackhole 10.250.0.0/22 proto 80');
      for (let j = 0; j < blocks; j++) {
        raw.push({ kind: 'route', op: 'replace', route: { dst: remoteBlock(j), gateway: nextHop(j), protocol: 80 } });
        lines.push(`route replace ${remoteBlock(j)} via ${nextHop(j)} proto 80`);
      }
      writeFileSync(join(dir, 'routes'), lines.join('\n') + '\n');
      const flush = (): void => sh(['ip', '-n', ns.name, 'route', 'flush', 'proto', '80']);

      const felixMs: number[] = [];
      const rawMs: number[] = [];
      const ipMs: number[] = [];
      const sysctlMs: number[] = [];
      for (let r = 0; r < rounds; r++) {
        flush();
        let t = performance.now();
        const res = await nl.batch(raw);
        rawMs.push(performance.now() - t);
        if (res.failed.length) throw new Error(`raw batch: ${res.failed[0]!.error.message}`);
        flush();
        t = performance.now();
        sh(['ip', '-n', ns.name, '-batch', join(dir, 'routes')]);
        ipMs.push(performance.now() - t);
        flush();
        const sysctl = new NetnsSysctl(ns.name);
        t = performance.now();
        sysctl.writeAll(Array.from({ length: endpoints }, (_, i) => workloadSysctls(iface(i))).flat());
        sysctlMs.push(performance.now() - t);
        const kernel = await NetlinkKernel.open(ns.name);
        const felix = new Felix({ kernel, sysctl }, { nodeName: ME });
        const evs = events(endpoints, blocks);
        t = performance.now();
        felix.start();
        felix.apply([...evs, { type: 'in-sync' }]);
        await felix.whenIdle();
        felixMs.push(performance.now() - t);
        const n = (await nl.routes.dump({ family: 4, protocol: 80 })).length;
        if (n !== endpoints + blocks + 1) throw new Error(`felix programmed ${n} routes, expected ${endpoints + blocks + 1}`);
        if (r === rounds - 1) await endpointAdds(felix, endpoints, adds, base);
        await felix.stop();
        kernel.close();
      }
      const f = median(felixMs);
      emit({ ...base, metric: 'felix_cold_start', value: round(f), unit: 'ms' });
      emit({ ...base, metric: 'raw_netlink_batch', value: round(median(rawMs)), unit: 'ms' });
      emit({ ...base, metric: 'ip_batch', value: round(median(ipMs)), unit: 'ms' });
      emit({ ...base, metric: 'sysctls_alone', value: round(median(sysctlMs)), unit: 'ms' });
      emit({ ...base, metric: 'ratio_vs_raw_batch', value: round(f / median(rawMs), 3), unit: 'x' });
      emit({ ...base, metric: 'ratio_routes_only_vs_raw_batch', value: round((f - median(sysctlMs)) / median(rawMs), 3), unit: 'x' });
      emit({ ...base, metric: 'ratio_vs_ip_batch', value: round(f / median(ipMs), 3), unit: 'x' });
      nl.close();
      const mem = graphMemory(endpoints, blocks);
      emit({ ...base, metric: 'graph_bytes_per_endpoint', value: Math.round(mem.perEndpoint), unit: 'B' });
      emit({ ...base, metric: 'graph_bytes_per_remote_block', value: Math.round(mem.perBlock), unit: 'B' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await net.cleanup();
    }
  },
};

/** Adds `adds` endpoints one at a time (their veths exist) and times each until felix is idle. */
async function endpointAdds(felix: Felix, endpoints: number, adds: number, base: { bench: string } & Record<string, unknown>): Promise<void> {
  const ms: number[] = [];
  for (let k = 0; k < adds; k++) {
    const i = endpoints + k;
    const t = performance.now();
    felix.apply([{ type: 'endpoint-update', endpoint: { key: `ns/p${i}`, node: ME, iface: iface(i), ipNetworks: [`${podIp(i)}/32`] } }]);
    await felix.whenIdle();
    ms.push(performance.now() - t);
  }
  emit({ ...base, adds, metric: 'endpoint_add_p50', value: round(percentile(ms, 50), 3), unit: 'ms' });
  emit({ ...base, adds, metric: 'endpoint_add_p99', value: round(percentile(ms, 99), 3), unit: 'ms' });
}

function round(v: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

export default bench;
