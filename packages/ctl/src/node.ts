/**
 * `tabbyctl node status`: calicoctl's table (peer address, peer type, state, since, info, for
 * IPv4 and IPv6) and the nodes in tunnel fallback, read from the node agent's local API
 * (/var/run/tabby/node.sock) or, without an agent, a standalone tabby-bgp's status socket
 * (/var/run/tabby/bgp.sock); `--socket` names either. Both answer `{"cmd":"status"}`.
 */
import { requestStatus, type StatusReport } from '@tabby/bgp';
import type { CtlContext } from './context.js';
import { ctlError } from './errors.js';
import { box } from './output.js';

/** BIRD's short time, as calicoctl shows it: HH:MM:SS within 20 hours, else YYYY-MM-DD (UTC). Pure. */
export function birdSince(iso: string, now: Date): string {
  const t = new Date(iso);
  if (Number.isNaN(t.getTime())) return iso;
  const text = t.toISOString();
  return now.getTime() - t.getTime() < 20 * 3600_000 ? text.slice(11, 19) : text.slice(0, 10);
}

/** Renders a status report as calicoctl does (IPv4 peers, then IPv6 peers). */
export function formatNodeStatus(r: StatusReport, now: Date = new Date()): string {
  const header = ['PEER ADDRESS', 'PEER TYPE', 'STATE', 'SINCE', 'INFO'];
  const rows = (v6: boolean): string[][] =>
    r.peers.filter((p) => p.address.includes(':') === v6).map((p) => [p.address, p.type, p.state === 'Established' ? 'up' : 'start', birdSince(p.since, now), p.info]);
  const v4 = rows(false);
  const v6 = rows(true);
  return 'Tabby process is running.\n\nIPv4 BGP status\n' + (v4.length ? box(header, v4) : 'No IPv4 peers found.\n') +
    '\nIPv6 BGP status\n' + (v6.length ? box(header, v6) : 'No IPv6 peers found.\n');
}

/** The node agent's status (its local API, node.sock): the speaker's report and the fallback. */
export interface AgentStatus {
  node: string;
  bgp: StatusReport | { disabled: true };
  fallback?: { enabled: boolean; timeoutSeconds: number; nodes: { node: string; since: string; families?: Array<4 | 6> }[] };
}

function isAgentStatus(r: unknown): r is AgentStatus {
  return typeof r === 'object' && r !== null && 'node' in r && 'bgp' in r;
}

/** Renders the agent's status: calicoctl's BGP tables, then which nodes take the tunnel. */
export function formatAgentStatus(r: AgentStatus): string {
  const bgp = 'peers' in r.bgp ? formatNodeStatus(r.bgp) : 'Tabby process is running.\n\nBGP is disabled on this node.\n';
  const fb = r.fallback;
  if (!fb) return bgp;
  if (!fb.enabled) return bgp + '\nTunnel fallback: disabled\n';
  const head = `\nTunnel fallback (after ${fb.timeoutSeconds} s without BGP)\n`;
  if (fb.nodes.length === 0) return bgp + head + 'No node is reached over the tunnel.\n';
  const families = (f: Array<4 | 6> | undefined): string => (f ? f.map((x) => `IPv${x}`).join(', ') : 'all');
  return bgp + head + box(['NODE', 'FAMILIES', 'ROUTED OVER', 'SINCE'], fb.nodes.map((n) => [n.node, families(n.families), 'tunnel', n.since]));
}

const DEFAULT_SOCKETS = ['/var/run/tabby/node.sock', '/var/run/tabby/bgp.sock'];

/**
 * `tabbyctl node status`: asks the node agent (node.sock), else a standalone tabby-bgp (bgp.sock);
 * `--socket` names either.
 */
export async function nodeVerb(ctx: CtlContext): Promise<void> {
  if (ctx.args.words[1] !== 'status') throw ctlError('usage', 'usage: tabbyctl node status [--socket PATH] [-o json]');
  const given = ctx.args.flags.get('--socket') as string | undefined;
  const sockets = given ? [given] : DEFAULT_SOCKETS;
  let r: unknown;
  const errors: string[] = [];
  for (const socket of sockets) {
    try {
      r = await requestStatus<unknown>(socket, { cmd: 'status' }, { timeoutMs: 5000 });
      break;
    } catch (e: unknown) {
      errors.push(`${socket}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  if (r === undefined) throw ctlError('unreachable', `Tabby is not running on this node or its status socket does not answer (${errors.join('; ')})`);
  if (ctx.args.output === 'json') ctx.io.out(JSON.stringify(r, null, 2) + '\n');
  else ctx.io.out(isAgentStatus(r) ? formatAgentStatus(r) : formatNodeStatus(r as StatusReport));
}
