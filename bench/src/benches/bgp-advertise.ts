/**
 * bgp-advertise: Tabby sends N IPv4 /32 routes to a BIRD 2 receiver; time from the receiver's
 * session reaching Established (BIRD's millisecond `since` stamp) until BIRD holds all N.
 *   originate: tabby-bgp originates the N prefixes from its configuration file;
 *   relay:     a BIRD source announces them to tabby-bgp, which passes them on (eBGP → eBGP);
 *              timed from the source session's Established (so ingest + export).
 * For comparison the same relay runs with BIRD in the middle instead of Tabby.
 *
 * `node bench/dist/run.js bgp-advertise [--routes 100000,1000000] [--runs 3] [--modes originate,relay]`
 */
import { TestNet, BirdDaemon, poll, type Netns } from '@tabby/testkit';
import { emit, median, option, type Bench } from '../emit.js';
import { birdSince, establishedAt, routeAddr, sourceBirdConfig, startTabby } from './bgp-ingest.js';
import { cpuSeconds } from '../proc.js';

type Mode = 'originate' | 'relay' | 'relay-bird';

const MID = { addr: '10.0.1.1', asn: 65002 };
const RCV = { addr: '10.0.1.2', asn: 65003 };
const SRC = { addr: '10.0.0.1', asn: 65001 };

function receiverConfig(): string {
  return `router id ${RCV.addr};\nprotocol device {}\nprotocol bgp p { local ${RCV.addr} as ${RCV.asn}; neighbor ${MID.addr} as ${MID.asn}; passive on; ipv4 { import all; export none; }; }\n`;
}

function tabbyConfig(mode: Mode, n: number): Record<string, unknown> {
  const peers: unknown[] = [{ address: RCV.addr, asn: RCV.asn, families: ['ipv4-unicast'] }];
  if (mode === 'relay') peers.push({ address: SRC.addr, asn: SRC.asn, passive: true, families: ['ipv4-unicast'] });
  const prefixes = mode === 'originate' ? Array.from({ length: n }, (_, i) => `${routeAddr(i)}/32`) : [];
  return { routerId: MID.addr, asn: MID.asn, listen: { address: '0.0.0.0', port: 179 }, peers, prefixes };
}

function birdMiddleConfig(): string {
  return `router id ${MID.addr};\nprotocol device {}\nprotocol bgp feed { local 10.0.0.2 as ${MID.asn}; neighbor ${SRC.addr} as ${SRC.asn}; passive on; ipv4 { import all; export none; }; }\nprotocol bgp rcv { local ${MID.addr} as ${MID.asn}; neighbor ${RCV.addr} as ${RCV.asn}; connect delay time 1; ipv4 { import none; export all; }; }\n`;
}

async function oneRun(mode: Mode, n: number): Promise<{ seconds: number; cpu: number }> {
  const net = new TestNet();
  try {
    const mid = await net.netns('m');
    const rcvNs = await net.netns('r');
    await net.veth(mid, net.name('m1'), rcvNs, net.name('r1'), `${MID.addr}/30`, `${RCV.addr}/30`);
    let srcNs: Netns | undefined;
    if (mode !== 'originate') {
      srcNs = await net.netns('s');
      await net.veth(srcNs, net.name('s0'), mid, net.name('m0'), `${SRC.addr}/30`, '10.0.0.2/30');
    }
    const receiver = await BirdDaemon.start({ ns: rcvNs, net }, receiverConfig());
    const source = srcNs ? await BirdDaemon.start({ ns: srcNs, net }, sourceBirdConfig(n, SRC, { addr: '10.0.0.2', asn: MID.asn }), { timeoutMs: 120_000 }) : undefined;
    if (source) await poll(async () => (await source.routeCount()) === n, { timeout: 120_000, interval: 200, what: `source to load ${n} routes` });
    let pid: number;
    if (mode === 'relay-bird') pid = (await BirdDaemon.start({ ns: mid, net }, birdMiddleConfig())).proc.pid;
    else pid = (await startTabby(net, mid, tabbyConfig(mode, n))).pid;
    let t0: number;
    if (source) {
      await source.birdc('enable', 'p');
      t0 = await establishedAt(source);
    } else {
      const p = await poll(async () => {
        const x = await receiver.protocol('p');
        return x?.bgpState === 'Established' && x;
      }, { timeout: 120_000, interval: 20, what: 'receiver session Established' });
      t0 = birdSince(p.since);
    }
    await poll(async () => (await receiver.routeCount()) >= n, { timeout: 300_000, interval: 100, what: `receiver to hold ${n} routes` });
    return { seconds: (Date.now() - t0) / 1000, cpu: cpuSeconds(pid) };
  } finally {
    await net.cleanup();
  }
}

const bench: Bench = {
  description: 'Tabby originates or relays N /32s to a BIRD receiver: time until BIRD has them all (relay also with BIRD in the middle)',
  async run(args) {
    const sizes = option(args, '--routes', '100000,1000000').split(',').map(Number);
    const runs = Number(option(args, '--runs', '3'));
    const modes = option(args, '--modes', 'originate,relay,relay-bird').split(',') as Mode[];
    for (const n of sizes) {
      for (const mode of modes) {
        const res: Array<{ seconds: number; cpu: number }> = [];
        for (let i = 0; i < runs; i++) {
          try {
            res.push(await oneRun(mode, n));
          } catch (e: unknown) {
            emit({ bench: 'bgp-advertise', metric: 'error', value: 1, unit: 'count', mode, routes: n, error: e instanceof Error ? e.message.slice(0, 500) : String(e) });
          }
        }
        if (!res.length) continue;
        const secs = res.map((r) => r.seconds);
        const speaker = mode === 'relay-bird' ? 'bird' : 'tabby';
        emit({ bench: 'bgp-advertise', metric: 'advertise_time', value: Number(median(secs).toFixed(3)), unit: 's', mode, speaker, routes: n, runs: res.length, samples: secs.map((s) => Number(s.toFixed(3))) });
        emit({ bench: 'bgp-advertise', metric: 'speaker_cpu_total', value: Number(median(res.map((r) => r.cpu)).toFixed(2)), unit: 's', mode, speaker, routes: n, runs: res.length, note: 'all CPU of the middle process since it started (config load, startup included)' });
      }
    }
  },
};
export default bench;
