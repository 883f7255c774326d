/**
 * The node agent's local API: a unix stream socket, one JSON request per line, one JSON answer
 * line, then close (the same framing as tabby-bgp's status socket). Requests: `{"cmd":"status"}`.
 * Answers: `{"ok":true,"result":...}` or `{"ok":false,"error":"..."}`. A handler that throws
 * becomes an error answer; the server never throws out of a connection.
 */
import { existsSync, unlinkSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';

/** The handlers behind the socket. */
export interface LocalApiHandlers {
  status(): unknown;
}

/** A running local API. */
export interface LocalApi {
  path: string;
  close(): Promise<void>;
}

/** Listens on `path` (a stale socket file is replaced). */
export function startLocalApi(path: string, h: LocalApiHandlers): Promise<LocalApi> {
  if (existsSync(path)) unlinkSync(path);
  const server = createServer((sock) => {
    let buf = '';
    sock.setEncoding('utf8');
    sock.on('error', () => sock.destroy());
    sock.on('data', (chunk: string) => {
      buf += chunk;
      const nl = buf.indexOf('\n');
      if (nl < 0) {
        if (buf.length > 65536) sock.end(JSON.stringify({ ok: false, error: 'request too long' }) + '\n');
        return;
      }
      let answer: unknown;
      try {
        const req = JSON.parse(buf.slice(0, nl)) as { cmd?: unknown };
        if (req.cmd === 'status') answer = { ok: true, result: h.status() };
        else answer = { ok: false, error: `unknown command ${JSON.stringify(req.cmd)}; known: status` };
      } catch (e: unknown) {
        answer = { ok: false, error: e instanceof Error ? e.message : String(e) };
      }
      sock.end(JSON.stringify(answer) + '\n');
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => {
      resolve({
        path,
        close: () =>
          new Promise<void>((r) => {
            server.close(() => r());
            if (existsSync(path)) unlinkSync(path);
          }),
      });
    });
  });
}

/** Sends one request to a local API socket and returns its result (throws its error). */
export function requestLocal<T>(path: string, req: { cmd: string }, timeoutMs = 5000): Promise<T> {
  return new Promise((resolve, reject) => {
    const sock = createConnection(path);
    let buf = '';
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`${path}: no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    sock.setEncoding('utf8');
    sock.on('connect', () => sock.write(JSON.stringify(req) + '\n'));
    sock.on('data', (d: string) => (buf += d));
    sock.on('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`${path}: ${e.message}; is tabby-node running?`));
    });
    sock.on('end', () => {
      clearTimeout(timer);
      try {
        const a = JSON.parse(buf) as { ok: boolean; result?: T; error?: string };
        if (a.ok) resolve(a.result as T);
        else reject(new Error(a.error));
      } catch (e: unknown) {
        reject(e instanceof Error ? e : new Error(String(e)));
      }
    });
  });
}
