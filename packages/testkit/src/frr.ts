/**
 * FRR as a test peer: `bgpd` (and `zebra` when asked) run in the foreground inside a test's
 * namespace, no watchfrr, bgpd as root (`-S`: no user switch), zebra as frr, with configuration, pid files, vty sockets and the zebra
 * socket all in a private temporary directory, so nothing lands in /etc/frr or /var/run/frr
 * and several instances run side by side. Read back with `vtysh --vty_socket <dir> -d bgpd`.
 *
 * Without zebra (the default) bgpd runs with `-Z`: next hops are considered reachable and
 * nothing is installed in the namespace's kernel table, which keeps route-heavy runs cheap.
 */
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run } from './netns.js';
import { spawnIn, tempDir, type DaemonPlace } from './bird.js';
import { poll } from './poll.js';
import type { Proc } from './proc.js';

/** One neighbor from `show bgp summary json`. */
export interface FrrPeer {
  address: string;
  remoteAs: number;
  /** "Established", "Active", "Idle", ... */
  state: string;
  /** Prefixes received per family ("ipv4Unicast"). */
  pfxRcd: Record<string, number>;
}

/** One path from `show bgp <afi> unicast json`. */
export interface FrrPath {
  prefix: string;
  best: boolean;
  nextHop?: string;
  asPath: string;
  med?: number;
  localPref?: number;
  stale: boolean;
  raw: Record<string, unknown>;
}

/** Options for `FrrDaemon.start`. */
export interface FrrOptions {
  /** Also run zebra (routes are then installed in the namespace's kernel table). */
  zebra?: boolean;
  /** Also run bfdd (implies zebra: bgpd reaches bfdd through it); `neighbor X bfd` then works. */
  bfdd?: boolean;
  timeoutMs?: number;
}

/** A running FRR (bgpd, optionally zebra and bfdd). */
export class FrrDaemon {
  private constructor(
    readonly place: DaemonPlace,
    readonly dir: string,
    readonly procs: Proc[],
    private readonly removeDir: () => void,
  ) {}

  /** bgpd's process. */
  get bgpd(): Proc {
    return this.procs[this.procs.length - 1]!;
  }

  /** Writes `bgpdConfig` (bgpd.conf text), starts the daemons and waits until vtysh answers. */
  static async start(place: DaemonPlace, bgpdConfig: string, opts: FrrOptions = {}): Promise<FrrDaemon> {
    const { dir, remove } = tempDir('tabby-frr-');
    const common = ['--vty_socket', dir, '-A', '127.0.0.1', '-P', '0', '--log', 'stdout', '--log-level', 'warn'];
    const zsock = join(dir, 'zserv.api');
    const procs: Proc[] = [];
    const d = new FrrDaemon(place, dir, procs, remove);
    try {
      if (opts.zebra || opts.bfdd) {
        // zebra has no --skip_runas and root is not in frrvty: it runs as frr (keeping its
        // network capabilities), so its files go in the private directory opened to it.
        chmodSync(dir, 0o777);
        writeFileSync(join(dir, 'zebra.conf'), 'hostname zebra\n');
        procs.push(spawnIn(place, '/usr/lib/frr/zebra', ['-f', join(dir, 'zebra.conf'), '-i', join(dir, 'zebra.pid'), '-z', zsock, '-u', 'frr', '-g', 'frr', ...common], dir));
        const z = await poll(() => (!procs[0]!.running ? 'dead' : d.vtysh('zebra', 'show version').then(() => 'up')), {
          timeout: opts.timeoutMs ?? 20_000,
          what: 'zebra to answer',
        });
        if (z === 'dead') throw new Error(`zebra exited: ${procs[0]!.output}`);
      }
      if (opts.bfdd) {
        writeFileSync(join(dir, 'bfdd.conf'), 'hostname bfdd\n');
        const bfdd = spawnIn(place, '/usr/lib/frr/bfdd', ['-f', join(dir, 'bfdd.conf'), '-i', join(dir, 'bfdd.pid'), '-z', zsock, '--bfdctl', join(dir, 'bfdd.sock'), '-u', 'frr', '-g', 'frr', ...common], dir);
        procs.push(bfdd);
        const b = await poll(() => (!bfdd.running ? 'dead' : d.vtysh('bfdd', 'show bfd peers').then(() => 'up')), { timeout: opts.timeoutMs ?? 20_000, what: 'bfdd to answer' });
        if (b === 'dead') throw new Error(`bfdd exited: ${bfdd.output}`);
      }
      writeFileSync(join(dir, 'bgpd.conf'), bgpdConfig);
      const withZebra = opts.zebra || opts.bfdd;
      const bgpArgs = ['-f', join(dir, 'bgpd.conf'), '-i', join(dir, 'bgpd.pid'), '-S', ...common, ...(withZebra ? ['-z', zsock] : ['-Z'])];
      const bgpd = spawnIn(place, '/usr/lib/frr/bgpd', bgpArgs, dir);
      procs.push(bgpd);
      const r = await poll(async () => (!bgpd.running ? 'dead' : (await d.vtysh('bgpd', 'show bgp summary json')).includes('{') && 'up'), {
        timeout: opts.timeoutMs ?? 20_000,
        what: 'bgpd to answer',
      });
      if (r === 'dead') throw new Error(`bgpd exited: ${bgpd.output}`);
    } catch (e: unknown) {
      await Promise.all(procs.map((p) => p.kill()));
      remove();
      throw e;
    }
    return d;
  }

