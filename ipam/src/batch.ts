/**
 * Coalescing: requests of one family for the same node that queue up behind each other in one
 * Ipam (see mutex.ts) are served together — one read-modify-write of the node's current block
 * taking every request's addresses, and one transaction writing that block and every request's
 * handle count. k concurrent pod starts then cost one round trip instead of k.
 *
 * Invariants: only with a datastore `txn` (the block and all handles land atomically, or
 * nothing does); only when the block has room for the whole batch and lies in every request's
 * pools, and the handles are distinct — otherwise nothing is written and each request takes
 * the ordinary path alone. The block write is a compare-and-swap like any other, recomputed
 * from a fresh read on Conflict; each request gets its own allocation attribute. The batch's
 * write ignores the requests' AbortSignals (one short write serves them all; a request aborted
 * before its turn is not batched).
 */
import { nthAddress, TabbyError, isTabbyError, type IPAMBlock, type IPAMHandle } from '@tabby/api';
import type { TxnOp } from '@tabby/datastore';
import { allocateFamily, inPools, LOW_BLOCK, markUsed, type FamilyRequest } from './allocate.js';
import { allocateInBlock, freeCount } from './block.js';
import { addHint, dropHint, getBlock, hintsFor, rememberBlock, withCas, type Ctx } from './context.js';
import { getHandle, handleOp } from './handles.js';
import type { KeyedMutex } from './mutex.js';
import { affinityNode } from './names.js';

/** Most requests one coalesced write serves. */
const MAX_BATCH = 32;

/** A single-family request waiting for its node's turn; `done` once served (alone or in a batch). */
export interface Queued {
  fr: FamilyRequest;
  undo: (ips: string[]) => Promise<void>;
  done?: { ips: string[] } | { err: unknown };
}

/**
 * Queues single-family requests behind their node's mutex; whichever runs first serves every
 * request queued for the node and family with one batch (or, when the batch does not apply,
 * itself alone: the others then take their own turns).
 */
export class Coalescer {
  /** Requests waiting for their node's turn, per `<node>/<family>`. */
  private readonly queued = new Map<string, Queued[]>();

  constructor(private readonly ctx: Ctx, private readonly perNode: KeyedMutex) {}

  /** Serves `entry` (alone or in a batch); resolves to its addresses. */
  async run(entry: Queued): Promise<string[]> {
    const key = `${entry.fr.node}/${entry.fr.family}`;
    this.queued.set(key, [...(this.queued.get(key) ?? []), entry]);
    return this.perNode.run(entry.fr.node, async () => {
      if (!entry.done) await this.serve(key, entry);
      const d = entry.done!;
      if ('err' in d) throw d.err;
      return d.ips;
    });
  }

  private take(key: string, lead: Queued): Queued[] {
    const handles = new Set([lead.fr.handle]);
    const others = (this.queued.get(key) ?? []).filter((e) => e !== lead && !e.done && !e.fr.signal?.aborted && !handles.has(e.fr.handle) && !!handles.add(e.fr.handle));
    const group = [lead, ...others.slice(0, MAX_BATCH - 1)];
    const rest = (this.queued.get(key) ?? []).filter((e) => !group.includes(e));
    if (rest.length > 0) this.queued.set(key, rest);
    else this.queued.delete(key);
    return group;
  }

  private async serve(key: string, lead: Queued): Promise<void> {
    const group = this.take(key, lead);
    if (group.length > 1) {
      try {
        const r = await allocateBatch(this.ctx, lead.fr.node, group.map((e) => e.fr));
        if (r) {
          group.forEach((e, i) => (e.done = { ips: r[i]! }));
          this.ctx.log.debug({ node: lead.fr.node, n: group.length }, 'assigned addresses to a batch of requests');
          return;
        }
      } catch (e: unknown) {
        for (const g of group) g.done = { err: e };
        return;
      }
    }
    try {
      lead.done = { ips: await allocateFamily(this.ctx, lead.fr, lead.undo) };
    } catch (e: unknown) {
      lead.done = { err: e };
    }
  }
}

/** What a batch wrote: per request, its ordinals; and the block's free count after. */
interface BatchWrite {
  ordinals: number[][];
  freeAfter: number;
}

/**
 * Serves `reqs` (one node, one family, distinct handles) from the node's current block in one
 * transaction; per request its addresses, or undefined when the batch does not apply (nothing
 * written: the caller serves each request alone).
 */
export async function allocateBatch(ctx: Ctx, node: string, reqs: FamilyRequest[]): Promise<string[][] | undefined> {
  const family = reqs[0]!.family;
  const cidr = hintsFor(ctx, node, family)[0];
  if (!ctx.ds.txn || cidr === undefined || !reqs.every((r) => inPools(r.pools, cidr))) return undefined;
  const total = reqs.reduce((n, r) => n + r.n, 0);
  let block: IPAMBlock | undefined = ctx.blockCache.get(cidr);
  const w = await withCas<BatchWrite | undefined>(ctx, 'block', async () => {
    const b = block ?? (await getBlock(ctx, cidr));
    block = undefined;
    if (!b || b.spec.deleted || affinityNode(b.spec.affinity) !== node || freeCount(b.spec) < total) return undefined;
    let spec = b.spec;
    const ordinals: number[][] = [];
    for (const r of reqs) {
      const a = allocateInBlock(spec, r.n, r.attr);
      spec = a.spec;
      ordinals.push(a.ordinals);
    }
    const cur = await Promise.all(reqs.map((r) => (r.handleState.exists ? (r.handleState.current ?? getHandle(ctx, r.handle)) : undefined)));
    // A handle known to exist is gone (released concurrently): serve each request alone.
    if (reqs.some((r, i) => r.handleState.exists && !cur[i])) return undefined;
    const ops: TxnOp[] = [{ op: 'update', obj: { ...b, metadata: markUsed(b), spec } }];
    reqs.forEach((r, i) => ops.push(handleOp(ctx, r.handle, cur[i], cidr, r.n)!));
    try {
      const out = await ctx.ds.txn!(ops);
      rememberBlock(ctx, out[0] as IPAMBlock);
      reqs.forEach((r, i) => Object.assign(r.handleState, { exists: true, current: out[i + 1] as IPAMHandle }));
    } catch (e: unknown) {
      // A handle exists already or changed (a retried or concurrent request for it): nothing was
      // written; each request is served alone and re-plans from what its handle holds.
      if (isTabbyError(e) && e.details['kind'] === 'IPAMHandle') return undefined;
      if (isTabbyError(e, 'NotFound')) throw new TabbyError('Conflict', `${String(e.details['kind'])} ${String(e.details['name'])} was deleted concurrently`, {}, { cause: e });
      throw e;
    }
    return { ordinals, freeAfter: freeCount(spec) };
  });
  if (!w) return undefined;
  addHint(ctx, node, family, cidr, true);
  const size = ctx.blockCache.get(cidr)?.spec.allocations.length ?? 0;
  if (w.freeAfter <= size * LOW_BLOCK && hintsFor(ctx, node, family).length < 2) ctx.onLowBlock?.(node, family, reqs[0]!.pools, reqs[0]!.config);
  if (w.freeAfter === 0) dropHint(ctx, node, family, cidr);
  ctx.stats.allocated += total;
  ctx.metrics?.allocated(total);
  return w.ordinals.map((os) => os.map((o) => nthAddress(cidr, o)));
}
