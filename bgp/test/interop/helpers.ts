/**
 * Interop test helpers: `tabby-bgp` run from bgp/dist (built by `npx tsc -b bgp`) inside a
 * test namespace with a YAML config and a status socket in a temp dir, and read back through
 * the status socket.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { poll, tempDir, type Netns, type Proc, type TestNet } from '@tabby/testkit';
import { stringify } from 'yaml';
import { requestStatus, type RouteReport, type StatusReport } from '../../src/daemon/status.js';

/** The built daemon. */
export const TABBY_BGP = join(dirname(fileURLToPath(import.meta.url)), '../../dist/bin/tabby-bgp.js');

/** A running tabby-bgp. */
export interface TabbyProc {
  proc: Proc;
  socket: string;
  configFile: string;
  status(): Promise<StatusReport>;
  routes(prefix?: string): Promise<RouteReport[]>;
  /** Rewrites the config (status socket kept) and sends SIGHUP. */
  reload(config: Record<string, unknown>): void;
  stop(): Promise<void>;
  kill(): Promise<void>;
  /** Starts it again with the same files (after kill), optionally with extra args and a new config. */
  restart(args?: string[], config?: Record<string, unknown>): Promise<TabbyProc>;
}

/** Starts tabby-bgp in `ns` with `config` (an object rendered as YAML) and waits for its status socket. */
export async function startTabby(net: TestNet, ns: Netns, config: Record<string, unknown>, args: string[] = [], dir?: string): Promise<TabbyProc> {
  if (!existsSync(TABBY_BGP)) throw new Error(`${TABBY_BGP} missing: run npx tsc -b bgp first`);
  const d = dir ?? tempDir('tabby-bgp-it-').dir;
  const socket = join(d, 'status.sock');
  const configFile = join(d, 'tabby-bgp.yaml');
  const write = (c: Record<string, unknown>): void => writeFileSync(configFile, stringify({ ...c, statusSocket: socket }));
  write(config);
  const proc = net.spawn(ns, process.execPath, [TABBY_BGP, '--config', configFile, '--log-level', 'debug', ...args]);
  const up = await poll(async () => (!proc.running ? 'dead' : requestStatus(socket, { cmd: 'status' }).then(() => 'up')), { timeout: 20_000, what: 'tabby-bgp status socket' });
  if (up === 'dead') throw new Error(`tabby-bgp exited: ${proc.output}`);
  return {
    proc,
    socket,
    configFile,
    status: () => requestStatus<StatusReport>(socket, { cmd: 'status' }),
    routes: (prefix) => requestStatus<RouteReport[]>(socket, { cmd: 'routes', ...(prefix ? { prefix } : {}) }),
    reload(c) {
      write(c);
      process.kill(proc.pid, 'SIGHUP');
    },
    stop: () => proc.stop('SIGTERM', 3000),
    kill: () => proc.kill(),
    restart: (a = args, c = config) => startTabby(net, ns, c, a, d),
  };
}

/** Waits until tabby-bgp reports `peer` Established. */
export async function tabbyEstablished(t: TabbyProc, peer: string, timeout = 30_000): Promise<void> {
  await poll(async () => (await t.status()).peers.find((p) => p.address === peer)?.state === 'Established', { timeout, what: `tabby-bgp session with ${peer} Established` });
}

/**
 * The interop topology: tabby-bgp's namespace `t` (10.0.0.1/30 on t0) joined by a veth to the
 * peer daemon's namespace `b` (10.0.0.2/30 on b0).
 */
export async function tabbyAndPeer(net: TestNet): Promise<{ t: Netns; b: Netns }> {
  const t = await net.netns('t');
  const b = await net.netns('b');
  await net.veth(t, net.name('t0'), b, net.name('b0'), '10.0.0.1/30', '10.0.0.2/30');
  return { t, b };
}
