/**
 * `tabbyctl ipam split <N> --cidr=<CIDR> | --name=<POOL>`: replaces an IP pool by N equal pools
 * (N a power of 2) named `split-<pool>-<i>`, as calicoctl does: each child copies the pool's
 * spec, labels and annotations with its own CIDR and `disabled: false`; then the pool is deleted.
 *
 * Invariants:
 * - calicoctl requires its datastore lock so that no address is handed out from the pool during
 *   the split. Tabby has no such lock; the pool itself must be disabled first (a disabled pool is
 *   never allocated from), which freezes the same data.
 * - Everything is checked before the first write: N, the children's size (each must hold at
 *   least one of the pool's blocks, so every existing block lies in exactly one child and keeps
 *   its allocations), every child against the IPPool validator, and that no child name is taken.
 * - The writes are one transaction where the datastore has one (etcd); elsewhere (Kubernetes)
 *   the children are created one by one and removed again if a later write fails.
 */
import { API_VERSION, canonicalCidr, isTabbyError, nthSubnet, parseCidr, subnetCount, validateResource, type IPPool } from '@tabby/api';
import type { Datastore } from '@tabby/datastore';
import type { CtlContext } from './context.js';
import { ctlError } from './errors.js';

const USAGE = 'usage: tabbyctl ipam split <NUMBER> --cidr=<CIDR> | --name=<POOL>';

/** log2(parts); a usage error unless parts is 2, 4, 8, ... */
function powerOf2(parts: number): number {
  const power = Math.log2(parts);
  if (!Number.isSafeInteger(parts) || parts < 2 || !Number.isInteger(power)) throw ctlError('usage', `cannot split into ${parts} pools: the number must be a power of 2 (2, 4, 8, ...)\n${USAGE}`);
  return power;
}

/** The CIDRs of `cidr` split into `parts` equal subnets (parts a power of 2, at least 2). Pure. */
export function splitCidrs(cidr: string, parts: number): string[] {
  const power = powerOf2(parts);
  const c = parseCidr(cidr);
  const len = c.prefixLen + power;
  if (subnetCount(c, len) === 0n) throw ctlError('usage', `the CIDR ${c.text} is not large enough to be split into ${parts} parts`);
  return Array.from({ length: parts }, (_, i) => nthSubnet(c, len, i).text);
}

async function findPool(ds: Datastore, name: string | undefined, cidr: string | undefined): Promise<IPPool> {
  if (name !== undefined) {
    try {
      return await ds.get<IPPool>({ kind: 'IPPool', name });
    } catch (e: unknown) {
      if (isTabbyError(e, 'NotFound')) throw ctlError('failed', `no IP pool named "${name}"; see tabbyctl get ippools`);
      throw e;
    }
  }
  let want: string;
  try {
    want = canonicalCidr(cidr ?? '');
  } catch {
    throw ctlError('usage', `--cidr ${cidr}: not a CIDR\n${USAGE}`);
  }
  const pool = (await ds.list<IPPool>({ kind: 'IPPool' })).items.find((p) => canonicalCidr(p.spec.cidr) === want);
  if (!pool) throw ctlError('failed', `no IP pool with CIDR ${want}; see tabbyctl get ippools`);
  return pool;
}

/** The child pools, validated; a usage error naming the first problem. */
function children(pool: IPPool, parts: number): IPPool[] {
  const { name, labels, annotations } = pool.metadata;
  return splitCidrs(pool.spec.cidr, parts).map((cidr, i) => {
    const child: IPPool = {
      apiVersion: API_VERSION,
      kind: 'IPPool',
      metadata: { name: `split-${name.slice(0, 245)}-${i}`, ...(labels ? { labels: { ...labels } } : {}), ...(annotations ? { annotations: { ...annotations } } : {}) },
      spec: { ...structuredClone(pool.spec), cidr, disabled: false },
    };
    try {
      return validateResource(child, `IPPool "${child.metadata.name}"`) as IPPool;
    } catch (e: unknown) {
      throw ctlError('usage', `cannot split ${pool.spec.cidr} into ${parts}: ${e instanceof Error ? e.message : String(e)}`);
    }
  });
}

async function write(ds: Datastore, pool: IPPool, kids: IPPool[]): Promise<void> {
  const parent = { kind: 'IPPool', name: pool.metadata.name };
  if (ds.txn) {
    await ds.txn([...kids.map((obj) => ({ op: 'create' as const, obj })), { op: 'delete', key: parent, resourceVersion: pool.metadata.resourceVersion }]);
    return;
  }
  const made: string[] = [];
  try {
    for (const k of kids) {
      await ds.create(k);
      made.push(k.metadata.name);
    }
    await ds.delete(parent, { ...(pool.metadata.resourceVersion ? { resourceVersion: pool.metadata.resourceVersion } : {}) });
  } catch (e: unknown) {
    for (const name of made) await ds.delete({ kind: 'IPPool', name }).catch(() => undefined);
    throw e;
  }
}

/** `tabbyctl ipam split`. */
export async function split(ctx: CtlContext): Promise<void> {
  const numText = ctx.args.words[2];
  const name = ctx.args.flags.get('--name');
  const cidr = ctx.args.flags.get('--cidr');
  if (numText === undefined || !/^\d+$/.test(numText)) throw ctlError('usage', `${numText === undefined ? 'the number of pools is missing' : `"${numText}" is not a number`}\n${USAGE}`);
  if (typeof name !== 'string' && typeof cidr !== 'string') throw ctlError('usage', `name the pool to split with --name or --cidr\n${USAGE}`);
  const parts = Number(numText);
  powerOf2(parts);
  const ds = await ctx.datastore();
  const pool = await findPool(ds, typeof name === 'string' ? name : undefined, typeof cidr === 'string' ? cidr : undefined);
  const p = pool.metadata.name;
  if (!pool.spec.disabled) {
    throw ctlError('failed', `IP pool "${p}" is enabled; nothing was written.\n` +
      `Disable it first so that no address is allocated from it during the split:\n  tabbyctl patch ippool ${p} -p '{"spec":{"disabled":true}}'`);
  }
  const kids = children(pool, parts);
  for (const k of kids) {
    const taken = await ds.get({ kind: 'IPPool', name: k.metadata.name }).then(() => true, (e: unknown) => (isTabbyError(e, 'NotFound') ? false : Promise.reject(e)));
    if (taken) throw ctlError('failed', `IP pool "${k.metadata.name}" already exists; nothing was written (rename or delete it first)`);
  }
  try {
    await write(ds, pool, kids);
  } catch (e: unknown) {
    if (isTabbyError(e, 'Conflict') || isTabbyError(e, 'AlreadyExists') || isTabbyError(e, 'NotFound')) {
      throw ctlError('failed', `IP pool "${p}" changed during the split; nothing was written, try again: ${e instanceof Error ? e.message : String(e)}`);
    }
    throw e;
  }
  ctx.io.out(`IP Pool ${p} was successfully split into ${parts} smaller pools.\n` + kids.map((k) => `Created ${k.metadata.name} with CIDR ${k.spec.cidr}.\n`).join(''));
}
