/**
 * Release of addresses, by handle or by address. Idempotent: releasing a free address, an
 * unknown handle or the same handle twice changes nothing and is not an error.
 *
 * Invariants: a block is changed only by a compare-and-swap on its revision; a release by
 * address with a handle frees only addresses still held by that handle (so a stale caller can
 * not free an address that was since given to someone else); the handle's count is lowered
 * only after the block write (see handles.ts), or in the same transaction when the datastore
 * has `txn`. When a handle resource is missing (a crash, or
 * an older writer) release-by-handle scans every block for the handle instead, so an address
 * is never left behind. A block that becomes empty is stamped with the time (`empty-since`) so
 * that `gc` can release its affinity after the grace period.
 */
import { addressIndex, canonicalIp, cidrContains, isTabbyError, nthAddress, parseIp, TabbyError, type IPAMBlock, type IPPool, type Resource } from '@tabby/api';
import type { TxnOp } from '@tabby/datastore';
import { releaseHandleInBlock, releaseOrdinals, isEmpty, ordinalsOfHandle, type BlockRelease } from './block.js';
import { getBlock, isoNow, listBlocks, listPools, rememberBlock, updateCas, withCas, type Ctx } from './context.js';
import { ipamError } from './errors.js';
import { adjustHandle, getHandle, handleOp } from './handles.js';
import { blockCidrOf, BLOCK_EMPTY_SINCE } from './allocate.js';
import { poolOf } from './pools.js';

/** A released address and the handle that held it. */
export interface Released {
  ip: string;
  handle: string | undefined;
  block: string;
}

function stampEmpty(ctx: Ctx, block: IPAMBlock, spec: IPAMBlock['spec']): IPAMBlock['metadata'] {
  if (!isEmpty(spec)) return block.metadata;
  return { ...block.metadata, annotations: { ...(block.metadata.annotations ?? {}), [BLOCK_EMPTY_SINCE]: isoNow(ctx) } };
}

/** Sequential order (no `txn`): compare-and-swap the block, then lower the handles' counts. */
async function releaseSequential(ctx: Ctx, cidr: string, fn: (b: IPAMBlock) => BlockRelease, signal?: AbortSignal): Promise<BlockRelease['released']> {
  const freed = await withCas(ctx, 'block', async () => {
    const block = await getBlock(ctx, cidr, signal);
    if (!block) return [];
    const r = fn(block);
    if (r.released.length === 0) return [];
    rememberBlock(ctx, await updateCas(ctx.ds, { ...block, metadata: stampEmpty(ctx, block, r.spec), spec: r.spec }, signal));
    return r.released;
  }, signal);
  for (const [h, n] of countPerHandle(freed)) await adjustHandle(ctx, h, cidr, -n, signal);
  return freed;
}

function countPerHandle(freed: BlockRelease['released']): Map<string, number> {
  const perHandle = new Map<string, number>();
  for (const r of freed) if (r.handle !== undefined) perHandle.set(r.handle, (perHandle.get(r.handle) ?? 0) + 1);
  return perHandle;
}

/**
 * One atomic transaction (datastore `txn`): the block's compare-and-swap and the lowered counts
 * of the handles it freed (and, with `dropOf`, that handle's whole count for the block).
 */
async function releaseAtomic(ctx: Ctx, cidr: string, fn: (b: IPAMBlock) => BlockRelease, dropOf: string | undefined, signal?: AbortSignal): Promise<BlockRelease['released']> {
  return withCas(ctx, 'block', async () => {
    const [block, dropHandle] = await Promise.all([getBlock(ctx, cidr, signal), dropOf === undefined ? undefined : getHandle(ctx, dropOf, signal)]);
    const r = block ? fn(block) : { spec: undefined, released: [] };
    const perHandle = countPerHandle(r.released);
    const names = [...new Set([...perHandle.keys(), ...(dropOf === undefined ? [] : [dropOf])])];
    const handles = await Promise.all(names.map((h) => (h === dropOf ? dropHandle : getHandle(ctx, h, signal))));
    const ops: TxnOp[] = [];
    if (block && r.spec && r.released.length > 0) ops.push({ op: 'update', obj: { ...block, metadata: stampEmpty(ctx, block, r.spec), spec: r.spec } });
    names.forEach((h, i) => {
      const op = handleOp(ctx, h, handles[i], cidr, -(perHandle.get(h) ?? 0), h === dropOf);
      if (op) ops.push(op);
    });
    if (ops.length === 0) return [];
    try {
      const out = await ctx.ds.txn!(ops, { signal });
      if (ops[0]!.op === 'update' && ops[0]!.obj.kind === 'IPAMBlock') rememberBlock(ctx, out[0] as IPAMBlock);
    } catch (e: unknown) {
      if (isTabbyError(e, 'NotFound')) throw new TabbyError('Conflict', `${String(e.details['kind'])} ${String(e.details['name'])} was deleted concurrently`, {}, { cause: e });
      throw e;
    }
    return r.released;
  }, signal);
}

