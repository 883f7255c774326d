/**
 * BIRD 2 as a test peer: started inside a test's network namespace with its own configuration
 * file, control socket and pid file in a private temporary directory (so several instances
 * run side by side and nothing touches /etc/bird or /run/bird), stopped by pid, and read back
 * through `birdc -s <socket>` with small parsers for `show protocols all` and `show route all`.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onExit } from './cleanup.js';
import { promisify } from 'node:util';
import type { Netns, TestNet } from './netns.js';
import { poll } from './poll.js';
import type { Proc } from './proc.js';

const execFileP = promisify(execFile);

/** Where a daemon fixture runs: a namespace, and optionally the TestNet that owns its processes. */
export interface DaemonPlace {
  ns: Netns;
  /** When given, processes are registered with it and stopped by its `cleanup()`. */
  net?: TestNet;
}

/** Starts `cmd` in the place's namespace, through the TestNet when there is one. */
export function spawnIn(place: DaemonPlace, cmd: string, args: string[], cwd?: string): Proc {
  return place.net ? place.net.spawn(place.ns, cmd, args, { cwd }) : place.ns.spawn(cmd, args, { cwd });
}

/** A private temporary directory removed at `remove()` or process exit. */
export function tempDir(prefix: string): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const rm = (): void => rmSync(dir, { recursive: true, force: true });
  const off = onExit(rm);
  return {
    dir,
    remove: () => {
      rm();
      off();
    },
  };
}

/** One protocol from `birdc show protocols all`. */
export interface BirdProtocol {
  name: string;
  proto: string;
  table: string;
  state: string;
  since: string;
  info: string;
  /** `BGP state:` line for BGP protocols (e.g. "Established"). */
  bgpState?: string;
  /** BIRD holds the neighbor's routes for a graceful restart ("Neighbor graceful restart active"). */
  grActive?: boolean;
  /** Per channel ("ipv4", "ipv6"): "Routes: N imported, M exported, K preferred". */
  channels: Record<string, { imported: number; exported: number; preferred: number; filtered: number; importUpdates?: number; importWithdraws?: number }>;
}

/** One route from `birdc show route all`. */
export interface BirdRoute {
  prefix: string;
  table: string;
  /** Protocol that supplied it. */
  from: string;
  /** Chosen as best (`*`). */
  best: boolean;
  /** Marked stale by graceful restart (the `s` after the preference; BIRD 2.0.12 does not print it). */
  stale: boolean;
  /** Next hop (`via X`), if any. */
  via?: string;
  /** `Type:` plus every `BGP.xxx:` attribute line, keyed by name ("BGP.as_path" → "65001 65002"). */
  attrs: Record<string, string>;
}

/** A running BIRD 2. */
export class BirdDaemon {
  private constructor(
    readonly place: DaemonPlace,
    readonly dir: string,
    readonly proc: Proc,
    private readonly removeDir: () => void,
  ) {}

  /** Control socket path. */
  get socket(): string {
    return join(this.dir, 'bird.ctl');
  }

  /** Configuration file path (rewrite it and call `configure()` to reload). */
  get configFile(): string {
    return join(this.dir, 'bird.conf');
  }

  /** Writes `config`, starts `bird -f` in the namespace and waits until birdc answers. */
  static async start(place: DaemonPlace, config: string, opts: { timeoutMs?: number } = {}): Promise<BirdDaemon> {
    const { dir, remove } = tempDir('tabby-bird-');
    const conf = join(dir, 'bird.conf');
    writeFileSync(conf, config);
    const proc = spawnIn(place, 'bird', ['-f', '-c', conf, '-s', join(dir, 'bird.ctl'), '-P', join(dir, 'bird.pid')], dir);
    const d = new BirdDaemon(place, dir, proc, remove);
    try {
      const r = await poll(
        async () => (!proc.running ? 'dead' : (await d.birdc('show', 'status')).includes('Daemon is up') && 'up'),
        { timeout: opts.timeoutMs ?? 20_000, what: 'bird to answer' },
      );
      if (r === 'dead') throw new Error(`bird exited: ${proc.output}`);
    } catch (e: unknown) {
      await proc.kill();
      remove();
      throw e;
    }
    return d;
  }

