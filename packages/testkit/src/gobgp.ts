/**
 * GoBGP as a test peer: `gobgpd` started inside a test's namespace with a YAML configuration in
 * a private temporary directory and its gRPC API on the namespace's own loopback (a port per
 * instance, so several run side by side), stopped by pid, and read back through the `gobgp`
 * CLI run inside the same namespace (`neighbor -j`, `global rib -j`).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnIn, tempDir, type DaemonPlace } from './bird.js';
import { poll } from './poll.js';
import type { Proc } from './proc.js';

/** One neighbor as `gobgp neighbor -j` reports it (the fields tests use). */
export interface GobgpNeighbor {
  address: string;
  peerAs: number;
  /** "established", "active", "idle", ... (lower case). */
  state: string;
  /** Received / accepted prefixes per family name ("ipv4-unicast"). */
  received: Record<string, number>;
  accepted: Record<string, number>;
}

/** One path from `gobgp global rib -j`. */
export interface GobgpPath {
  prefix: string;
  best: boolean;
  nextHop?: string;
  asPath: number[];
  med?: number;
  localPref?: number;
  communities: number[];
  originatorId?: string;
  clusterList: string[];
  stale: boolean;
  /** Every attribute as gobgp printed it. */
  attrs: Array<Record<string, unknown>>;
}

/** A running gobgpd. */
export class GobgpDaemon {
  private constructor(
    readonly place: DaemonPlace,
    readonly dir: string,
    readonly apiPort: number,
    readonly proc: Proc,
    private readonly removeDir: () => void,
  ) {}

  /**
   * Writes `configYaml` (gobgpd's YAML config: `global:` and `neighbors:`), starts gobgpd in the
   * namespace with its API on 127.0.0.1:`apiPort` there, and waits until the CLI answers.
   */
  static async start(place: DaemonPlace, configYaml: string, opts: { apiPort?: number; timeoutMs?: number; logLevel?: string } = {}): Promise<GobgpDaemon> {
    const { dir, remove } = tempDir('tabby-gobgp-');
    const conf = join(dir, 'gobgpd.yaml');
    writeFileSync(conf, configYaml);
    const apiPort = opts.apiPort ?? 50051;
    const args = ['-f', conf, '-t', 'yaml', '--api-hosts', `127.0.0.1:${apiPort}`, '--pprof-disable', '-p', '-l', opts.logLevel ?? 'warn'];
    const proc = spawnIn(place, 'gobgpd', args, dir);
    const d = new GobgpDaemon(place, dir, apiPort, proc, remove);
    try {
      const r = await poll(
        async () => {
          if (!proc.running) return 'dead';
          await d.cli('global');
          return 'up';
        },
        { timeout: opts.timeoutMs ?? 20_000, what: 'gobgpd to answer' },
      );
      if (r === 'dead') throw new Error(`gobgpd exited: ${proc.output}`);
    } catch (e: unknown) {
      await proc.kill();
      remove();
      throw e;
    }
    return d;
  }

  /** Runs `gobgp -u 127.0.0.1 -p <port> <args...>` inside the namespace. */
  cli(...args: string[]): Promise<string> {
    return this.place.ns.exec('gobgp', '-u', '127.0.0.1', '-p', String(this.apiPort), ...args);
  }

  /** Parsed `gobgp neighbor -j`. */
  async neighbors(): Promise<GobgpNeighbor[]> {
    return parseGobgpNeighbors(await this.cli('neighbor', '-j'));
  }

  /** One neighbor by address. */
  async neighbor(address: string): Promise<GobgpNeighbor | undefined> {
    return (await this.neighbors()).find((n) => n.address === address);
  }

  /** Parsed `gobgp global rib -a <family> -j`. */
  async rib(family: 'ipv4' | 'ipv6' = 'ipv4'): Promise<GobgpPath[]> {
    return parseGobgpRib(await this.cli('global', 'rib', '-a', family, '-j'));
  }

