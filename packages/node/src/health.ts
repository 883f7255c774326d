/**
 * tabby-node's HTTP endpoints, as calico-node's health port (9099): `GET /liveness` (200 while the
 * agent's loops run), `GET /readiness` (200 once the datastore is synced, BGP configured and the
 * dataplane programmed) and `GET /metrics` (Prometheus text). Each health answer is a JSON body
 * naming every check, so a failing probe says which one failed.
 *
 * The server starts before the agent (a port in use is a start-up error, not a later crash) and
 * reads the agent through `HealthSource`; until the agent is set, liveness is 200 (starting) and
 * readiness 503.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { TabbyError } from '@tabby/api';

/** One health verdict with the checks behind it. */
export interface HealthReport {
  ok: boolean;
  checks: Record<string, boolean>;
}

/** What the endpoints read. */
export interface HealthSource {
  liveness(): HealthReport;
  readiness(): HealthReport;
}

/** The server's parts. */
export interface HealthServerComponents {
  /** Prometheus exposition; without it /metrics is 404. */
  scrape?: () => Promise<{ contentType: string; body: string }>;
  logger: { error(obj: Record<string, unknown>, msg?: string): void };
}

/** A health server that could not listen: the port in use, or not an address of this host. */
export class HealthPortError extends TabbyError<'health-port-unavailable'> {
  constructor(host: string, port: number, why: string) {
    super('health-port-unavailable', `health port ${host}:${port} ${why}; choose another with --health-port / TABBY_HEALTH_PORT or stop what holds it`, { host, port });
    this.name = 'HealthPortError';
  }
}

/** A listening health server. */
export class HealthServer {
  private source: HealthSource | undefined;

  private constructor(private readonly server: Server, private readonly c: HealthServerComponents) {
    server.on('request', (req, res) => {
      const path = (req.url ?? '/').split('?')[0];
      if (req.method !== 'GET' && req.method !== 'HEAD') return void res.writeHead(405, { allow: 'GET, HEAD' }).end();
      if (path === '/liveness' || path === '/readiness') {
        const report = this.report(path === '/liveness');
        res.writeHead(report.ok ? 200 : 503, { 'content-type': 'application/json' }).end(`${JSON.stringify(report)}\n`);
        return;
      }
      if (path === '/metrics' && this.c.scrape) {
        this.c.scrape().then(
          (m) => res.writeHead(200, { 'content-type': m.contentType }).end(m.body),
          (err: unknown) => {
            this.c.logger.error({ err: String(err) }, 'metrics collection failed');
            res.writeHead(500).end();
          },
        );
        return;
      }
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /liveness, /readiness or /metrics\n');
    });
  }

  /** Listens on `host:port` (port 0: any free port); rejects with HealthPortError when it cannot. */
  static listen(c: HealthServerComponents, init: { host: string; port: number }): Promise<HealthServer> {
    const server = createServer();
    return new Promise((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) => {
        const why = err.code === 'EADDRINUSE' ? 'is already in use' : err.code === 'EADDRNOTAVAIL' ? 'is not an address of this host' : `cannot be bound (${err.message})`;
        reject(new HealthPortError(init.host, init.port, why));
      });
      server.listen(init.port, init.host, () => {
        server.on('error', (err) => c.logger.error({ err: String(err) }, 'health server error'));
        resolve(new HealthServer(server, c));
      });
    });
  }

  /** The address actually bound (the port when 0 was asked for). */
  get address(): { host: string; port: number } {
    const a = this.server.address() as AddressInfo;
    return { host: a.address, port: a.port };
  }

  /** Points the endpoints at the running agent. */
  setSource(source: HealthSource): void {
    this.source = source;
  }

  private report(live: boolean): HealthReport {
    if (!this.source) return live ? { ok: true, checks: { starting: true } } : { ok: false, checks: { started: false } };
    return live ? this.source.liveness() : this.source.readiness();
  }

  /** Stops listening and closes open connections. */
  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}

/** `HOST` and `PORT` from flags, then the environment, then the defaults (127.0.0.1:9099). */
export function healthAddress(flags: { host?: string; port?: string }, env: NodeJS.ProcessEnv): { host: string; port: number } | { error: string } {
  const text = flags.port ?? env.TABBY_HEALTH_PORT ?? '9099';
  const port = Number(text);
  if (!/^\d+$/.test(text) || port > 65535) return { error: `--health-port ${text}: expected a port 0-65535` };
  return { host: flags.host ?? env.TABBY_HEALTH_HOST ?? '127.0.0.1', port };
}

/** The facts an agent reports (NodeAgent.healthFacts). */
export interface HealthFacts {
  datastoreSynced: boolean;
  bgpConfigured: boolean;
  dataplaneProgrammed: boolean;
  felixLive: boolean;
  stopped: boolean;
  lastPollAt: number;
  pollMs: number;
}

/**
 * Liveness and readiness from an agent's facts. Live: not stopped, felix running, and the poll
 * loop (BGP table → felix, fallback timers) completed a round within 40 periods or 60 s, whichever
 * is longer. Ready: live, datastore listed, BGP configured, dataplane programmed.
 */
export function healthSource(facts: () => HealthFacts, now: () => number = Date.now): HealthSource {
  const live = (f: HealthFacts): Record<string, boolean> => ({
    running: !f.stopped,
    felix: f.felixLive,
    pollLoop: now() - f.lastPollAt <= Math.max(60_000, 40 * f.pollMs),
  });
  const verdict = (checks: Record<string, boolean>): HealthReport => ({ ok: Object.values(checks).every(Boolean), checks });
  return {
    liveness: () => verdict(live(facts())),
    readiness: () => {
      const f = facts();
      return verdict({ ...live(f), datastoreSynced: f.datastoreSynced, bgpConfigured: f.bgpConfigured, dataplaneProgrammed: f.dataplaneProgrammed });
    },
  };
}
