/**
 * cni-add: pod ADD and DEL latency through the CNI project's cnitool (as containerd calls
 * plugins), side by side in one run, interleaved so every variant sees the same load:
 *   tabby-agent  — `tabby` as installed (packages/cni's C thin client sending the call to the
 *                  node agent's socket, no Node start-up) served by tabby-cni-agent;
 *   tabby-direct — `tabby` opening etcd itself (no agent);
 *   bridge       — Debian's Go `bridge` + `host-local` (no datastore at all: the floor);
 *   noop         — a sh plugin that only prints an empty result: what cnitool, `ip netns exec`
 *                  and one plugin exec cost by themselves.
 * Where tabby-agent's time goes: `wrapper` runs the installed `tabby` without cnitool (the
 * client and the socket round trip), and `phase` records give the agent's own p50 per step of
 * ADD and DEL, read from its log.
 * Also: bare Node start-up and the thin client's start-up (VERSION), the per-call cost every
 * Node plugin pays; and 100 pods ADDed at once on one node (time until every ADD returned,
 * then each pod's address and host route checked), for tabby-agent and bridge. `--loop N`
 * runs N ADD/DEL cycles through the agent and checks nothing leaked.
 * Args: [--runs 30] [--variants tabby-agent,tabby-direct,bridge,noop,wrapper] [--burst 100]
 * [--loop 0] [--cnitool PATH]; `--variants ''` skips the latency runs, --burst 0 the burst. Every record carries the 1-minute load average.
 * Everything lives in network namespaces with a per-run prefix and is removed at the end.
 */
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { API_VERSION } from '@tabby/api';
import { createEtcdDatastore } from '@tabby/datastore';
import { poll, startEtcd, TestNet, type Netns } from '@tabby/testkit';
import { phaseMedians, servedCalls, servedSpan } from '../cni-phases.js';
import { emit, median, option, percentile, type Bench } from '../emit.js';
import { cpuSeconds } from '../proc.js';

const BENCH = 'cni-add';
const cniDist = fileURLToPath(new URL('../../../packages/cni/dist/bin/', import.meta.url));
const load = (): number => Number(loadavg()[0]!.toFixed(2));

function run(file: string, args: string[], env: NodeJS.ProcessEnv, input = ''): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((res) => {
    const child = execFile(file, args, { env, maxBuffer: 16 << 20 }, (err, stdout, stderr) => res({ code: err ? 1 : 0, stdout, stderr }));
    child.stdin?.end(input);
  });
}

function stats(variant: string, op: string, xs: number[]): void {
  for (const [metric, v] of [['p50', median(xs)], ['p99', percentile(xs, 99)]] as const) {
    emit({ bench: BENCH, metric: `${op}_${metric}`, variant, value: Number(v.toFixed(1)), unit: 'ms', n: xs.length, load1: load() });
  }
}

