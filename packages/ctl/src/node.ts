/**
 * `tabbyctl node status`: calicoctl's table (peer address, peer type, state, since, info, for
 * IPv4 and IPv6), read with a `{"cmd":"status"}` request from the tabby-bgp status socket
 * (`--socket`, default /var/run/tabby/bgp.sock) or from tabby-node's own socket (node.sock),
 * whose answer adds the nodes routed over the automatic fallback tunnel.
 */
import { requestStatus, type StatusReport } from '@tabby/bgp';
import type { CtlContext } from './context.js';
import { ctlError } from './errors.js';

function box(header: string[], rows: string[][]): string {
  const w = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const sep = '+' + w.map((n) => '-'.repeat(n + 2)).join('+') + '+';
  const line = (cells: string[]): string => '| ' + cells.map((c, i) => c.padEnd(w[i]!)).join(' | ') + ' |';
  return [sep, line(header), sep, ...rows.map(line), sep].join('\n') + '\n';
}

/** What tabby-node's node.sock answers (the parts shown here). */
interface AgentStatus {
  node: string;
  bgp: StatusReport | { disabled: true };
  fallback?: string[];
}

/** Renders a status report as calicoctl does; `fallback`: nodes on the fallback tunnel (tabby-node only). */
export function formatNodeStatus(r: StatusReport, fallback?: readonly string[]): string {
  const header = ['PEER ADDRESS', 'PEER TYPE', 'STATE', 'SINCE', 'INFO'];
  const rows = (v6: boolean): string[][] =>
    r.peers.filter((p) => p.address.includes(':') === v6).map((p) => [p.address, p.type, p.state === 'Established' ? 'up' : 'start', p.since, p.info]);
  const v4 = rows(false);
  const v6 = rows(true);
  const tunnel = fallback === undefined ? '' : `\nBGP fallback (routed over the tunnel from the datastore)\n${fallback.length ? fallback.map((n) => `  ${n}\n`).join('') : 'No node: BGP carries every route.\n'}`;
  return 'Tabby process is running.\n\nIPv4 BGP status\n' + (v4.length ? box(header, v4) : 'No IPv4 peers found.\n') +
    '\nIPv6 BGP status\n' + (v6.length ? box(header, v6) : 'No IPv6 peers found.\n') + tunnel;
}

/** `tabbyctl node status`. */
export async function nodeVerb(ctx: CtlContext): Promise<void> {
  if (ctx.args.words[1] !== 'status') throw ctlError('usage', 'usage: tabbyctl node status [--socket PATH] [-o json]');
  const socket = (ctx.args.flags.get('--socket') as string | undefined) ?? '/var/run/tabby/bgp.sock';
  let r: StatusReport | AgentStatus;
  try {
    r = await requestStatus<StatusReport | AgentStatus>(socket, { cmd: 'status' }, { timeoutMs: 5000 });
  } catch (e: unknown) {
    throw ctlError('unreachable', `Tabby BGP process is not running or its status socket ${socket} does not answer: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (ctx.args.output === 'json') return ctx.io.out(JSON.stringify(r, null, 2) + '\n');
  if ('peers' in r) return ctx.io.out(formatNodeStatus(r));
  ctx.io.out(formatNodeStatus('peers' in r.bgp ? r.bgp : { peers: [], locRib: { ipv4: 0, ipv6: 0 } }, r.fallback ?? []));
}