  /**
   * Runs `birdc -s <socket> <args...>` and returns its output. birdc exits non-zero on error
   * replies ("Network not found"); those are returned as output, only a dead socket throws.
   */
  async birdc(...args: string[]): Promise<string> {
    try {
      const { stdout } = await execFileP('birdc', ['-s', this.socket, ...args], { maxBuffer: 1 << 30 });
      return stdout;
    } catch (e: unknown) {
      const err = e as { stdout?: string; stderr?: string; message?: string };
      if (err.stdout && err.stdout.includes('BIRD')) return err.stdout;
      throw new Error(`birdc ${args.join(' ')}: ${(err.stderr || err.message || String(e)).trim()}`);
    }
  }

  /** Replaces the configuration and reloads it (`birdc configure`). */
  async configure(config: string): Promise<void> {
    writeFileSync(this.configFile, config);
    const out = await this.birdc('configure');
    if (!/Reconfigur(ed|ation in progress)|Reconfiguration confirmed/.test(out)) throw new Error(`bird configure failed: ${out}`);
  }

  /** Parsed `show protocols all`. */
  async protocols(): Promise<BirdProtocol[]> {
    return parseBirdProtocols(await this.birdc('show', 'protocols', 'all'));
  }

  /** One protocol by name, or undefined. */
  async protocol(name: string): Promise<BirdProtocol | undefined> {
    return (await this.protocols()).find((p) => p.name === name);
  }

  /** Parsed `show route all [args]` (e.g. `routes('table', 'master6')`, `routes('protocol', 'p1')`). */
  async routes(...args: string[]): Promise<BirdRoute[]> {
    return parseBirdRoutes(await this.birdc('show', 'route', 'all', ...args));
  }

  /** `show route count [args]`: the number of routes (cheap for large tables). */
  async routeCount(...args: string[]): Promise<number> {
    const out = await this.birdc('show', 'route', ...args, 'count');
    const m = /(\d+) of (\d+) routes/.exec(out) ?? /(\d+) routes/.exec(out);
    if (!m) throw new Error(`unexpected birdc output: ${out}`);
    return Number(m[1]);
  }

  /** Stops BIRD (SIGTERM, then SIGKILL) and removes its directory. */
  async stop(): Promise<void> {
    await this.proc.stop('SIGTERM', 3000);
    this.removeDir();
  }

  /** SIGKILL, keeping the directory (for restart tests); `stop()` still removes it. */
  async kill(): Promise<void> {
    await this.proc.kill();
  }
}

const num = (s: string | undefined): number => (s === undefined ? 0 : Number(s));

/** Parses `birdc show protocols all`. */
export function parseBirdProtocols(out: string): BirdProtocol[] {
  const res: BirdProtocol[] = [];
  let cur: BirdProtocol | undefined;
  let channel = '';
  for (const line of out.split('\n')) {
    const head = /^(\S+)\s+(\S+)\s+(\S+)\s+(up|down|start|stop|flush)\s+(\S+(?: \S+)?)\s*(.*)$/.exec(line);
    if (head && !line.startsWith('BIRD') && head[1] !== 'Name') {
      cur = { name: head[1]!, proto: head[2]!, table: head[3]!, state: head[4]!, since: head[5]!, info: head[6]!.trim(), channels: {} };
      res.push(cur);
      channel = '';
      continue;
    }
    if (!cur) continue;
    const t = line.trim();
    const bs = /^BGP state:\s+(\S+)/.exec(t);
    if (bs) cur.bgpState = bs[1]!;
    if (t === 'Neighbor graceful restart active') cur.grActive = true;
    const ch = /^Channel (\S+)/.exec(t);
    if (ch) channel = ch[1]!;
    const r = /^Routes:\s+(\d+) imported,(?: (\d+) filtered,)? (\d+) exported(?:, (\d+) preferred)?/.exec(t);
    if (r && channel) cur.channels[channel] = { imported: num(r[1]), filtered: num(r[2]), exported: num(r[3]), preferred: num(r[4]) };
    // "Import updates:  received rejected filtered ignored accepted" (first column: received)
    const iu = /^Import (updates|withdraws):\s+(\d+)/.exec(t);
    const c = cur.channels[channel];
    if (iu && c) c[iu[1] === 'updates' ? 'importUpdates' : 'importWithdraws'] = Number(iu[2]);
  }
  return res;
}