  /** Runs `vtysh --vty_socket <dir> -d <daemon> -c <cmd>...` inside the namespace. */
  vtysh(daemon: 'bgpd' | 'zebra' | 'bfdd', ...cmds: string[]): Promise<string> {
    return run('vtysh', ['--vty_socket', this.dir, '-d', daemon, ...cmds.flatMap((c) => ['-c', c])], { netns: this.place.ns.name });
  }

  /** Runs configuration commands (`configure terminal` is added). */
  async configure(...lines: string[]): Promise<void> {
    await this.vtysh('bgpd', 'configure terminal', ...lines);
  }

  /** Parsed `show bgp summary json` over IPv4 and IPv6 unicast. */
  async peers(): Promise<FrrPeer[]> {
    const j = JSON.parse(await this.vtysh('bgpd', 'show bgp summary json')) as Record<string, { peers?: Record<string, Record<string, unknown>> }>;
    const byAddr = new Map<string, FrrPeer>();
    for (const [fam, s] of Object.entries(j)) {
      for (const [address, p] of Object.entries(s.peers ?? {})) {
        const peer = byAddr.get(address) ?? { address, remoteAs: Number(p.remoteAs), state: String(p.state), pfxRcd: {} };
        peer.pfxRcd[fam] = Number(p.pfxRcd ?? 0);
        byAddr.set(address, peer);
      }
    }
    return [...byAddr.values()];
  }

  /** One peer by address. */
  async peer(address: string): Promise<FrrPeer | undefined> {
    return (await this.peers()).find((p) => p.address === address);
  }

  /** Parsed `show bgp ipv4|ipv6 unicast json`. */
  async routes(afi: 'ipv4' | 'ipv6' = 'ipv4'): Promise<FrrPath[]> {
    const j = JSON.parse(await this.vtysh('bgpd', `show bgp ${afi} unicast json`)) as { routes?: Record<string, Array<Record<string, unknown>>> };
    const res: FrrPath[] = [];
    for (const [prefix, paths] of Object.entries(j.routes ?? {})) {
      for (const p of paths) {
        const nhs = (p.nexthops as Array<Record<string, unknown>> | undefined) ?? [];
        res.push({
          prefix,
          best: p.bestpath === true,
          nextHop: nhs[0]?.ip as string | undefined,
          asPath: String(p.path ?? ''),
          med: p.metric === undefined ? undefined : Number(p.metric),
          localPref: p.locPrf === undefined ? undefined : Number(p.locPrf),
          stale: p.stale === true,
          raw: p,
        });
      }
    }
    return res;
  }

  /** Number of prefixes in the BGP table (`show bgp <afi> unicast summary json` totals). */
  async routeCount(afi: 'ipv4' | 'ipv6' = 'ipv4'): Promise<number> {
    const j = JSON.parse(await this.vtysh('bgpd', `show bgp ${afi} unicast summary json`)) as { ribCount?: number };
    return Number(j.ribCount ?? 0);
  }

  /** Stops bgpd then zebra, and removes the directory. */
  async stop(): Promise<void> {
    for (const p of [...this.procs].reverse()) await p.stop('SIGTERM', 3000);
    this.removeDir();
  }
}
