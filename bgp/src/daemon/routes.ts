/**
 * Rendering a Loc-RIB best path as the status socket's `RouteReport` (pure).
 */
import type { AsPathSegment } from '../codec/types.js';
import type { BestPath } from '../rib/index.js';
import type { RouteReport } from './status.js';

const ORIGIN = ['IGP', 'EGP', 'incomplete'];

/** AS_PATH as text: sequences space-separated, sets in braces. */
export function asPathText(p: readonly AsPathSegment[] | undefined): string {
  return (p ?? []).map((s) => (s.type === 1 || s.type === 4 ? `{${s.asns.join(',')}}` : s.asns.join(' '))).join(' ');
}

/** A community value as "AS:value". */
export function communityText(c: number): string {
  return `${c >>> 16}:${c & 0xffff}`;
}

/** The report of one best path. */
export function routeReport(b: BestPath): RouteReport {
  const a = b.attrs.attrs;
  const r: RouteReport = {
    prefix: `${b.prefix.addr}/${b.prefix.len}`,
    nextHop: b.attrs.nextHop,
    from: b.peer,
    asPath: asPathText(a.asPath),
    origin: ORIGIN[a.origin ?? 2] ?? 'incomplete',
  };
  if (a.med !== undefined) r.med = a.med;
  if (a.localPref !== undefined) r.localPref = a.localPref;
  if (a.communities?.length) r.communities = a.communities.map(communityText);
  if (a.originatorId) r.originatorId = a.originatorId;
  if (a.clusterList?.length) r.clusterList = [...a.clusterList];
  return r;
}
