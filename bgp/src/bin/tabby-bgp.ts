#!/usr/bin/env node
/**
 * `tabby-bgp`: the BGP daemon of the route-reflector deployment, and its status CLI.
 *
 *   tabby-bgp --config FILE [--graceful-restart] [--log-level info] [--metrics-port [ADDR:]PORT]
 *   tabby-bgp status --socket PATH [-o json]
 *   tabby-bgp routes --socket PATH [--prefix P] [-o json]
 *
 * Signals: SIGHUP reloads the file, all or nothing (unchanged peers keep their sessions; a file
 * with any error — syntax, schema, a peer's session settings — is logged naming the file and
 * field, and nothing changes); SIGTERM/SIGINT send Cease (Administrative Shutdown) and exit 0.
 * Exit codes: 0 ok, 1 runtime error, 2 usage or configuration error.
 */
import { createServer } from 'node:http';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { isTabbyError } from '@tabby/api';
import { BgpDaemon } from '../daemon/daemon.js';
import { formatRoutes, formatStatus, requestStatus, type RouteReport, type StatusReport } from '../daemon/status.js';

const USAGE = `usage:
  tabby-bgp --config FILE [--graceful-restart] [--log-level LEVEL] [--metrics-port [ADDR:]PORT]
  tabby-bgp status --socket PATH [-o json]
  tabby-bgp routes --socket PATH [--prefix P] [-o json]
`;

function fail(msg: string, code = 2): never {
  process.stderr.write(`tabby-bgp: ${msg}\n`);
  process.exit(code);
}

function parseArgs(argv: string[]): { cmd: string; opts: Map<string, string | true> } {
  const opts = new Map<string, string | true>();
  let cmd = 'run';
  const flags = new Set(['--graceful-restart', '-R', '--help', '-h']);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (i === 0 && !a.startsWith('-')) cmd = a;
    else if (flags.has(a)) opts.set(a, true);
    else if (a.startsWith('-')) {
      const v = argv[++i];
      if (v === undefined) fail(`${a} needs a value\n${USAGE}`);
      opts.set(a, v);
    } else fail(`unexpected argument "${a}"\n${USAGE}`);
  }
  return { cmd, opts };
}

async function client(cmd: 'status' | 'routes', opts: Map<string, string | true>): Promise<void> {
  const socket = opts.get('--socket');
  if (typeof socket !== 'string') fail(`${cmd} needs --socket PATH\n${USAGE}`);
  const json = opts.get('-o') === 'json' || opts.get('--output') === 'json';
  if (cmd === 'status') {
    const r = await requestStatus<StatusReport>(socket, { cmd: 'status' });
    const out = json
      ? { peers: r.peers.map((p) => ({ address: p.address, asn: p.asn, state: p.state, since: p.since, prefixesReceived: p.prefixesReceived, prefixesAccepted: p.prefixesAccepted, prefixesAdvertised: p.prefixesAdvertised })), locRib: r.locRib }
      : undefined;
    process.stdout.write(out ? JSON.stringify(out) + '\n' : formatStatus(r));
  } else {
    const prefix = opts.get('--prefix');
    const r = await requestStatus<RouteReport[]>(socket, { cmd: 'routes', ...(typeof prefix === 'string' ? { prefix } : {}) });
    process.stdout.write(json ? JSON.stringify(r) + '\n' : formatRoutes(r));
  }
}

/** Serves /metrics; resolves once listening, or exits 2 naming the address when it cannot bind (before any session starts). */
async function serveMetrics(registry: Registry, spec: string, log: pino.Logger): Promise<void> {
  const i = spec.lastIndexOf(':');
  const host = i > 0 ? spec.slice(0, i) : '127.0.0.1';
  const port = Number(i >= 0 ? spec.slice(i + 1) : spec);
  if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`--metrics-port: "${spec}" is not [ADDR:]PORT`);
  const server = createServer((req, res) => {
    if (req.url !== '/metrics') return void res.writeHead(404).end();
    registry.metrics().then(
      (body) => res.writeHead(200, { 'content-type': registry.contentType }).end(body),
      (err: unknown) => {
        log.error({ err }, 'metrics collection failed');
        res.writeHead(500).end();
      },
    );
  });
  await new Promise<void>((resolve) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      const why = err.code === 'EADDRINUSE' ? 'is already in use' : err.code === 'EADDRNOTAVAIL' ? 'is not an address of this host' : `cannot be bound (${err.message})`;
      fail(`--metrics-port: ${host}:${port} ${why}; choose another port or stop what holds it`);
    });
    server.listen(port, host, () => {
      server.on('error', (err) => log.error({ err }, 'metrics server error'));
      log.info({ host, port }, 'serving /metrics');
      resolve();
    });
  });
}

async function runDaemon(opts: Map<string, string | true>): Promise<void> {
  const configFile = opts.get('--config');
  if (typeof configFile !== 'string') fail(`--config FILE is required\n${USAGE}`);
  const level = opts.get('--log-level');
  const log = pino({ level: typeof level === 'string' ? level : 'info', base: { svc: 'tabby-bgp' } }, pino.destination(2));
  const registry = new Registry();
  const mp = opts.get('--metrics-port');
  if (typeof mp === 'string') await serveMetrics(registry, mp, log); // before any session: a bad port is a start-up error
  let daemon: BgpDaemon;
  try {
    daemon = await BgpDaemon.start({ logger: log, registry }, { configFile, restarting: opts.has('--graceful-restart') || opts.has('-R') });
  } catch (e: unknown) {
    if (isTabbyError(e, 'InvalidConfig', 'ConfigUnreadable')) fail(e.message);
    throw e;
  }
  process.on('SIGHUP', () => {
    try {
      daemon.reload();
    } catch (err: unknown) {
      log.error({ err, file: configFile }, `reload refused, nothing changed: ${err instanceof Error ? err.message : String(err)}`);
    }
  });
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    log.info('shutting down: Cease (Administrative Shutdown) to every peer');
    void daemon.stop().finally(() => {
      log.flush();
      process.exit(0);
    });
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

const { cmd, opts } = parseArgs(process.argv.slice(2));
if (opts.has('--help') || opts.has('-h')) {
  process.stdout.write(USAGE);
  process.exit(0);
}
try {
  if (cmd === 'status' || cmd === 'routes') await client(cmd, opts);
  else if (cmd === 'run') await runDaemon(opts);
  else fail(`unknown command "${cmd}"\n${USAGE}`);
} catch (e: unknown) {
  fail(e instanceof Error ? e.message : String(e), 1);
}
