/**
 * bgp-rr: one route reflector (tabby-bgp, or BIRD for comparison) with N iBGP route-reflector
 * clients × R routes each. The clients are simulated by one process (testkit's BgpSwarm) with
 * N sessions from N addresses in a namespace; each client announces its R /32s once
 * Established. Measures:
 *   converge_time:  from the last client session's Established until every client holds every
 *                   other client's routes (the swarm's last table change);
 *   total_time:     the same from the swarm's start (all sessions set up, all routes spread);
 *   withdraw_time:  client 0 withdraws all of its routes; until no client holds any of them;
 *   peak_rss / rr_cpu of the reflector process.
 *
 * `node bench/dist/run.js bgp-rr [--clients 1000] [--routes 100] [--runs 1] [--speakers tabby,bird]`
 */
import { loadavg } from 'node:os';
import { BgpSwarm, BirdDaemon, SWARM_ASN, SWARM_RR, TestNet, swarmTopology, type SwarmStatus, type SwarmTopology } from '@tabby/testkit';
import { emit, median, option, type Bench } from '../emit.js';
import { startTabby } from './bgp-ingest.js';
import { cpuSeconds, peakRss } from '../proc.js';

type Speaker = 'tabby' | 'bird';

interface RunResult {
  total: number;
  converge: number;
  withdraw: number;
  rss: number;
  cpu: number;
}

/** tabby-bgp as the reflector: every client a passive route-reflector client. */
function tabbyConfig(addresses: string[]): Record<string, unknown> {
  return {
    routerId: SWARM_RR,
    asn: SWARM_ASN,
    listen: { address: SWARM_RR, port: 179 },
    peers: addresses.map((address) => ({ address, asn: SWARM_ASN, passive: true, routeReflectorClient: true, families: ['ipv4-unicast'] })),
  };
}

/** BIRD as the reflector: one `rr client` protocol per client from a template (BIRD 2.0 has no dynamic neighbor ranges). */
export function birdRrConfig(addresses: string[]): string {
  const lines = [
    `router id ${SWARM_RR};`,
    'protocol device {}',
    `template bgp rrc { local ${SWARM_RR} as ${SWARM_ASN}; direct; rr client; passive on; ipv4 { import all; export all; }; }`,
    ...addresses.map((a, i) => `protocol bgp c${i} from rrc { neighbor ${a} as ${SWARM_ASN}; }`),
  ];
  return lines.join('\n') + '\n';
}

async function startReflector(speaker: Speaker, net: TestNet, topo: SwarmTopology): Promise<number> {
  if (speaker === 'tabby') return (await startTabby(net, topo.rr, tabbyConfig(topo.addresses))).pid;
  return (await BirdDaemon.start({ ns: topo.rr, net }, birdRrConfig(topo.addresses), { timeoutMs: 120_000 })).proc.pid;
}

async function oneRun(speaker: Speaker, n: number, routes: number): Promise<RunResult> {
  const net = new TestNet();
  try {
    const topo = await swarmTopology(net, n);
    const pid = await startReflector(speaker, net, topo);
    const cpu0 = cpuSeconds(pid);
    const swarm = BgpSwarm.start(net, topo.clients, { clients: topo.addresses, routesPer: routes });
    const all = (s: SwarmStatus): boolean => s.established === n && s.announcedTotal === n * routes && s.complete === n;
    const up = await swarm.until(all, `${n} clients to hold ${n * routes} routes`, 600_000);
    const converge = (up.lastChangeAt - up.lastEstablishedAt) / 1000;
    const total = (up.lastChangeAt - up.startedAt) / 1000;
    swarm.withdrawFirst();
    const gone = (s: SwarmStatus): boolean => s.withdrawSentAt > 0 && s.announcedTotal === (n - 1) * routes && s.complete === n;
    const down = await swarm.until(gone, 'client 0 routes withdrawn everywhere', 300_000);
    if (down.reflectedOwn > 0 || down.foreign > 0) throw new Error(`unexpected routes: ${JSON.stringify(down)}`);
    const res = { total, converge, withdraw: (down.lastChangeAt - down.withdrawSentAt) / 1000, rss: peakRss(pid), cpu: cpuSeconds(pid) - cpu0 };
    await swarm.stop();
    return res;
  } finally {
    await net.cleanup();
  }
}

const bench: Bench = {
  description: 'Route reflector with N simulated clients × R routes: time to full convergence, withdraw propagation, RSS; tabby-bgp vs BIRD',
  async run(args) {
    const n = Number(option(args, '--clients', '1000'));
    const routes = Number(option(args, '--routes', '100'));
    const runs = Number(option(args, '--runs', '1'));
    const speakers = option(args, '--speakers', 'tabby,bird').split(',') as Speaker[];
    for (const speaker of speakers) {
      const res: RunResult[] = [];
      for (let i = 0; i < runs; i++) {
        try {
          res.push(await oneRun(speaker, n, routes));
        } catch (e: unknown) {
          emit({ bench: 'bgp-rr', metric: 'error', value: 1, unit: 'count', speaker, clients: n, error: e instanceof Error ? e.message.slice(0, 800) : String(e) });
        }
      }
      if (!res.length) continue;
      const common = { speaker, clients: n, routesPerClient: routes, runs: res.length };
      const fig = (f: (r: RunResult) => number): number => Number(median(res.map(f)).toFixed(3));
      emit({ bench: 'bgp-rr', metric: 'converge_time', value: fig((r) => r.converge), unit: 's', ...common, samples: res.map((r) => r.converge), note: 'last client Established → every client holds every route' });
      emit({ bench: 'bgp-rr', metric: 'total_time', value: fig((r) => r.total), unit: 's', ...common, samples: res.map((r) => r.total), note: 'swarm start (1st connect) → every client holds every route' });
      emit({ bench: 'bgp-rr', metric: 'withdraw_time', value: fig((r) => r.withdraw), unit: 's', ...common, samples: res.map((r) => r.withdraw), note: `client 0 withdraws its ${routes} routes → gone from all others` });
      emit({ bench: 'bgp-rr', metric: 'peak_rss', value: Number((median(res.map((r) => r.rss)) / 1e6).toFixed(1)), unit: 'MB', ...common });
      emit({ bench: 'bgp-rr', metric: 'rr_cpu', value: fig((r) => r.cpu), unit: 's', ...common, note: 'reflector CPU from start of the swarm to the end of the withdraw' });
      emit({ bench: 'bgp-rr', metric: 'load_average', value: Number(loadavg()[0]!.toFixed(2)), unit: 'load', ...common, note: '1-minute load average after the runs (shared machine)' });
    }
  },
};
export default bench;
