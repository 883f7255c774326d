/**
 * The BGP decision process (RFC 4271 §9.1) with RFC 4456 §9's route-reflection tie-breaks.
 *
 * Invariants:
 * - `selectBest` is the RFC's elimination procedure over the whole candidate set, step by step,
 *   so its result depends only on the set, never on arrival order (MED comparison between
 *   different neighbour ASes is not transitive, so pairwise "compare with current best" is not
 *   order-independent in general).
 * - `comparePreMed` is the total preorder of the steps before MED (reachability, degree of
 *   preference, AS_PATH length, ORIGIN); the RIB uses it for an O(1) fast path: a path strictly
 *   worse than the current best there can never change the outcome.
 * - Pure: next-hop reachability and IGP cost come from injected functions.
 */
import type { AttrSet } from './attr-set.js';

/** Where a candidate path came from. */
export type SourceKind = 'local' | 'ibgp' | 'ebgp';

/** The facts about a path's source the decision needs. */
export interface PathSource {
  kind: SourceKind;
  /** The peer's BGP identifier as an unsigned 32-bit number (0 for local). */
  routerId: number;
  /** Sort key of the peer's address (`addressSortKey`), "" for local. */
  addressKey: string;
}

/** One candidate path for a prefix. */
export interface Candidate {
  attrs: AttrSet;
  source: PathSource;
  pathId: number;
  /** Opaque to the decision (the RIB's path reference). */
  ref: number;
}

/** Injected knowledge and knobs. */
export interface DecisionOptions {
  /** LOCAL_PREF assumed when a path has none (RFC 4271 §9.1.1 leaves it to policy). */
  defaultLocalPref: number;
  /** Compare MED between paths from different neighbour ASes too (not RFC default). */
  alwaysCompareMed: boolean;
  /** RFC 4271 §9.1.2: a path whose NEXT_HOP is unresolvable is excluded. */
  nextHopReachable(nextHop: string): boolean;
  /** RFC 4271 §9.1.2.2 (e): interior cost to the next hop (lower is better). */
  igpCost(nextHop: string): number;
}

/** Defaults: LOCAL_PREF 100, per-neighbour-AS MED, every next hop reachable at equal cost. */
export const DEFAULT_DECISION: DecisionOptions = {
  defaultLocalPref: 100,
  alwaysCompareMed: false,
  nextHopReachable: () => true,
  igpCost: () => 0,
};

/** A sortable key for "lowest peer address" (RFC 4271 §9.1.2.2 (g)): IPv4 before IPv6. */
export function addressSortKey(addr: string): string {
  if (!addr.includes(':')) {
    const parts = addr.split('.').map((x) => Number(x).toString(16).padStart(2, '0'));
    return '4' + parts.join('');
  }
  const [head = '', tail = ''] = addr.split('::', 2) as [string, string?];
  const h = head ? head.split(':') : [];
  const t = addr.includes('::') && tail ? tail.split(':') : [];
  const fill = addr.includes('::') ? 8 - h.length - t.length : 0;
  const groups = [...h, ...Array<string>(Math.max(0, fill)).fill('0'), ...t];
  return '6' + groups.map((g) => g.padStart(4, '0')).join('');
}

function reachable(c: Candidate, o: DecisionOptions): boolean {
  return c.source.kind === 'local' || o.nextHopReachable(c.attrs.nextHop);
}

/**
 * Compares the steps before MED; > 0 when `a` is preferred, < 0 when `b` is, 0 on a tie.
 * Unreachable paths (RFC 4271 §9.1.2) rank below every reachable one.
 */
export function comparePreMed(a: Candidate, b: Candidate, o: DecisionOptions): number {
  const ra = reachable(a, o);
  if (ra !== reachable(b, o)) return ra ? 1 : -1;
  // Locally originated routes win over learned ones, as a static route's preference (200)
  // beats BGP's (100) in BIRD, which Calico uses.
  const la = a.source.kind === 'local';
  if (la !== (b.source.kind === 'local')) return la ? 1 : -1;
  // RFC 4271 §9.1.1: degree of preference is LOCAL_PREF (iBGP) or the import policy's value
  // (eBGP: the RIB strips a received LOCAL_PREF and the import filter may set one).
  const pa = a.attrs.localPref >= 0 ? a.attrs.localPref : o.defaultLocalPref;
  const pb = b.attrs.localPref >= 0 ? b.attrs.localPref : o.defaultLocalPref;
  if (pa !== pb) return pa > pb ? 1 : -1;
  // RFC 4271 §9.1.2.2 (a): shortest AS_PATH.
  if (a.attrs.asPathLen !== b.attrs.asPathLen) return a.attrs.asPathLen < b.attrs.asPathLen ? 1 : -1;
  // RFC 4271 §9.1.2.2 (b): lowest ORIGIN.
  if (a.attrs.origin !== b.attrs.origin) return a.attrs.origin < b.attrs.origin ? 1 : -1;
  return 0;
}

