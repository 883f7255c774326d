/**
 * A real etcd (Debian's etcd-server) for tests: a temporary data directory, client and peer
 * traffic on unix sockets in that directory (no TCP port, reachable from every network
 * namespace), stopped by pid and its directory removed at cleanup or process exit.
 * It runs with auto-compaction (periodic, keeping `autoCompaction` of history, default 5m), as
 * every etcd that Tabby documents or starts should: each IPAM allocation rewrites a whole block,
 * so without compaction the quota fills after a few hundred thousand allocations.
 * `kill()` + `restart()` simulate a crash (SIGKILL) and a restart on the same data.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onExit } from './cleanup.js';
import { poll } from './poll.js';
import { Proc } from './proc.js';
import { run } from './netns.js';
import { missingRequirements } from './bird.js';

/** A running etcd. */
export interface EtcdServer {
  /** gRPC endpoint for clients, e.g. `unix:///tmp/tabby-etcd-x/localhost:2379`. */
  endpoint: string;
  dir: string;
  /** The etcd process (a new one after `restart`). */
  readonly proc: Proc;
  /** Compacts history up to the current revision (to test "history gone"). */
  compact(): Promise<void>;
  /** Defragments the backend (etcdctl defrag). */
  defrag(): Promise<void>;
  /** The current revision (etcdctl endpoint status). */
  revision(): Promise<number>;
  /** The backend database size in bytes (etcdctl endpoint status). */
  dbSize(): Promise<number>;
  /** Kills etcd with SIGKILL (a crash); the data directory stays for `restart`. */
  kill(): Promise<void>;
  /** Starts etcd again on the same data directory and endpoint, and waits until it answers. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/** Options of `startEtcd`. */
export interface EtcdOptions {
  /** `--quota-backend-bytes` (default 4 GiB). */
  quotaBytes?: number;
  /** `--auto-compaction-retention` in periodic mode (default '5m'); '0' disables it. */
  autoCompaction?: string;
}

/** Starts etcd and waits until it answers. */
export async function startEtcd(opts: EtcdOptions = {}): Promise<EtcdServer> {
  const missing = missingRequirements('etcd');
  if (missing) throw new Error(`startEtcd: ${missing}`);
  const dir = mkdtempSync(join(tmpdir(), 'tabby-etcd-'));
  const args = [
    '--name', 'tabby',
    '--data-dir', join(dir, 'data'),
    '--listen-client-urls', 'unix://localhost:2379',
    '--advertise-client-urls', 'unix://localhost:2379',
    '--listen-peer-urls', 'unix://localhost:2380',
    '--initial-advertise-peer-urls', 'unix://localhost:2380',
    '--initial-cluster', 'tabby=unix://localhost:2380',
    '--log-level', 'warn',
    '--quota-backend-bytes', String(opts.quotaBytes ?? 4 * 1024 ** 3),
    '--auto-compaction-mode', 'periodic',
    '--auto-compaction-retention', opts.autoCompaction ?? '5m',
    '--unsafe-no-fsync',
  ];
  let proc = new Proc('etcd', args, { cwd: dir });
  const removeDir = (): void => rmSync(dir, { recursive: true, force: true });
  const off = onExit(removeDir);
  const endpoint = `unix://${join(dir, 'localhost:2379')}`;
  const ctl = (...a: string[]): Promise<string> =>
    run('etcdctl', ['--endpoints', endpoint, ...a]);
  process.env.ETCDCTL_API = '3';
  const answering = (): Promise<boolean> =>
    poll(async () => {
      if (!proc.running) throw new Error(`etcd exited: ${proc.output}`);
      await ctl('endpoint', 'health');
      return true;
    }, { timeout: 30_000, what: 'etcd to answer' });
  const status = async (): Promise<{ header: { revision: number }; dbSize: number }> => {
    const out = await ctl('endpoint', 'status', '-w', 'json');
    return (JSON.parse(out) as Array<{ Status: { header: { revision: number }; dbSize: number } }>)[0]!.Status;
  };
  try {
    await answering();
  } catch (e: unknown) {
    await proc.kill();
    removeDir();
    off();
    throw e;
  }
  return {
    endpoint,
    dir,
    get proc() {
      return proc;
    },
    async compact() {
      await ctl('compaction', String((await status()).header.revision));
    },
    async defrag() {
      await ctl('defrag');
    },
    async revision() {
      return (await status()).header.revision;
    },
    async dbSize() {
      return (await status()).dbSize;
    },
    async kill() {
      await proc.kill();
    },
    async restart() {
      if (proc.running) await proc.kill();
      rmSync(join(dir, 'localhost:2379'), { force: true });
      rmSync(join(dir, 'localhost:2380'), { force: true });
      proc = new Proc('etcd', args, { cwd: dir });
      await answering();
    },
    async stop() {
      await proc.stop('SIGTERM', 3000);
      removeDir();
      off();
    },
  };
}