/**
 * Applies `fn` to block `cidr` with compare-and-swap (recomputed from a fresh read on each
 * retry) and lowers the handles' counts by what was freed — in one transaction when the
 * datastore has `txn`. With `dropOf`, that handle's count for the block is removed entirely
 * (release by handle: a crash may have left it too high).
 */
export async function releaseInBlock(ctx: Ctx, cidr: string, fn: (b: IPAMBlock) => BlockRelease, signal?: AbortSignal, dropOf?: string): Promise<Released[]> {
  const freed = await inReleaseQueues(ctx, [cidr], async () => {
    if (ctx.ds.txn) return releaseAtomic(ctx, cidr, fn, dropOf, signal);
    const out = await releaseSequential(ctx, cidr, fn, signal);
    if (dropOf !== undefined) await adjustHandle(ctx, dropOf, cidr, -Number.MAX_SAFE_INTEGER, signal);
    return out;
  });
  ctx.stats.released += freed.length;
  ctx.metrics?.released(freed.length);
  return freed.map((r) => ({ ip: nthAddress(cidr, r.ordinal), handle: r.handle, block: cidr }));
}

/**
 * Release by handle in one transaction (datastore `txn`): every block the handle names and the
 * handle's deletion, compared at the revisions read — so the release is atomic across families,
 * and an allocation of the same handle racing it either lands wholly before it (and is released
 * with the rest) or finds the handle gone and starts again. Undefined when the handle resource
 * does not exist (the caller then scans the blocks).
 */
async function releaseHandleAtomic(ctx: Ctx, handle: string, signal?: AbortSignal): Promise<string[] | undefined> {
  const named = await getHandle(ctx, handle, signal);
  if (!named) return undefined;
  return inReleaseQueues(ctx, Object.keys(named.spec.block), () => releaseHandleTxn(ctx, handle, signal));
}

/**
 * Runs `fn` in the release queue of every block (sorted, so two multi-block releases never wait
 * for each other in a cycle). Only this process's releases queue; the datastore's
 * compare-and-swap still decides.
 */
function inReleaseQueues<T>(ctx: Ctx, cidrs: string[], fn: () => Promise<T>): Promise<T> {
  return [...new Set(cidrs)].sort().reduceRight<() => Promise<T>>((inner, cidr) => () => ctx.releaseQueue.run(cidr, inner), fn)();
}

async function releaseHandleTxn(ctx: Ctx, handle: string, signal?: AbortSignal): Promise<string[] | undefined> {
  return withCas(ctx, 'block', async () => {
    const h = await getHandle(ctx, handle, signal);
    if (!h) return undefined;
    const blocks = await Promise.all(Object.keys(h.spec.block).map((c) => getBlock(ctx, c, signal)));
    const ops: TxnOp[] = [];
    const freed: string[] = [];
    for (const b of blocks) {
      if (!b) continue;
      const r = releaseHandleInBlock(b.spec, handle);
      if (r.released.length === 0) continue;
      ops.push({ op: 'update', obj: { ...b, metadata: stampEmpty(ctx, b, r.spec), spec: r.spec } });
      freed.push(...r.released.map((x) => nthAddress(b.spec.cidr, x.ordinal)));
    }
    ops.push({ op: 'delete', key: { kind: 'IPAMHandle', name: h.metadata.name }, resourceVersion: h.metadata.resourceVersion });
    let out: Resource[];
    try {
      out = await ctx.ds.txn!(ops, { signal });
    } catch (e: unknown) {
      if (isTabbyError(e, 'NotFound')) throw new TabbyError('Conflict', `${String(e.details['kind'])} ${String(e.details['name'])} was deleted concurrently`, {}, { cause: e });
      throw e;
    }
    out.forEach((o) => o.kind === 'IPAMBlock' && rememberBlock(ctx, o as IPAMBlock));
    ctx.stats.released += freed.length;
    ctx.metrics?.released(freed.length);
    return freed;
  }, signal);
}

