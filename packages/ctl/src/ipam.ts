/**
 * `tabbyctl ipam show | check | release | configure | split` (calicoctl's ipam verbs): `show`
 * and `configure` here; the others in ipam-check.ts, ipam-release.ts and ipam-split.ts.
 */
import { API_VERSION, cidrContains, cidrSize, nthAddress, parseCidr, parseIp, isTabbyError, type IPAMBlock, type IPPool, type Resource } from '@tabby/api';
import type { CtlContext } from './context.js';
import { ctlError } from './errors.js';
import { box } from './output.js';
import { check } from './ipam-check.js';
import { release } from './ipam-release.js';
import { split } from './ipam-split.js';

function pct(n: number, total: number): string {
  return `${n} (${total === 0 ? 0 : Math.round((100 * n) / total)}%)`;
}

function used(b: IPAMBlock): number {
  return b.spec.allocations.filter((a) => a !== null).length;
}

async function show(ctx: CtlContext): Promise<void> {
  const ds = await ctx.datastore();
  const pools = (await ds.list<IPPool>({ kind: 'IPPool' })).items;
  const blocks = (await ds.list<IPAMBlock>({ kind: 'IPAMBlock' })).items;
  const ip = ctx.args.flags.get('--ip');
  if (typeof ip === 'string') {
    const b = blocks.find((x) => cidrContains(parseCidr(x.spec.cidr), parseIp(ip)));
    const ord = b ? Number(parseIp(ip).addr - parseCidr(b.spec.cidr).addr) : -1;
    const a = b?.spec.allocations[ord];
    if (!b || a === null || a === undefined) return ctx.io.out(`IP ${ip} is not assigned\n`);
    const attr = b.spec.attributes[a];
    ctx.io.out(`IP ${ip} is in use\nAttributes:\n  handle: ${attr?.handle_id ?? ''}\n${Object.entries(attr?.secondary ?? {}).map(([k, v]) => `  ${k}: ${v}\n`).join('')}`);
    return;
  }
  if (ctx.args.flags.has('--show-configuration')) {
    let strict = false;
    let max = 0;
    try {
      const c = await ds.get<Resource<'IPAMConfiguration', { strictAffinity: boolean; maxBlocksPerHost: number }>>({ kind: 'IPAMConfiguration', name: 'default' });
      strict = c.spec.strictAffinity;
      max = c.spec.maxBlocksPerHost;
    } catch (e: unknown) {
      if (!isTabbyError(e, 'NotFound')) throw e;
    }
    return ctx.io.out(box(['PROPERTY', 'VALUE'], [['StrictAffinity', String(strict)], ['MaxBlocksPerHost', String(max)]]));
  }
  const rows: string[][] = [];
  for (const p of pools) {
    const pc = parseCidr(p.spec.cidr);
    const inPool = blocks.filter((b) => cidrContains(pc, parseCidr(b.spec.cidr)));
    const total = Number(cidrSize(pc));
    const u = inPool.reduce((n, b) => n + used(b), 0);
    rows.push(['IP Pool', p.spec.cidr, String(total), pct(u, total), pct(total - u, total)]);
    if (ctx.args.flags.has('--show-blocks')) {
      for (const b of inPool) {
        const size = b.spec.allocations.length;
        rows.push([b.spec.affinity ? 'Block' : 'Block (no affinity)', b.spec.cidr, String(size), pct(used(b), size), pct(size - used(b), size)]);
      }
    }
  }
  ctx.io.out(box(['GROUPING', 'CIDR', 'IPS TOTAL', 'IPS IN USE', 'IPS FREE'], rows));
  if (ctx.args.flags.has('--show-borrowed')) {
    const brows: string[][] = [];
    for (const b of blocks) {
      const owner = b.spec.affinity?.replace(/^host:/, '') ?? '';
      b.spec.allocations.forEach((a, i) => {
        if (a === null) return;
        const node = b.spec.attributes[a]?.secondary?.node;
        if (node && node !== owner) brows.push([nthAddress(b.spec.cidr, i), b.spec.cidr, owner, node]);
      });
    }
    ctx.io.out(box(['IP', 'BORROWING-NODE', 'BLOCK', 'BLOCK OWNER'], brows.map((r) => [r[0]!, r[3]!, r[1]!, r[2]!])));
  }
}

async function configure(ctx: CtlContext): Promise<void> {
  const ds = await ctx.datastore();
  const strict = ctx.args.flags.get('--strictaffinity');
  const max = ctx.args.flags.get('--max-blocks-per-host');
  if (strict === undefined && max === undefined) throw ctlError('usage', 'usage: tabbyctl ipam configure [--strictaffinity=true|false] [--max-blocks-per-host=N]');
  type Cfg = Resource<'IPAMConfiguration', { strictAffinity: boolean; maxBlocksPerHost: number; autoAllocateBlocks: boolean }>;
  let cur: Cfg | undefined;
  try {
    cur = await ds.get<Cfg>({ kind: 'IPAMConfiguration', name: 'default' });
  } catch (e: unknown) {
    if (!isTabbyError(e, 'NotFound')) throw e;
  }
  const spec = { strictAffinity: false, maxBlocksPerHost: 0, autoAllocateBlocks: true, ...(cur?.spec ?? {}) };
  if (typeof strict === 'string') {
    if (strict !== 'true' && strict !== 'false') throw ctlError('usage', '--strictaffinity takes true or false');
    spec.strictAffinity = strict === 'true';
  }
  if (typeof max === 'string') {
    if (!/^\d+$/.test(max)) throw ctlError('usage', '--max-blocks-per-host takes a non-negative integer');
    spec.maxBlocksPerHost = Number(max);
  }
  const doc: Cfg = { apiVersion: API_VERSION, kind: 'IPAMConfiguration', metadata: { name: 'default', ...(cur ? { resourceVersion: cur.metadata.resourceVersion } : {}) }, spec };
  if (cur) await ds.update(doc);
  else await ds.create(doc);
  ctx.io.out('Successfully set IPAM configuration\n');
}

/** `tabbyctl ipam <sub>`. */
export async function ipamVerb(ctx: CtlContext): Promise<void> {
  const sub = ctx.args.words[1];
  switch (sub) {
    case 'show':
      return show(ctx);
    case 'check':
      return check(ctx);
    case 'release':
      return release(ctx);
    case 'configure':
      return configure(ctx);
    case 'split':
      return split(ctx);
    default:
      throw ctlError('usage', 'usage: tabbyctl ipam show|check|release|configure|split; see tabbyctl ipam --help');
  }
}
