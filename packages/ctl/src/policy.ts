/**
 * `tabbyctl policy trace <src> <dst> [--protocol tcp|udp|icmp|sctp|N] [--port N]`: the verdict
 * felix's rendered chains give the first packet of a flow, and the tiers, policies, profiles and
 * rules that decided it — from the same evaluator felix's differential test checks against real
 * traffic, over the same model tabby-node builds (felix's PolicyFeed, so the synthesized
 * `kns.<namespace>` profiles are there too). Endpoints are `<namespace>/<pod>` (or a
 * WorkloadEndpoint name) or addresses; an address that is no workload applies no policy.
 */
import type { AnyResource } from '@tabby/api';
import { evaluate, PolicyCalculator, PolicyFeed, type Verdict } from '@tabby/felix';
import type { CtlContext } from './context.js';
import { ctlError } from './errors.js';

const KINDS = ['IPPool', 'Node', 'Profile', 'GlobalNetworkPolicy', 'NetworkPolicy', 'WorkloadEndpoint'] as const;
const PROTOCOLS: Record<string, number> = { tcp: 6, udp: 17, icmp: 1, icmpv6: 58, sctp: 132 };

const USAGE = 'usage: tabbyctl policy trace <src> <dst> [--protocol tcp|udp|icmp|sctp|NUMBER] [--port N] [-o json]\n  <src>/<dst>: <namespace>/<pod>, a WorkloadEndpoint name, or an IP address';

function protocolOf(text: string | undefined): number {
  if (text === undefined) return 6;
  const n = PROTOCOLS[text.toLowerCase()] ?? (/^\d+$/.test(text) ? Number(text) : NaN);
  if (!(n >= 0 && n <= 255)) throw ctlError('usage', `--protocol ${text}: expected tcp, udp, icmp, sctp or a number 0-255\n${USAGE}`);
  return n;
}

/** The address of an endpoint argument. */
function resolve(arg: string, weps: AnyResource[]): { ip: string; label: string } {
  if (!arg.includes('/') || /^[\d.]+\/\d+$/.test(arg) || arg.includes(':')) return { ip: arg.split('/')[0]!, label: arg };
  const [ns, name] = arg.split('/', 2) as [string, string];
  const wep = weps.find((w) => w.kind === 'WorkloadEndpoint' && (w.metadata.namespace ?? 'default') === ns && (w.spec.pod === name || w.metadata.name === name));
  if (!wep || wep.kind !== 'WorkloadEndpoint') throw ctlError('failed', `no workload ${arg}: no WorkloadEndpoint in namespace ${ns} for pod or endpoint ${name}`);
  const ip = wep.spec.ipNetworks[0]?.split('/')[0];
  if (!ip) throw ctlError('failed', `workload ${arg} has no address`);
  return { ip, label: `${arg} (${ip})` };
}

/** Renders a verdict as text. */
export function formatTrace(src: string, dst: string, proto: string, v: Verdict): string {
  const lines = [`${src} -> ${dst} ${proto}: ${v.verdict.toUpperCase()}`];
  if (v.path.length === 0) lines.push('  no policy applies to either endpoint (no workload, or not selected)');
  for (const s of v.path) {
    const what = s.policy ? `tier ${s.tier ?? 'default'}, policy ${s.policy}` : s.profile ? `profile ${s.profile}` : s.tier ? `tier ${s.tier}` : 'profiles';
    const rule = s.rule !== undefined ? `, rule ${s.rule}` : '';
    lines.push(`  ${s.direction.padEnd(7)} ${s.endpoint}: ${what}${rule} -> ${s.outcome}`);
  }
  return lines.join('\n') + '\n';
}

/** `tabbyctl policy trace`. */
export async function policyVerb(ctx: CtlContext): Promise<void> {
  const [, sub, srcArg, dstArg] = ctx.args.words;
  if (sub !== 'trace' || !srcArg || !dstArg) throw ctlError('usage', USAGE);
  const protocol = protocolOf(ctx.args.flags.get('--protocol') as string | undefined);
  const portFlag = ctx.args.flags.get('--port') as string | undefined;
  const dstPort = portFlag === undefined ? (protocol === 6 || protocol === 17 || protocol === 132 ? 80 : undefined) : Number(portFlag);
  if (dstPort !== undefined && !(Number.isInteger(dstPort) && dstPort >= 0 && dstPort <= 65535)) throw ctlError('usage', `--port ${portFlag}: expected 0-65535\n${USAGE}`);
  const ds = await ctx.datastore();
  const resources: AnyResource[] = [];
  for (const kind of KINDS) resources.push(...(await ds.list<AnyResource>({ kind })).items);
  const calc = new PolicyCalculator({ nodeName: '' });
  const feed = new PolicyFeed('');
  for (const ev of feed.events(resources.map((resource) => ({ kind: resource.kind, resource, deleted: false })))) calc.onEvent(ev);
  const weps = resources.filter((r) => r.kind === 'WorkloadEndpoint');
  const src = resolve(srcArg, weps);
  const dst = resolve(dstArg, weps);
  const v = evaluate(calc.model(), { src: src.ip, dst: dst.ip, protocol, ...(dstPort !== undefined ? { dstPort } : {}) });
  const proto = `${Object.entries(PROTOCOLS).find(([, n]) => n === protocol)?.[0] ?? `proto ${protocol}`}${dstPort !== undefined ? `/${dstPort}` : ''}`;
  ctx.io.out(ctx.args.output === 'json' ? JSON.stringify({ src: src.ip, dst: dst.ip, protocol, dstPort, ...v }, null, 2) + '\n' : formatTrace(src.label, dst.label, proto, v));
}
