/**
 * One `autoAssign` request across both families, idempotent by handle.
 *
 * Invariants:
 * - a handle ends with at most the requested number of addresses per family: a request for a
 *   handle that already holds addresses (a retried CNI ADD, a second process allocating the
 *   same handle at once, a retry after an `Indeterminate` outcome) returns those and allocates
 *   only what is missing. With `txn`, every allocation and release writes the handle in the
 *   same transaction as the block (create if absent, else compare-and-swap on its revision), so
 *   the handle's revision fixes what it holds: when a write finds the handle other than this
 *   request last saw it (`HandleMoved`), nothing was written by that write, and the request
 *   re-reads what the handle holds and plans again;
 * - both families or neither: the second family's write compares the handle at the revision
 *   the first family's write left, so a release-by-handle in between makes it fail and the
 *   request re-plans (allocating both again) instead of reporting an address that was freed;
 *   when a family cannot be served, the addresses this request took are released again;
 * - a failed undo never hides the original error: it is logged, and what it could not release
 *   stays allocated under the handle (found by `ipsByHandle`, reported by `check`, released by
 *   `releaseByHandle` or `gc`).
 */
import { ordinalsOfHandle } from './block.js';
import { nthAddress } from '@tabby/api';
import { getBlock, type Ctx } from './context.js';
import { ipamError } from './errors.js';
import { getHandle } from './handles.js';
import type { FamilyRequest } from './allocate.js';
import type { IPAMHandle } from '@tabby/api';
import { HandleMoved } from './handles.js';
import type { AutoAssignResult } from './types.js';

/** What a handle holds now, per family, and the handle resource as read. */
export interface Held {
  handle: IPAMHandle | undefined;
  ipv4: string[];
  ipv6: string[];
}

/** Reads what `handle` holds (from its handle resource and the blocks it names). */
export async function heldByHandle(ctx: Ctx, handle: string, signal?: AbortSignal): Promise<Held> {
  const h = await getHandle(ctx, handle, signal);
  const out: Held = { handle: h, ipv4: [], ipv6: [] };
  if (!h) return out;
  const blocks = await Promise.all(Object.keys(h.spec.block).map((c) => getBlock(ctx, c, signal)));
  for (const b of blocks) {
    if (!b) continue;
    const ips = ordinalsOfHandle(b.spec, handle).map((o) => nthAddress(b.spec.cidr, o));
    (b.spec.cidr.includes(':') ? out.ipv6 : out.ipv4).push(...ips);
  }
  return out;
}

/** One family's part of a request, before the handle state is known. */
export type FamilyPlan = Omit<FamilyRequest, 'handleState' | 'n'> & { n: number };

/** How the caller serves one family (the coalescer, or `allocateFamily` directly). */
export type ServeFamily = (fr: FamilyRequest, undo: (ips: string[]) => Promise<void>) => Promise<string[]>;

/**
 * Serves both families of one request, idempotently by handle (see the module header).
 * `serve.single` serves a request of one family only (it may coalesce); `serve.locked` runs a
 * dual-stack request under the node's lock, inside which `serve.family` serves each family;
 * `release` frees addresses of the handle (the undo).
 */
export async function assignByHandle(
  ctx: Ctx,
  plans: { v4: FamilyPlan; v6: FamilyPlan },
  serve: {
    single: ServeFamily;
    family: ServeFamily;
    locked: (run: () => Promise<AutoAssignResult>) => Promise<AutoAssignResult>;
  },
  release: (ips: string[]) => Promise<void>,
): Promise<AutoAssignResult> {
  const { handle, signal } = plans.v4;
  const num4 = plans.v4.n;
  const num6 = plans.v6.n;
  /** Addresses this request allocated (across re-plans): what an undo may release. */
  const mine = new Set<string>();
  const undo = async (ips: string[]): Promise<void> => {
    if (ips.length === 0) return;
    try {
      await release(ips);
      for (const ip of ips) mine.delete(ip);
    } catch (e: unknown) {
      ctx.log.warn({ handle, ips, err: e }, 'could not release the addresses of a failed request; they stay allocated under its handle (release the handle, or gc collects them)');
    }
  };
  let have: Held = { handle: undefined, ipv4: [], ipv6: [] };
  let handleState: FamilyRequest['handleState'] = { exists: false };
  for (let attempt = 0; ; attempt++) {
    const need4 = Math.max(0, num4 - have.ipv4.length);
    const need6 = Math.max(0, num6 - have.ipv6.length);
    const result = (got: AutoAssignResult): AutoAssignResult => ({
      ipv4: [...have.ipv4.slice(0, num4), ...got.ipv4],
      ipv6: [...have.ipv6.slice(0, num6), ...got.ipv6],
    });
    if (need4 + need6 === 0) return result({ ipv4: [], ipv6: [] });
    const fr4: FamilyRequest = { ...plans.v4, n: need4, handleState };
    const fr6: FamilyRequest = { ...plans.v6, n: need6, handleState };
    try {
      if (need4 === 0 || need6 === 0) {
        const fr = need4 > 0 ? fr4 : fr6;
        const ips = await serve.single(fr, undo);
        ips.forEach((ip) => mine.add(ip));
        return result(fr.family === 4 ? { ipv4: ips, ipv6: [] } : { ipv4: [], ipv6: ips });
      }
      return result(await serve.locked(async () => {
        const ipv4 = await serve.family(fr4, undo);
        ipv4.forEach((ip) => mine.add(ip));
        const ipv6 = await serve.family(fr6, undo);
        ipv6.forEach((ip) => mine.add(ip));
        return { ipv4, ipv6 };
      }));
    } catch (e: unknown) {
      if (!(e instanceof HandleMoved)) {
        await undo([...mine]);
        throw e;
      }
      ctx.stats.conflicts++;
      ctx.metrics?.conflict('handle');
      if (attempt >= ctx.opts.maxRetries) {
        await undo([...mine]);
        throw ipamError('TooManyConflicts', `handle "${handle}" kept changing while allocating for it (another process allocating or releasing it); retry the request`, { handle });
      }
      // The handle is not as this request last saw it: re-read what it holds and plan again.
      ctx.stats.retries++;
      have = await heldByHandle(ctx, handle, signal);
      for (const ip of mine) if (![...have.ipv4, ...have.ipv6].includes(ip)) mine.delete(ip);
      handleState = { exists: have.handle !== undefined, current: have.handle };
    }
  }
}