/** Releases every address of `handle`; returns them (empty when it held none). */
export async function releaseByHandle(ctx: Ctx, handle: string, signal?: AbortSignal): Promise<string[]> {
  if (!ctx.ds.txn) return releaseBlockByBlock(ctx, handle, signal);
  const out: string[] = [];
  // No handle resource: only leftovers (an older writer) can hold addresses; release those, and
  // if an allocation created the handle meanwhile, release that too, so no family is left alone.
  for (let round = 0; round < 4; round++) {
    const freed = await releaseHandleAtomic(ctx, handle, signal);
    if (freed) return [...out, ...freed];
    out.push(...(await releaseBlockByBlock(ctx, handle, signal)));
    if (!(await getHandle(ctx, handle, signal))) return out;
  }
  return out;
}

/** Release by handle one block at a time (the handle's blocks, or all blocks without a handle resource). */
async function releaseBlockByBlock(ctx: Ctx, handle: string, signal?: AbortSignal): Promise<string[]> {
  const h = await getHandle(ctx, handle, signal);
  let cidrs: string[];
  if (h) cidrs = Object.keys(h.spec.block);
  else cidrs = (await listBlocks(ctx, signal)).filter((b) => ordinalsOfHandle(b.spec, handle).length > 0).map((b) => b.spec.cidr);
  const out: string[] = [];
  for (const cidr of cidrs) {
    // Also drops whatever count is left for this block (a crash may have left it too high).
    const r = await releaseInBlock(ctx, cidr, (b) => releaseHandleInBlock(b.spec, handle), signal, handle);
    out.push(...r.map((x) => x.ip));
  }
  return out;
}

/** The outcome of a release by address. */
export interface ReleaseIpsResult {
  /** Addresses that were allocated and are now free. */
  released: string[];
  /** Addresses that were already free (or held by another handle than the one given). */
  notAllocated: string[];
}

async function groupByBlock(ctx: Ctx, ips: string[], signal?: AbortSignal): Promise<Map<string, string[]>> {
  const pools: IPPool[] = await listPools(ctx, signal);
  let blocks: IPAMBlock[] | undefined;
  const groups = new Map<string, string[]>();
  for (const ip of ips) {
    const a = parseIp(ip);
    const pool = poolOf(pools, ip);
    let cidr: string | undefined = pool ? blockCidrOf(pool, a.family, a.addr) : undefined;
    if (!cidr) {
      blocks ??= await listBlocks(ctx, signal);
      cidr = blocks.find((b) => cidrContains(b.spec.cidr, ip))?.spec.cidr;
    }
    if (!cidr) continue;
    groups.set(cidr, [...(groups.get(cidr) ?? []), ip]);
  }
  return groups;
}

/**
 * Releases addresses; with `handle`, only those it holds. Throws InvalidRequest (before any
 * write) when an address does not parse.
 */
export async function releaseIps(ctx: Ctx, ips: string[], handle: string | undefined, signal?: AbortSignal): Promise<ReleaseIpsResult> {
  for (const ip of ips) {
    try {
      parseIp(ip);
    } catch (e: unknown) {
      if (isTabbyError(e)) throw ipamError('InvalidRequest', `cannot release "${ip}": not an IP address; pass addresses without a prefix length`, { ip }, e);
      throw e;
    }
  }
  const released: string[] = [];
  for (const [cidr, group] of await groupByBlock(ctx, ips, signal)) {
    const ordinals = group.map((ip) => addressIndex(cidr, ip));
    const r = await releaseInBlock(ctx, cidr, (b) => releaseOrdinals(b.spec, ordinals, handle), signal);
    released.push(...r.map((x) => x.ip));
  }
  const set = new Set(released);
  return { released, notAllocated: ips.filter((ip) => !set.has(canonicalIp(ip))) };
}
