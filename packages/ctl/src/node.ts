/**
 * `tabbyctl node status`: calicoctl's table (peer address, peer type, state, since, info, for
 * IPv4 and IPv6), read from the tabby-bgp status socket (`--socket`, default
 * /var/run/tabby/bgp.sock) with its `{"cmd":"status"}` request.
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

/** `tabbyctl node status`. */
export async function nodeVerb(ctx: CtlContext): Promise<void> {
  if (ctx.args.words[1] !== 'status') throw ctlError('usage', 'usage: tabbyctl node status [--socket PATH] [-o json]');
  const socket = (ctx.args.flags.get('--socket') as string | undefined) ?? '/var/run/tabby/bgp.sock';
  let r: StatusReport;
  try {
    r = await requestStatus<StatusReport>(socket, { cmd: 'status' }, { timeoutMs: 5000 });
  } catch (e: unknown) {
    throw ctlError('unreachable', `Tabby BGP process is not running or its status socket ${socket} does not answer: ${e instanceof Error ? e.message : String(e)}`);
  }
  ctx.io.out(ctx.args.output === 'json' ? JSON.stringify(r, null, 2) + '\n' : formatNodeStatus(r));
}
