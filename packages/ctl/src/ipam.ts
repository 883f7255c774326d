/**
 * `tabbyctl ipam show | check | release | configure | split` (calicoctl's ipam verbs):
 * `configure` here; the others in ipam-show.ts, ipam-check.ts, ipam-release.ts, ipam-split.ts.
 */
import { API_VERSION, isTabbyError, type Resource } from '@tabby/api';
import type { CtlContext } from './context.js';
import { ctlError } from './errors.js';
import { show } from './ipam-show.js';
import { check } from './ipam-check.js';
import { release } from './ipam-release.js';
import { split } from './ipam-split.js';

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
