/**
 * IPAMHandle bookkeeping: how many addresses each handle holds in each block.
 *
 * Invariant (Calico's ordering): a handle's count for a block is raised *before* the addresses
 * are written into the block and lowered *after* they are freed there, so at every instant —
 * also after a crash — the handle counts at least what the blocks hold for it. A crash can
 * leave a count too high (an empty handle, reported by `check` and removed by `gc`), never an
 * allocation that release-by-handle cannot find. The handle resource is deleted when its last
 * count reaches zero. With a datastore that has `txn` (etcd), the handle's write and the block's
 * go in one atomic transaction instead (`handleOp` builds the handle's part), so the count and
 * the block always agree, also after a crash.
 */
import { isTabbyError, TabbyError, type IPAMHandle, type IPAMHandleSpec } from '@tabby/api';
import type { TxnOp } from '@tabby/datastore';
import { deleteIfUnchanged, getOpt, isoNow, resource, updateCas, withCas, type Ctx } from './context.js';

/**
 * Thrown (internally, never to callers) when a write finds the handle other than the request
 * last saw it — created by someone else, changed or deleted — so nothing was written: the
 * request re-reads what the handle holds and plans again (assign.ts).
 */
export class HandleMoved extends Error {
  constructor(readonly handle: string) {
    super(`handle ${handle} changed concurrently`);
  }
}

/** Annotation with the time of the handle's last change (lets `gc` skip handles in flight). */
export const HANDLE_UPDATED = 'ipam.tabby.dev/updated';

/** The handle resource of `handle`, if any. */
export function getHandle(ctx: Ctx, handle: string, signal?: AbortSignal): Promise<IPAMHandle | undefined> {
  return getOpt<IPAMHandle>(ctx.ds, { kind: 'IPAMHandle', name: handle }, signal);
}

/** Adds `delta` (may be negative) to the handle's count for block `cidr`. */
export async function adjustHandle(ctx: Ctx, handle: string, cidr: string, delta: number, signal?: AbortSignal, opts: { mustCreate?: boolean } = {}): Promise<void> {
  if (delta === 0) return;
  if (opts.mustCreate && delta > 0) {
    // A request's first write (one round trip): create the handle; if it exists already, the
    // request re-plans from what it holds (HandleMoved) instead of adding to it.
    try {
      const spec: IPAMHandleSpec = { handleID: handle, block: { [cidr]: delta }, deleted: false };
      await ctx.ds.create(resource('IPAMHandle', handle, spec, { [HANDLE_UPDATED]: isoNow(ctx) }), { signal });
      return;
    } catch (e: unknown) {
      if (isTabbyError(e, 'AlreadyExists')) throw new HandleMoved(handle);
      throw e;
    }
  }
  await withCas(ctx, 'handle', async () => {
    const cur = await getHandle(ctx, handle, signal);
    const ann = { [HANDLE_UPDATED]: isoNow(ctx) };
    if (!cur) {
      if (delta < 0) return;
      const spec: IPAMHandleSpec = { handleID: handle, block: { [cidr]: delta }, deleted: false };
      await ctx.ds.create(resource('IPAMHandle', handle, spec, ann), { signal });
      return;
    }
    const block = { ...cur.spec.block };
    const n = (block[cidr] ?? 0) + delta;
    if (n > 0) block[cidr] = n;
    else delete block[cidr];
    if (Object.keys(block).length === 0) {
      if (!(await deleteHandle(ctx, cur, signal))) throw new TabbyError('Conflict', `handle ${handle} changed concurrently`);
      return;
    }
    const annotations = { ...(cur.metadata.annotations ?? {}), ...ann };
    await updateCas(ctx.ds, { ...cur, metadata: { ...cur.metadata, annotations }, spec: { ...cur.spec, block } }, signal);
  }, signal);
}

/** Deletes the handle resource if it is unchanged since `h` was read. */
export function deleteHandle(ctx: Ctx, h: IPAMHandle, signal?: AbortSignal): Promise<boolean> {
  return deleteIfUnchanged(ctx.ds, { kind: 'IPAMHandle', name: h.metadata.name }, h.metadata.resourceVersion, signal);
}

/**
 * The transaction op that changes handle `handle` (`cur`: as read, undefined when absent) by
 * `delta` for block `cidr` — with `drop`, removes the block's count whatever it is. Creates the
 * handle, updates it at the revision read, or deletes it when its last count goes; undefined
 * when nothing changes.
 */
export function handleOp(ctx: Ctx, handle: string, cur: IPAMHandle | undefined, cidr: string, delta: number, drop = false): TxnOp | undefined {
  const ann = { [HANDLE_UPDATED]: isoNow(ctx) };
  if (!cur) {
    if (delta <= 0 || drop) return undefined;
    const spec: IPAMHandleSpec = { handleID: handle, block: { [cidr]: delta }, deleted: false };
    return { op: 'create', obj: resource('IPAMHandle', handle, spec, ann) };
  }
  const had = cur.spec.block[cidr];
  const n = drop ? 0 : (had ?? 0) + delta;
  if (n === (had ?? 0) || (n <= 0 && had === undefined)) return undefined;
  const block = { ...cur.spec.block };
  if (n > 0) block[cidr] = n;
  else delete block[cidr];
  if (Object.keys(block).length === 0) return { op: 'delete', key: { kind: 'IPAMHandle', name: cur.metadata.name }, resourceVersion: cur.metadata.resourceVersion };
  const annotations = { ...(cur.metadata.annotations ?? {}), ...ann };
  return { op: 'update', obj: { ...cur, metadata: { ...cur.metadata, annotations }, spec: { ...cur.spec, block } } };
}
