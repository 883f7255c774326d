/**
 * `tabbyctl ipam release --ip <ADDR>` and `--from-report <FILE>` (repeatable), as calicoctl:
 * with several reports only what every report marks as leaked is considered — reports taken
 * some time apart give more certainty that an address is truly leaked, not in the middle of an
 * assignment.
 *
 * Invariants (what stands in for calicoctl's datastore lock, which Tabby does not have):
 * - every candidate is checked again against a fresh check before anything is released: the
 *   address must still be leaked, held by the same handle with the same sequence number (a
 *   reused address has a new one), else it is skipped and the reason printed;
 * - an address is released only for the handle that held it (IPAM frees nothing that another
 *   handle has taken since);
 * - an orphan handle (it counts addresses no block holds) is deleted only when it still holds
 *   none and is unchanged since the report (same `updated` stamp), with its resource version as
 *   a precondition, so a concurrent allocation under it wins.
 */
import { readFileSync } from 'node:fs';
import { isIp, isTabbyError, type IPAMHandle } from '@tabby/api';
import type { AllocationInfo, CheckReport } from '@tabby/ipam';
import type { CtlContext } from './context.js';
import { ctlError } from './errors.js';
import { currentReport, withIpam } from './ipam-check.js';

type Leak = Pick<AllocationInfo, 'ip' | 'handle' | 'sequence'>;
type Orphan = CheckReport['orphanHandles'][number];

const leakKey = (a: Leak): string => `${a.ip}|${a.handle ?? ''}|${a.sequence ?? ''}`;
const orphanKey = (h: Orphan): string => `${h.handle}|${h.updated ?? ''}`;

function readReport(file: string): { leaked: Leak[]; orphanHandles: Orphan[] } {
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e: unknown) {
    throw ctlError('invalid-input', `--from-report ${file}: cannot read a JSON report: ${e instanceof Error ? e.message : String(e)}; nothing was released`);
  }
  const r = doc as Partial<CheckReport> | null;
  if (!r || !Array.isArray(r.leaked) || !Array.isArray(r.orphanHandles) || !r.leaked.every((a) => typeof a?.ip === 'string')) {
    throw ctlError('invalid-input', `--from-report ${file}: not a report of 'tabbyctl ipam check -o FILE' (needs "leaked" and "orphanHandles" lists); nothing was released`);
  }
  return { leaked: r.leaked, orphanHandles: r.orphanHandles };
}

/** What every report marks as leaked (addresses) and orphaned (handles that hold nothing). Pure. */
export function intersectReports(reports: { leaked: Leak[]; orphanHandles: Orphan[] }[]): { leaked: Leak[]; orphans: Orphan[] } {
  const [first, ...rest] = reports;
  if (!first) return { leaked: [], orphans: [] };
  const leakSets = rest.map((r) => new Set(r.leaked.map(leakKey)));
  const orphanSets = rest.map((r) => new Set(r.orphanHandles.map(orphanKey)));
  return {
    leaked: first.leaked.filter((a) => leakSets.every((s) => s.has(leakKey(a)))),
    orphans: first.orphanHandles.filter((h) => h.found === 0 && orphanSets.every((s) => s.has(orphanKey(h)))),
  };
}

/** Why a reported leak is not released now, or undefined when it still is one. Pure. */
export function stillLeaked(a: Leak, now: CheckReport): string | undefined {
  const nowLeak = now.leaked.find((x) => x.ip === a.ip);
  if (nowLeak) return leakKey(nowLeak) === leakKey(a) ? undefined : `reallocated (now handle ${nowLeak.handle ?? 'none'})`;
  return 'no longer leaked (a live workload has it, or it is free already)';
}

async function releaseLeaks(ctx: CtlContext, leaks: Leak[], now: CheckReport): Promise<void> {
  if (leaks.length === 0) return ctx.io.out("Report didn't contain any leaked IPs to clean up.\n");
  const byHandle = new Map<string | undefined, string[]>();
  const skipped: string[] = [];
  for (const a of leaks) {
    const why = stillLeaked(a, now);
    if (why) skipped.push(`  ${a.ip}: ${why}`);
    else byHandle.set(a.handle, [...(byHandle.get(a.handle) ?? []), a.ip]);
  }
  const candidates = [...byHandle.values()].reduce((n, l) => n + l.length, 0);
  ctx.io.out(`Releasing ${candidates} old IPs...\n`);
  const released = await withIpam(ctx, async (ipam) => {
    let n = 0;
    for (const [handle, ips] of byHandle) n += (await ipam.releaseIps(ips, handle === undefined ? {} : { handle })).released.length;
    return n;
  });
  ctx.io.out(`Released ${released} IPs successfully\n`);
  if (candidates > released) ctx.io.out(`${candidates - released} addresses marked as leaked in the report had already been cleaned up.\n`);
  if (skipped.length > 0) ctx.io.out(`Skipped ${skipped.length} addresses:\n${skipped.join('\n')}\n`);
}

async function deleteOrphans(ctx: CtlContext, orphans: Orphan[], now: CheckReport): Promise<void> {
  if (orphans.length === 0) return ctx.io.out("Report didn't contain any handles to clean up.\n");
  const ds = await ctx.datastore();
  const current = new Set(now.orphanHandles.filter((h) => h.found === 0).map(orphanKey));
  let deleted = 0;
  let skipped = 0;
  ctx.io.out(`Deleting ${orphans.length} handles...\n`);
  for (const h of orphans) {
    if (!current.has(orphanKey(h))) {
      skipped++;
      continue;
    }
    try {
      const res = await ds.get<IPAMHandle>({ kind: 'IPAMHandle', name: h.handle });
      await ds.delete({ kind: 'IPAMHandle', name: h.handle }, { ...(res.metadata.resourceVersion ? { resourceVersion: res.metadata.resourceVersion } : {}) });
      deleted++;
    } catch (e: unknown) {
      if (!isTabbyError(e, 'NotFound') && !isTabbyError(e, 'Conflict')) throw e;
      skipped++;
    }
  }
  ctx.io.out(`Released ${deleted} handles; ${skipped} skipped (changed or gone since the report).\n`);
}

/** `tabbyctl ipam release`. */
export async function release(ctx: CtlContext): Promise<void> {
  const reports = ctx.args.repeated.get('--from-report') ?? [];
  const ip = ctx.args.flags.get('--ip');
  if (reports.length > 0) {
    const wanted = intersectReports(reports.map(readReport));
    const now = await currentReport(ctx);
    await releaseLeaks(ctx, wanted.leaked, now);
    await deleteOrphans(ctx, wanted.orphans, now);
    return;
  }
  if (typeof ip !== 'string') throw ctlError('usage', 'usage: tabbyctl ipam release --ip <ADDRESS> | --from-report <FILE> [--from-report <FILE>...]');
  if (!isIp(ip)) throw ctlError('usage', `--ip ${ip}: not an IPv4 or IPv6 address`);
  const res = await withIpam(ctx, (ipam) => ipam.releaseIps([ip]));
  if (res.released.length === 0) throw ctlError('failed', `IP address ${ip} is not assigned`);
  ctx.io.out(`Successfully released IP address ${ip}\n`);
}
