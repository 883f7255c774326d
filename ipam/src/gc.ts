/**
 * `gc`: repairs what `check` reports, conservatively (Calico's kube-controllers IPAM GC).
 *
 * Invariants: an allocation is released only when no live workload holds its handle, its
 * address or its namespace/pod, this Ipam has seen it leaked for `leakGraceMs` (by its own
 * clock, from its first sighting: never from the allocating node's timestamp, whose clock may
 * be far off), and — checked inside the block's compare-and-swap —
 * the ordinal still carries the same handle and sequence number as when it was judged leaked,
 * so an address reused in between is never freed. Blocks of deleted nodes are released (empty
 * ones deleted, others made unaffine and kept); empty blocks of live nodes are released after
 * `emptyBlockGraceMs`; stale affinities and empty handles only after `pendingTimeoutMs`, so a
 * claim or an allocation in flight is never undone — each measured the same way, from when this
 * Ipam first saw the object unchanged (context.ts `observedAgeMs`).
 */
import { releaseBlock, dropAffinity } from './affinity.js';
import { isEmpty, releaseOrdinals } from './block.js';
import { buildReport, snapshot, type AllocationInfo, type CheckReport, type LiveWorkload } from './check.js';
import { unchangedForMs, type Ctx } from './context.js';
import { deleteHandle } from './handles.js';
import { affinityNode } from './names.js';
import { releaseInBlock } from './release.js';

/** Options of one gc run. */
export interface GcOptions {
  /** Workloads that are running: their addresses are never released. */
  live: LiveWorkload[];
  /** Overrides the Ipam's `leakGraceMs`. */
  leakGraceMs?: number;
  signal?: AbortSignal;
}

/** What one gc run did. */
export interface GcResult {
  releasedIps: string[];
  /** Blocks deleted (their affinity released). */
  releasedBlocks: string[];
  /** Non-empty blocks of deleted nodes made unaffine. */
  clearedBlocks: string[];
  deletedAffinities: { node: string; cidr: string }[];
  deletedHandles: string[];
  /** The report the run acted on. */
  report: CheckReport;
}

function key(a: AllocationInfo): string {
  return `${a.block}#${a.ordinal}#${a.handle ?? ''}#${a.sequence ?? ''}`;
}

async function releaseLeaks(ctx: Ctx, leaks: AllocationInfo[], grace: number, firstSeen: Map<string, number>, signal?: AbortSignal): Promise<string[]> {
  const now = ctx.clock.now();
  const current = new Set(leaks.map(key));
  for (const k of firstSeen.keys()) if (!current.has(k)) firstSeen.delete(k); // live again, or gone
  // Measured on this host from when this gc first saw the allocation leaked, never from the
  // allocating node's timestamp (its clock may be far behind: calico#5044).
  const due = leaks.filter((a) => {
    const seen = firstSeen.get(key(a)) ?? now;
    firstSeen.set(key(a), seen);
    return now - seen >= grace;
  });
  const byBlock = new Map<string, AllocationInfo[]>();
  for (const a of due) byBlock.set(a.block, [...(byBlock.get(a.block) ?? []), a]);
  const out: string[] = [];
  for (const [cidr, list] of byBlock) {
    const r = await releaseInBlock(ctx, cidr, (b) => {
      const same = list.filter((a) => {
        const idx = b.spec.allocations[a.ordinal];
        const cur = idx === null || idx === undefined ? undefined : b.spec.attributes[idx];
        return cur !== undefined && cur.handle_id === a.handle && b.spec.sequenceNumberForAllocation?.[String(a.ordinal)] === a.sequence;
      });
      return releaseOrdinals(b.spec, same.map((a) => a.ordinal));
    }, signal);
    for (const x of r) {
      out.push(x.ip);
      ctx.log.info({ prefix: x.ip, handle: x.handle }, 'gc released a leaked address');
    }
    for (const a of list) firstSeen.delete(key(a));
  }
  return out;
}

/** Runs gc once. `firstSeen` persists between runs (owned by the Ipam). */
export async function runGc(ctx: Ctx, opts: GcOptions, firstSeen: Map<string, number>): Promise<GcResult> {
  const { signal } = opts;
  const s = await snapshot(ctx, signal);
  const report = buildReport(s, opts.live);
  const res: GcResult = { releasedIps: [], releasedBlocks: [], clearedBlocks: [], deletedAffinities: [], deletedHandles: [], report };
  res.releasedIps = await releaseLeaks(ctx, report.leaked, opts.leakGraceMs ?? ctx.opts.leakGraceMs, firstSeen, signal);

  for (const b of report.blocksOfGoneNodes) {
    const r = await releaseBlock(ctx, b.node, b.cidr, false, signal);
    if (r === 'released') res.releasedBlocks.push(b.cidr);
    if (r === 'cleared') res.clearedBlocks.push(b.cidr);
  }
  for (const a of report.staleAffinities) {
    const aff = s.affinities.find((x) => x.spec.node === a.node && x.spec.cidr === a.cidr);
    if (a.reason !== 'node-gone' && (!aff || unchangedForMs(ctx, aff) < ctx.opts.pendingTimeoutMs)) continue;
    await dropAffinity(ctx, a.node, a.cidr, (st) => st === a.state, signal);
    res.deletedAffinities.push({ node: a.node, cidr: a.cidr });
  }
  for (const b of s.blocks) {
    const node = affinityNode(b.spec.affinity);
    if (node === undefined || !s.nodes.has(node) || !isEmpty(b.spec)) continue;
    if (unchangedForMs(ctx, b) < ctx.opts.emptyBlockGraceMs) continue;
    if ((await releaseBlock(ctx, node, b.spec.cidr, true, signal)) === 'released') res.releasedBlocks.push(b.spec.cidr);
  }
  for (const h of s.handles) {
    const o = report.orphanHandles.find((x) => x.handle === h.spec.handleID);
    if (!o || o.found > 0 || unchangedForMs(ctx, h) < ctx.opts.pendingTimeoutMs) continue;
    if (await deleteHandle(ctx, h, signal)) res.deletedHandles.push(h.spec.handleID);
  }
  return res;
}

/** Re-exported for the report type users. */
export type { LiveWorkload };
