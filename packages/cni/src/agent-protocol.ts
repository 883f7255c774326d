/**
 * The thin-client protocol between the plugin binaries and the node agent: the binary sends
 * its whole call — environment (CNI_* only) and stdin — as one JSON line over the agent's unix
 * socket, and the agent answers with one JSON line `{ stdout, code }` that the binary prints
 * and exits with. The agent runs the same `runPlugin` with long-lived components (one datastore
 * connection, one Ipam with its caches, one netlink socket), so a call costs the binary's bare
 * Node start-up plus one round trip. Version 1; a request carries `v: 1`; the agent answers
 * `{ v: 1, error }` to anything it cannot parse, and the binary then runs the call itself.
 *
 * A second framing serves the C client (`native/cni-client.c`, installed by `install.ts`; no
 * Node start-up at all): the request is text — `TABBY_PLUGIN=tabby` and the CNI_* variables as KEY=VALUE
 * lines, an empty line, then the configuration until end of stream (the client half-closes);
 * the answer is the exit status on the first line, then what to print. The agent tells the two
 * framings apart by the first byte ('{' is JSON).
 *
 * This module imports only node:net so the binary's start-up stays small.
 */
import { connect } from 'node:net';

/** Protocol version. */
export const AGENT_PROTOCOL_VERSION = 1;

/** A call sent to the agent. */
export interface AgentRequest {
  v: 1;
  plugin: 'tabby' | 'tabby-ipam';
  env: Record<string, string>;
  stdin: string;
}

/** The agent's answer. */
export interface AgentResponse {
  v: 1;
  stdout?: string;
  code?: number;
  /** Set when the agent did not run the call (the binary falls back to the direct path). */
  error?: string;
}

/** The CNI_* variables of an environment (all a call needs). */
export function cniEnvOf(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (k.startsWith('CNI_') && v !== undefined) out[k] = v;
  return out;
}

/**
 * Sends one call. Resolves undefined when no agent listens (no socket, refused) or the agent
 * declined the call, so that the caller runs it directly. Once the call is sent it is never
 * run twice: a lost connection or a timeout answers CNI error 11 (try again later).
 */
export function callAgent(socketPath: string, req: AgentRequest, timeoutMs: number, cniVersion = '1.0.0'): Promise<{ stdout: string; code: number } | undefined> {
  return new Promise((resolve) => {
    let buf = '';
    let sent = false;
    let settled = false;
    const lost = (why: string): { stdout: string; code: number } => ({
      stdout: JSON.stringify({ cniVersion, code: 11, msg: `node agent at ${socketPath}: ${why}`, details: 'the runtime will retry' }),
      code: 1,
    });
    const finish = (v: { stdout: string; code: number } | undefined): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      sock.destroy();
      resolve(v);
    };
    const sock = connect(socketPath);
    const timer = setTimeout(() => finish(sent ? lost(`no answer in ${timeoutMs} ms`) : undefined), timeoutMs);
    sock.setEncoding('utf8');
    sock.on('connect', () => {
      sent = true;
      sock.write(JSON.stringify(req) + '\n');
    });
    sock.on('data', (d: string) => {
      buf += d;
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      try {
        const res = JSON.parse(buf.slice(0, nl)) as AgentResponse;
        if (res.error !== undefined) return finish(undefined);
        if (typeof res.stdout !== 'string' || typeof res.code !== 'number') return finish(lost('malformed answer'));
        finish({ stdout: res.stdout, code: res.code });
      } catch {
        finish(lost('malformed answer'));
      }
    });
    sock.on('error', (e) => finish(sent ? lost(e.message) : undefined));
    sock.on('close', () => finish(sent ? lost('connection closed') : undefined));
  });
}

/** Reads the agent socket path out of a conflist text without a full parse (cheap). */
export function agentSocketOf(stdin: string, fallback: string): string {
  try {
    const d = JSON.parse(stdin) as { agent_socket?: unknown };
    return typeof d.agent_socket === 'string' ? d.agent_socket : fallback;
  } catch {
    return fallback;
  }
}

/** Parses a text-framed request; undefined when it is malformed (the agent then closes). */
export function parseTextRequest(text: string): AgentRequest | undefined {
  const cut = text.indexOf('\n\n');
  if (cut < 0) return undefined;
  const env: Record<string, string> = {};
  let plugin: AgentRequest['plugin'] = 'tabby';
  for (const line of text.slice(0, cut).split('\n')) {
    const eq = line.indexOf('=');
    if (eq <= 0) continue;
    const k = line.slice(0, eq);
    const v = line.slice(eq + 1);
    if (k === 'TABBY_PLUGIN') {
      if (v !== 'tabby' && v !== 'tabby-ipam') return undefined;
      plugin = v;
    } else if (k.startsWith('CNI_')) env[k] = v;
  }
  return { v: 1, plugin, env, stdin: text.slice(cut + 2) };
}

/** The text-framed answer: exit status, newline, output. */
export function formatTextResponse(r: { stdout: string; code: number }): string {
  return `${r.code}\n${r.stdout}`;
}