/** Parses `birdc show route all`. */
export function parseBirdRoutes(out: string): BirdRoute[] {
  const res: BirdRoute[] = [];
  let table = '';
  let prefix = '';
  let cur: BirdRoute | undefined;
  for (const line of out.split('\n')) {
    const tm = /^Table (\S+):/.exec(line);
    if (tm) {
      table = tm[1]!;
      continue;
    }
    // "10.0.0.0/24          unicast [p1 12:00:00.000 from 10.0.0.2] * (100s) [AS65001i]"
    const rm = /^(\S+)?\s+\S+\s+\[(\S+) [^\]]*\]( \*| !)?\s*\((\d+)(s?)[^)]*\)/.exec(line);
    if (rm && !line.startsWith('\t') && !line.startsWith('BIRD')) {
      if (rm[1]) prefix = rm[1];
      cur = { prefix, table, from: rm[2]!, best: rm[3] === ' *', stale: rm[5] === 's', attrs: {} };
      res.push(cur);
      continue;
    }
    if (!cur) continue;
    const t = line.trim();
    const via = /^via (\S+)/.exec(t);
    if (via) {
      cur.via ??= via[1]!;
      continue;
    }
    const kv = /^((?:BGP\.)?[A-Za-z_.0-9]+):\s?(.*)$/.exec(t);
    if (kv) cur.attrs[kv[1]!] = kv[2]!;
  }
  return res;
}

/** What a system test may need from the machine. */
export type Requirement = 'root' | 'ip' | 'bird' | 'gobgp' | 'frr' | 'etcd';

const REQUIREMENT_BINARIES: Record<Exclude<Requirement, 'root'>, string[]> = {
  ip: ['ip'],
  bird: ['bird', 'birdc'],
  gobgp: ['gobgpd', 'gobgp'],
  frr: ['/usr/lib/frr/bgpd', 'vtysh'],
  etcd: ['etcd'],
};

function onPath(bin: string): boolean {
  if (bin.startsWith('/')) return existsSync(bin);
  return (process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin').split(':').some((d) => d !== '' && existsSync(join(d, bin)));
}

/**
 * Why a system test cannot run here, or undefined when it can: root (network namespaces, raw
 * sockets) and the Debian binaries of `ip`, BIRD 2, GoBGP, FRR and etcd. Use it to skip with a
 * reason instead of failing obscurely:
 *
 *   const missing = missingRequirements('root', 'bird');
 *   describe.skipIf(missing !== undefined)(`BIRD interop${missing ? ` (skipped: ${missing})` : ''}`, ...)
 */
export function missingRequirements(...reqs: Requirement[]): string | undefined {
  const out: string[] = [];
  for (const r of reqs) {
    if (r === 'root') {
      if (process.getuid?.() !== 0) out.push('needs root (network namespaces)');
    } else {
      const absent = REQUIREMENT_BINARIES[r].filter((b) => !onPath(b));
      if (absent.length > 0) out.push(`needs ${absent.join(', ')} (Debian package ${r === 'ip' ? 'iproute2' : r === 'bird' ? 'bird2' : r === 'gobgp' ? 'gobgpd' : r === 'etcd' ? 'etcd-server' : 'frr'}; \`npm test\` installs it)`);
    }
  }
  return out.length > 0 ? out.join('; ') : undefined;
}

/** `title`, with the skip reason appended when `missing` is set (for describe.skipIf titles). */
export function titleWithSkip(title: string, missing: string | undefined): string {
  return missing === undefined ? title : `${title} (skipped: ${missing})`;
}