  /** Number of prefixes in the global RIB (`gobgp global rib summary`). */
  async ribCount(family: 'ipv4' | 'ipv6' = 'ipv4'): Promise<number> {
    const out = await this.cli('global', 'rib', 'summary', '-a', family);
    const m = /Destination: (\d+)/.exec(out);
    if (!m) throw new Error(`unexpected gobgp output: ${out}`);
    return Number(m[1]);
  }

  /** `gobgp global rib add <prefix> [attrs...] -a <family>`. */
  async addRoute(prefix: string, ...attrs: string[]): Promise<void> {
    await this.cli('global', 'rib', 'add', prefix, ...attrs, '-a', prefix.includes(':') ? 'ipv6' : 'ipv4');
  }

  /** `gobgp global rib del <prefix> -a <family>`. */
  async delRoute(prefix: string): Promise<void> {
    await this.cli('global', 'rib', 'del', prefix, '-a', prefix.includes(':') ? 'ipv6' : 'ipv4');
  }

  /** Stops gobgpd and removes its directory. */
  async stop(): Promise<void> {
    await this.proc.stop('SIGTERM', 3000);
    this.removeDir();
  }
}

type Json = Record<string, unknown>;
const obj = (v: unknown): Json => (v && typeof v === 'object' ? (v as Json) : {});

/** Parses `gobgp neighbor -j`. */
export function parseGobgpNeighbors(out: string): GobgpNeighbor[] {
  const arr = JSON.parse(out || '[]') as unknown[];
  return (arr ?? []).map((n) => {
    const conf = obj(obj(n).conf);
    const state = obj(obj(n).state);
    const received: Record<string, number> = {};
    const accepted: Record<string, number> = {};
    for (const af of (obj(n).afi_safis as unknown[] | undefined) ?? []) {
      const st = obj(obj(af).state);
      const fam = obj(st.family);
      const name = `${fam.afi === 2 ? 'ipv6' : 'ipv4'}-unicast`;
      received[name] = Number(st.received ?? 0);
      accepted[name] = Number(st.accepted ?? 0);
    }
    const sess = String(state.session_state ?? '');
    return {
      address: String(conf.neighbor_address ?? ''),
      peerAs: Number(conf.peer_asn ?? 0),
      state: GOBGP_STATES[sess] ?? sess.toLowerCase(),
      received,
      accepted,
    };
  });
}

const GOBGP_STATES: Record<string, string> = { '1': 'idle', '2': 'connect', '3': 'active', '4': 'opensent', '5': 'openconfirm', '6': 'established' };

/** Parses `gobgp global rib -j` (an object keyed by prefix, each an array of paths). */
export function parseGobgpRib(out: string): GobgpPath[] {
  const res: GobgpPath[] = [];
  const byPrefix = obj(JSON.parse(out || '{}'));
  for (const [prefix, paths] of Object.entries(byPrefix)) {
    for (const p of (paths as unknown[]) ?? []) {
      const attrs = ((obj(p).attrs as unknown[]) ?? []).map(obj);
      const path: GobgpPath = { prefix, best: obj(p).best === true, asPath: [], communities: [], clusterList: [], stale: obj(p).stale === true, attrs };
      for (const a of attrs) {
        switch (a.type) {
          case 2:
            path.asPath = ((a.as_paths as unknown[]) ?? []).flatMap((s) => ((obj(s).asns as number[]) ?? []));
            break;
          case 3:
            path.nextHop = String(a.nexthop);
            break;
          case 4:
            path.med = Number(a.metric);
            break;
          case 5:
            path.localPref = Number(a.value);
            break;
          case 8:
            path.communities = (a.communities as number[]) ?? [];
            break;
          case 9:
            path.originatorId = String(a.value);
            break;
          case 10:
            path.clusterList = (a.value as string[]) ?? [];
            break;
          case 14:
            path.nextHop = String(obj(a).nexthop ?? '');
            break;
          default:
            break;
        }
      }
      res.push(path);
    }
  }
  return res;
}
