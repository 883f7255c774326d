/**
 * The status socket of `tabby-bgp`: a unix stream socket speaking one JSON request per line and
 * answering one JSON line, then closing. Requests: `{"cmd":"status"}`, `{"cmd":"routes",
 * "prefix"?: "10.0.0.0/24"}`. Answers: `{"ok":true,"result":...}` or `{"ok":false,"error":"..."}`.
 *
 * Invariants: the server never blocks the speaker (answers are built synchronously from the
 * source), never throws out of a connection handler, and removes a stale socket file before
 * listening and its own file on close. Also holds the pure formatters the CLI prints.
 */
import { existsSync, unlinkSync } from 'node:fs';
import { createConnection, createServer, type Server } from 'node:net';
import { DaemonError } from './config.js';

/** One peer as `status -o json` prints it. */
export interface PeerStatus {
  address: string;
  asn: number;
  /** RFC 4271 FSM state. */
  state: string;
  /** ISO time of the last state change. */
  since: string;
  prefixesReceived: number;
  prefixesAccepted: number;
  prefixesAdvertised: number;
  /** calicoctl-style peer type. */
  type: string;
  /** Last error or "Established". */
  info: string;
}

/** The answer to `{"cmd":"status"}`. */
export interface StatusReport {
  peers: PeerStatus[];
  locRib: { ipv4: number; ipv6: number };
}

/** One Loc-RIB entry with its best path. */
export interface RouteReport {
  prefix: string;
  nextHop: string;
  /** Peer address it was learnt from, or "local". */
  from: string;
  asPath: string;
  origin: string;
  med?: number;
  localPref?: number;
  communities?: string[];
  originatorId?: string;
  clusterList?: string[];
}

/** What the status server reads from. */
export interface StatusSource {
  status(): StatusReport;
  routes(prefix?: string): RouteReport[];
}

/** A status request. */
export type StatusRequest = { cmd: 'status' } | { cmd: 'routes'; prefix?: string };

function answer(src: StatusSource, line: string): string {
  try {
    const req = JSON.parse(line) as Partial<StatusRequest> & { prefix?: unknown };
    switch (req.cmd) {
      case 'status':
        return JSON.stringify({ ok: true, result: src.status() });
      case 'routes':
        return JSON.stringify({ ok: true, result: src.routes(typeof req.prefix === 'string' ? req.prefix : undefined) });
      default:
        return JSON.stringify({ ok: false, error: `unknown cmd ${JSON.stringify(req.cmd)}; expected "status" or "routes"` });
    }
  } catch (e: unknown) {
    return JSON.stringify({ ok: false, error: e instanceof Error ? e.message : String(e) });
  }
}

/** Listens on `path` and answers requests from `src`. Resolves once listening. */
export async function startStatusServer(path: string, src: StatusSource): Promise<{ close(): Promise<void> }> {
  if (existsSync(path)) unlinkSync(path);
  const server: Server = createServer((sock) => {
    let buf = '';
    sock.setEncoding('utf8');
    sock.on('error', () => sock.destroy());
    sock.on('data', (d: string) => {
      buf += d;
      const nl = buf.indexOf('\n');
      if (nl < 0) {
        if (buf.length > 65536) sock.destroy();
        return;
      }
      sock.end(answer(src, buf.slice(0, nl)) + '\n');
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e) => reject(new DaemonError('StatusSocket', `cannot listen on status socket ${path}: ${e.message}`, { path })));
    server.listen(path, () => resolve());
  });
  return {
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        try {
          unlinkSync(path);
        } catch {
          /* already gone */
        }
      }),
  };
}

/** Sends one request to the status socket at `path` and returns the result. */
export async function requestStatus<T = unknown>(path: string, req: StatusRequest, opts: { signal?: AbortSignal; timeoutMs?: number } = {}): Promise<T> {
  const line = await new Promise<string>((resolve, reject) => {
    const sock = createConnection(path);
    let buf = '';
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new DaemonError('StatusSocket', `no answer from status socket ${path}`, { path }));
    }, opts.timeoutMs ?? 10_000);
    const onAbort = (): void => {
      sock.destroy();
      reject(opts.signal?.reason);
    };
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    sock.setEncoding('utf8');
    sock.on('connect', () => sock.write(JSON.stringify(req) + '\n'));
    sock.on('data', (d: string) => (buf += d));
    sock.on('end', () => {
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      resolve(buf);
    });
    sock.on('error', (e) => {
      clearTimeout(timer);
      reject(new DaemonError('StatusSocket', `cannot reach status socket ${path}: ${e.message}; is tabby-bgp running with statusSocket set?`, { path }));
    });
  });
  const res = JSON.parse(line) as { ok: boolean; result?: T; error?: string };
  if (!res.ok) throw new DaemonError('BadRequest', res.error ?? 'request failed', { path });
  return res.result as T;
}

function table(head: string[], rows: string[][]): string {
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const sep = '+' + w.map((n) => '-'.repeat(n + 2)).join('+') + '+';
  const line = (r: string[]): string => '| ' + r.map((c, i) => c.padEnd(w[i]!)).join(' | ') + ' |';
  return [sep, line(head), sep, ...rows.map(line), sep].join('\n');
}

/** The `tabby-bgp status` table, in the style of `calicoctl node status`. */
export function formatStatus(r: StatusReport): string {
  const rows = r.peers.map((p) => [p.address, p.type, p.state === 'Established' ? 'up' : p.state === 'Idle' ? 'down' : 'start', p.since.replace('T', ' ').replace(/\.\d+Z$/, ''), p.info]);
  const counts = r.peers.map((p) => [p.address, String(p.prefixesReceived), String(p.prefixesAccepted), String(p.prefixesAdvertised)]);
  return [
    'IPv4 and IPv6 BGP status',
    table(['PEER ADDRESS', 'PEER TYPE', 'STATE', 'SINCE', 'INFO'], rows),
    '',
    'Prefixes',
    table(['PEER ADDRESS', 'RECEIVED', 'ACCEPTED', 'ADVERTISED'], counts),
    '',
    `Loc-RIB: ${r.locRib.ipv4} IPv4, ${r.locRib.ipv6} IPv6 prefixes`,
    '',
  ].join('\n');
}

/** The `tabby-bgp routes` table. */
export function formatRoutes(rs: RouteReport[]): string {
  const rows = rs.map((r) => [r.prefix, r.nextHop, r.from, r.asPath || '-', r.origin, r.med === undefined ? '' : String(r.med), r.localPref === undefined ? '' : String(r.localPref), (r.communities ?? []).join(' ')]);
  return table(['PREFIX', 'NEXT HOP', 'FROM', 'AS PATH', 'ORIGIN', 'MED', 'LOCAL PREF', 'COMMUNITIES'], rows) + '\n';
}