/** The tie-break steps after MED, in order (RFC 4271 §9.1.2.2 (d)-(g), RFC 4456 §9). */
const enum Step {
  PreMed,
  Med,
  Ebgp,
  IgpCost,
  RouterId,
  ClusterList,
  PeerAddress,
  PathId,
}

/** > 0 when `a` is preferred over `b` at `step`, < 0 when `b` is, 0 on a tie. */
function compareAt(step: Step, a: Candidate, b: Candidate, o: DecisionOptions): number {
  switch (step) {
    case Step.PreMed:
      return comparePreMed(a, b, o);
    case Step.Med:
      return b.attrs.med - a.attrs.med;
    case Step.Ebgp:
      return Number(a.source.kind === 'ebgp') - Number(b.source.kind === 'ebgp');
    case Step.IgpCost:
      return o.igpCost(b.attrs.nextHop) - o.igpCost(a.attrs.nextHop);
    case Step.RouterId:
      return effectiveRouterId(b) - effectiveRouterId(a);
    case Step.ClusterList:
      return b.attrs.clusterListLen - a.attrs.clusterListLen;
    case Step.PeerAddress:
      return a.source.addressKey < b.source.addressKey ? 1 : a.source.addressKey > b.source.addressKey ? -1 : 0;
    case Step.PathId:
      return b.pathId - a.pathId;
  }
}

/**
 * Compares the steps after MED ((d) to (g), RFC 4456 §9, path id): a total order, so the better
 * of two candidates that both survive the MED step is decided pairwise.
 */
export function comparePostMed(a: Candidate, b: Candidate, o: DecisionOptions): number {
  for (let step = Step.Ebgp; step <= Step.PathId; step++) {
    const r = compareAt(step, a, b, o);
    if (r !== 0) return r;
  }
  return 0;
}

/** Keeps the candidates that tie with the best at `step`; returns the new count. */
function keepBest(c: Candidate[], n: number, step: Step, o: DecisionOptions): number {
  let best = c[0]!;
  for (let i = 1; i < n; i++) if (compareAt(step, c[i]!, best, o) > 0) best = c[i]!;
  let m = 0;
  for (let i = 0; i < n; i++) {
    const x = c[i]!;
    if (compareAt(step, x, best, o) === 0) c[m++] = x;
  }
  return m;
}

/** RFC 4271 §9.1.2.2 (c): drop a path when one from the same neighbour AS has a lower MED. */
function eliminateMed(c: Candidate[], n: number, o: DecisionOptions): number {
  if (o.alwaysCompareMed) return keepBest(c, n, Step.Med, o);
  let m = 0;
  for (let i = 0; i < n; i++) {
    const x = c[i]!;
    let beaten = false;
    for (let j = 0; j < n && !beaten; j++) {
      const y = c[j]!;
      beaten = y.attrs.neighborAs === x.attrs.neighborAs && y.attrs.med < x.attrs.med;
    }
    if (!beaten) c[m++] = x;
  }
  return m;
}

/** RFC 4456 §9: the ORIGINATOR_ID stands in for the BGP identifier when present. */
function effectiveRouterId(c: Candidate): number {
  return c.attrs.originatorId >= 0 ? c.attrs.originatorId : c.source.routerId;
}

/**
 * Runs the decision process over `c[0..n)` (overwriting its slots: pass a scratch copy) and returns the winner, or undefined
 * when every candidate is excluded (unreachable next hop).
 */
export function selectBest(c: Candidate[], n: number, o: DecisionOptions): Candidate | undefined {
  let m = 0;
  for (let i = 0; i < n; i++) if (reachable(c[i]!, o)) c[m++] = c[i]!; // RFC 4271 §9.1.2
  if (m === 0) return undefined;
  m = keepBest(c, m, Step.PreMed, o); // §9.1.1, §9.1.2.2 (a), (b)
  if (m > 1) m = eliminateMed(c, m, o); // §9.1.2.2 (c)
  if (m > 1) m = keepBest(c, m, Step.Ebgp, o); // §9.1.2.2 (d): eBGP-learned over iBGP-learned
  if (m > 1) m = keepBest(c, m, Step.IgpCost, o); // §9.1.2.2 (e): lowest interior cost
  // §9.1.2.2 (f) with RFC 4456 §9: lowest BGP identifier, ORIGINATOR_ID in its place.
  if (m > 1) m = keepBest(c, m, Step.RouterId, o);
  // RFC 4456 §9, inserted between (f) and (g): shorter CLUSTER_LIST.
  if (m > 1) m = keepBest(c, m, Step.ClusterList, o);
  if (m > 1) m = keepBest(c, m, Step.PeerAddress, o); // §9.1.2.2 (g): lowest peer address
  // RFC 7911 paths from one peer: lowest path id, so the result is deterministic.
  if (m > 1) m = keepBest(c, m, Step.PathId, o);
  return c[0];
}
