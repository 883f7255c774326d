/**
 * A real etcd (Debian's etcd-server) for tests: a temporary data directory, client and peer
 * traffic on unix sockets in that directory (no TCP port, reachable from every network
 * namespace), stopped by pid and its directory removed at cleanup or process exit.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onExit } from './cleanup.js';
import { poll } from './poll.js';
import { Proc } from './proc.js';
import { run } from './netns.js';

/** A running etcd. */
export interface EtcdServer {
  /** gRPC endpoint for clients, e.g. `unix:///tmp/tabby-etcd-x/localhost:2379`. */
  endpoint: string;
  dir: string;
  proc: Proc;
  /** Compacts history up to the current revision (to test "history gone"). */
  compact(): Promise<void>;
  stop(): Promise<void>;
}

/** Starts etcd and waits until it answers. */
export async function startEtcd(opts: { quotaBytes?: number } = {}): Promise<EtcdServer> {
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
    '--unsafe-no-fsync',
  ];
  const proc = new Proc('etcd', args, { cwd: dir });
  const removeDir = (): void => rmSync(dir, { recursive: true, force: true });
  const off = onExit(removeDir);
  const endpoint = `unix://${join(dir, 'localhost:2379')}`;
  const ctl = (...a: string[]): Promise<string> =>
    run('etcdctl', ['--endpoints', endpoint, ...a]);
  process.env.ETCDCTL_API = '3';
  try {
    await poll(async () => {
      if (!proc.running) throw new Error(`etcd exited: ${proc.output}`);
      await ctl('endpoint', 'health');
      return true;
    }, { timeout: 30_000, what: 'etcd to answer' });
  } catch (e: unknown) {
    await proc.kill();
    removeDir();
    off();
    throw e;
  }
  return {
    endpoint,
    dir,
    proc,
    async compact() {
      const out = await ctl('endpoint', 'status', '-w', 'json');
      const rev = (JSON.parse(out) as Array<{ Status: { header: { revision: number } } }>)[0]!.Status.header.revision;
      await ctl('compaction', String(rev));
    },
    async stop() {
      await proc.stop('SIGTERM', 3000);
      removeDir();
      off();
    },
  };
}