export default {
  description: 'CNI ADD/DEL latency via cnitool: tabby (agent, direct) vs bridge+host-local; 100 pods at once',
  async run(args: string[]): Promise<void> {
    const runs = Number(option(args, '--runs', '30'));
    const loop = Number(option(args, '--loop', '0'));
    const burst = Number(option(args, '--burst', '100'));
    const cnitool = option(args, '--cnitool', fileURLToPath(new URL('../../../../shared/tools/cnitool', import.meta.url)));
    const net = new TestNet();
    const dir = mkdtempSync(join(tmpdir(), 'tabby-cni-bench-'));
    const etcd = await startEtcd();
    const ds = createEtcdDatastore({ endpoints: etcd.endpoint });
    try {
      // CNI bin dir: the tabby plugins (as packages/cni's installCniPlugins writes them) and Debian's plugins.
      const bin = join(dir, 'bin');
      mkdirSync(bin);
      const install = (await import(new URL('../../../packages/cni/dist/install.js', import.meta.url).href)) as { installCniPlugins(dir: string): string[] };
      install.installCniPlugins(bin);
      for (const p of readdirSync('/usr/lib/cni')) symlinkSync(join('/usr/lib/cni', p), join(bin, p));
      if (!existsSync('/var/lib/cni')) mkdirSync('/var/lib/cni', { recursive: true });
      mkdirSync(join(dir, 'cache'));
      const confDir = join(dir, 'net.d');
      mkdirSync(confDir);
      await ds.create({ apiVersion: API_VERSION, kind: 'Node', metadata: { name: 'node1' }, spec: {} });
      await ds.create({ apiVersion: API_VERSION, kind: 'IPPool', metadata: { name: 'bench' }, spec: { cidr: '10.200.0.0/16', blockSize: 26, ipipMode: 'Never', vxlanMode: 'Never', natOutgoing: false, disabled: false, disableBGPExport: false, nodeSelector: 'all()', allowedUses: ['Workload'] } });
      const node = await net.netns('node');
      const fab = await net.netns('fab');
      await net.veth(node, 'nd0', fab, 'fab0', '172.31.0.1/24', '172.31.0.254/24');
      await node.ip('route', 'add', 'default', 'via', '172.31.0.254');
      await node.exec('sysctl', '-qw', 'net.ipv4.ip_forward=1');
      const sock = join(dir, 'agent.sock');
      const agent = net.spawn(node, process.execPath, [...(process.env.CNI_BENCH_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.CNI_BENCH_PROF}`] : []), join(cniDist, 'tabby-cni-agent.js'), '--socket', sock, '--etcd-endpoints', etcd.endpoint, '--nodename', 'node1', '--log-level', 'info']);
      await poll(() => {
        if (!agent.running) throw new Error(`tabby-cni-agent exited: ${agent.output}`);
        return agent.output.includes('listening');
      }, { timeout: 30_000, what: 'tabby-cni-agent' });
      const tabby = (socket: string): Record<string, unknown> => ({ type: 'tabby', datastore_type: 'etcdv3', etcd_endpoints: etcd.endpoint, nodename: 'node1', agent_socket: socket, ipam: { type: 'tabby-ipam' } });
      const conflist = (name: string, plugins: unknown[]): void => writeFileSync(join(confDir, `${name}.conflist`), JSON.stringify({ cniVersion: '1.0.0', name, plugins }));
      conflist('tabby-agent', [tabby(sock)]);
      conflist('tabby-direct', [tabby('')]);
      writeFileSync(join(bin, 'noop'), '#!/bin/sh\ncat >/dev/null\n[ "$CNI_COMMAND" = ADD ] && echo \'{"cniVersion":"1.0.0"}\'\nexit 0\n', { mode: 0o755 });
      conflist('noop', [{ type: 'noop' }]);
      conflist('bridge', [{ type: 'bridge', bridge: 'cnibr0', isGateway: true, ipMasq: false, ipam: { type: 'host-local', ranges: [[{ subnet: '10.250.0.0/16' }]], dataDir: join(dir, 'host-local') } }]);
      const tool = (cmd: string, network: string, ns: Netns, podName: string): Promise<{ code: number; stdout: string; stderr: string }> =>
        run('ip', ['netns', 'exec', node.name, 'sh', '-c', 'mount --bind "$CACHE" /var/lib/cni && exec "$CNITOOL" "$@"', 'sh', cmd, network, ns.path], {
          PATH: process.env.PATH, CACHE: join(dir, 'cache'), CNITOOL: cnitool, NETCONFPATH: confDir, CNI_PATH: bin, CNI_IFNAME: 'eth0',
          CNI_ARGS: `IgnoreUnknown=1;K8S_POD_NAMESPACE=bench;K8S_POD_NAME=${podName}`,
        });
      const plugin = (cmd: string, _network: string, ns: Netns, podName: string): Promise<{ code: number; stdout: string; stderr: string }> =>
        run('ip', ['netns', 'exec', node.name, join(bin, 'tabby')], {
          PATH: process.env.PATH, CNI_COMMAND: cmd.toUpperCase(), CNI_CONTAINERID: `wrapper-${podName}`, CNI_NETNS: ns.path, CNI_IFNAME: 'eth0', CNI_PATH: bin,
          CNI_ARGS: `IgnoreUnknown=1;K8S_POD_NAMESPACE=bench;K8S_POD_NAME=${podName}`,
        }, JSON.stringify({ cniVersion: '1.0.0', name: 'wrapper', ...tabby(sock) }));

      // Start-up cost of a Node plugin process.
      const bare: number[] = [];
      const thin: number[] = [];
      for (let i = 0; i < Math.max(10, runs); i++) {
        let t = performance.now();
        execFileSync(process.execPath, ['-e', '']);
        bare.push(performance.now() - t);
        t = performance.now();
        execFileSync(join(bin, 'tabby'), [], { env: { CNI_COMMAND: 'VERSION' }, input: '{"cniVersion":"1.0.0"}' });
        thin.push(performance.now() - t);
      }
      stats('node-bare', 'startup', bare);
      stats('tabby-version', 'startup', thin);

      // ADD / DEL latency, interleaved.
      const variants = option(args, '--variants', 'tabby-agent,tabby-direct,bridge,noop,wrapper').split(',').filter(Boolean);
      const lat: Record<string, { add: number[]; del: number[] }> = Object.fromEntries(variants.map((v) => [v, { add: [], del: [] }]));
      const pod = await net.netns('pod');
      for (let i = 0; variants.length > 0 && i < runs + 2; i++) {
        for (const v of variants) {
          const call = v === 'wrapper' ? plugin : tool;
          let t = performance.now();
          const a = await call('add', v, pod, `p${i}`);
          const add = performance.now() - t;
          if (a.code !== 0) throw new Error(`${v} ADD failed: ${a.stderr}${a.stdout}`);
          t = performance.now();
          const d = await call('del', v, pod, `p${i}`);
          const del = performance.now() - t;
          if (d.code !== 0) throw new Error(`${v} DEL failed: ${d.stderr}${d.stdout}`);
          if (i >= 2) {
            lat[v]!.add.push(add);
            lat[v]!.del.push(del);
          }
        }
      }
      for (const v of variants) {
        stats(v, 'add', lat[v]!.add);
        stats(v, 'del', lat[v]!.del);
      }
      const phases = (from: number, variant: string): void => {
        for (const [op, row] of Object.entries(phaseMedians(servedCalls(agent.output.slice(from))))) {
          for (const [step, ms] of Object.entries(row)) emit({ bench: BENCH, metric: `phase_${op.toLowerCase()}_p50`, variant, step, value: ms, unit: 'ms', load1: load() });
        }
      };
      phases(0, 'tabby-agent');
      if (lat['tabby-agent'] && lat.bridge) emit({ bench: BENCH, metric: 'add_p50_ratio_agent_vs_bridge', value: Number((median(lat['tabby-agent']!.add) / median(lat.bridge!.add)).toFixed(2)), unit: 'x', load1: load() });

      // 100 pods at once on one node.
      for (const v of burst > 0 ? ['tabby-agent', 'bridge'] : []) {
        const pods: Netns[] = [];
        for (let i = 0; i < burst; i++) pods.push(await net.netns(`${v === 'bridge' ? 'b' : 'a'}${i}`));
        const logAt = agent.output.length;
        const cpu0 = cpuSeconds(agent.pid) * 1000;
        const wall0 = Date.now();
        const t = performance.now();
        const res = await Promise.all(pods.map((p, i) => tool('add', v, p, `burst${i}`)));
        const ms = performance.now() - t;
        const failed = res.filter((r) => r.code !== 0).length;
        const ips = new Set(res.filter((r) => r.code === 0).map((r) => (JSON.parse(r.stdout) as { ips: { address: string }[] }).ips[0]!.address));
        let routed = 0;
        if (v === 'tabby-agent') {
          const routes = await node.ip('-4', 'route', 'show', 'proto', '80');
          routed = [...ips].filter((ip) => routes.includes(`${ip.split('/')[0]} dev cali`)).length;
        }
        const agentCpuMs = v === 'tabby-agent' ? { agentCpuMs: cpuSeconds(agent.pid) * 1000 - cpu0, ...servedSpan(servedCalls(agent.output.slice(logAt)), wall0) } : {};
        emit({ bench: BENCH, metric: `burst${burst}_all_added`, variant: v, value: Math.round(ms), unit: 'ms', failed, distinct: ips.size, ...(v === 'tabby-agent' ? { routed } : {}), ...agentCpuMs, load1: load() });
        const t1 = performance.now();
        const dels = await Promise.all(pods.map((p, i) => tool('del', v, p, `burst${i}`)));
        if (v === 'tabby-agent') phases(logAt, 'tabby-agent-burst');
        emit({ bench: BENCH, metric: `burst${burst}_all_deleted`, variant: v, value: Math.round(performance.now() - t1), unit: 'ms', failed: dels.filter((r) => r.code !== 0).length, load1: load() });
      }

      if (loop > 0) {
        const t = performance.now();
        for (let i = 0; i < loop; i++) {
          if ((await tool('add', 'tabby-agent', pod, `loop${i % 7}`)).code !== 0) throw new Error(`loop ADD ${i} failed`);
          if ((await tool('del', 'tabby-agent', pod, `loop${i % 7}`)).code !== 0) throw new Error(`loop DEL ${i} failed`);
        }
        const links = (await node.ip('-o', 'link', 'show')).split('\n').filter((l) => /: cali[0-9a-f]+[@:]/.test(l)).length;
        const routes = (await node.ip('-4', 'route', 'show', 'proto', '80')).trim().split('\n').filter(Boolean).length;
        const blocks = await ds.list<{ apiVersion: string; kind: string; metadata: { name: string }; spec: { allocations: unknown[] } }>({ kind: 'IPAMBlock' });
        const allocated = blocks.items.reduce((n, b) => n + b.spec.allocations.filter((a) => a !== null).length, 0);
        const endpoints = (await ds.list({ kind: 'WorkloadEndpoint' })).items.length;
        emit({ bench: BENCH, metric: 'loop_add_del', value: Math.round(performance.now() - t), unit: 'ms', cycles: loop, leakedLinks: links, leakedRoutes: routes, leakedAllocations: allocated, leakedEndpoints: endpoints, load1: load() });
      }
    } finally {
      await ds.close();
      await net.cleanup();
      await etcd.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  },
} satisfies Bench;
