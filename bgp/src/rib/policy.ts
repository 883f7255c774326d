/**
 * Built-in import checks and export rules (RFC 4271 §5, §9; RFC 4456; RFC 1997), pure.
 *
 * Invariants:
 * - Import: loop checks run on the received attributes before the user's import filter; a
 *   route failing one is treated as not received (and withdraws an earlier path).
 * - Export: `mayExport` decides whether a route may go to a peer at all (split horizon, route
 *   reflection, well-known communities); `exportAttrs` rewrites the attributes for the peer
 *   (AS_PATH prepend, NEXT_HOP, LOCAL_PREF, MED, ORIGINATOR_ID, CLUSTER_LIST). Both depend only
 *   on (attribute set, source peer, destination peer), so the RIB caches them per attribute set.
 */
import type { AsPathSegment, Family, PathAttributes } from '../codec/types.js';
import type { AttrSet } from './attr-set.js';
import type { SourceKind } from './decision.js';

/** The local speaker's identity as the policy needs it. */
export interface LocalIdentity {
  asn: number;
  routerId: string;
  /** Set when we are a route reflector (RFC 4456 §7); defaults to the router id there. */
  clusterId?: string;
  defaultLocalPref: number;
}

/** Why a received route was refused by the built-in checks. */
export type ImportRejection = 'as-loop' | 'originator-loop' | 'cluster-loop';

/** RFC 1997 well-known communities. */
export const WellKnownCommunity = { NoExport: 0xffffff01, NoAdvertise: 0xffffff02, NoExportSubconfed: 0xffffff03 } as const;

/** Loop checks on a received attribute set; undefined when the route is acceptable. */
export function importCheck(a: Readonly<PathAttributes>, me: LocalIdentity, allowAsIn: number): ImportRejection | undefined {
  // RFC 4271 §9.1.2: a route whose AS_PATH contains our AS is a loop (allowas-in relaxes it).
  if (a.asPath) {
    let seen = 0;
    for (const s of a.asPath) for (const asn of s.asns) if (asn === me.asn) seen++;
    if (seen > allowAsIn) return 'as-loop';
  }
  // RFC 4456 §8: our own router id as ORIGINATOR_ID means the route came back to us.
  if (a.originatorId !== undefined && a.originatorId === me.routerId) return 'originator-loop';
  // RFC 4456 §8: our CLUSTER_ID in CLUSTER_LIST means the route looped through our cluster.
  if (me.clusterId !== undefined && a.clusterList?.includes(me.clusterId)) return 'cluster-loop';
  return undefined;
}

/**
 * Attributes an external peer cannot give us, removed before the loop checks: LOCAL_PREF
 * (RFC 4271 §5.1.5, RFC 7606 §7.5: policy sets the preference), ORIGINATOR_ID and CLUSTER_LIST
 * (RFC 4456 §8 keeps them inside the AS; RFC 7606 §7.9/§7.10 discard them from eBGP). The codec
 * already discards them when the session tells it the peer is external; this is the RIB's own
 * guarantee for every other way an UPDATE may arrive.
 */
export function normaliseImport(a: Readonly<PathAttributes>, from: SourceKind): Readonly<PathAttributes> {
  if (from !== 'ebgp' || (a.localPref === undefined && a.originatorId === undefined && a.clusterList === undefined)) return a;
  const copy = { ...a };
  delete copy.localPref;
  delete copy.originatorId;
  delete copy.clusterList;
  return copy;
}

/** The facts about a destination peer the export rules need. */
export interface ExportTarget {
  kind: 'ibgp' | 'ebgp';
  routeReflectorClient: boolean;
  nextHop: 'auto' | 'self' | 'keep';
  /** Our IPv4 transport address toward the peer. */
  localAddress?: string;
  /** Our IPv6 next hop(s) toward the peer. */
  localAddress6?: string[];
  /** The peer's BGP identifier. */
  routerId?: string;
}

/** The facts about a route's source the export rules need. */
export interface ExportSource {
  kind: SourceKind;
  routeReflectorClient: boolean;
  /** The source peer's BGP identifier (dotted quad); "" for local routes. */
  routerId: string;
}

/**
 * Whether a route from `src` may be sent to `dst` at all (the same-peer check is the caller's).
 * RFC 4271 §9.2 / RFC 4456 §6: iBGP-learned routes go to eBGP peers; to iBGP peers only when we
 * reflect (client → clients and non-clients; non-client → clients).
 */
export function mayExport(a: AttrSet, src: ExportSource, dst: ExportTarget, me: LocalIdentity): boolean {
  const comms = a.attrs.communities;
  if (comms) {
    // RFC 1997: NO_ADVERTISE to nobody; NO_EXPORT (and NO_EXPORT_SUBCONFED, no confederations
    // here) not outside the AS.
    if (comms.includes(WellKnownCommunity.NoAdvertise)) return false;
    if (dst.kind === 'ebgp' && (comms.includes(WellKnownCommunity.NoExport) || comms.includes(WellKnownCommunity.NoExportSubconfed)))
      return false;
  }
  // RFC 4456 §8: the peer would discard a route carrying its own ORIGINATOR_ID; do not send it.
  if (dst.kind === 'ibgp' && a.attrs.originatorId !== undefined && a.attrs.originatorId === dst.routerId) return false;
  if (src.kind !== 'ibgp' || dst.kind === 'ebgp') return true;
  if (me.clusterId === undefined) return false; // RFC 4271 §9.2: iBGP split horizon.
  return src.routeReflectorClient || dst.routeReflectorClient; // RFC 4456 §6
}

function prepend(path: readonly AsPathSegment[] | undefined, asn: number): AsPathSegment[] {
  const p = path ?? [];
  const first = p[0];
  // RFC 4271 §5.1.2: prepend to a leading AS_SEQUENCE (max 255 per segment), else a new one.
  if (first && first.type === 2 && first.asns.length < 255) return [{ type: 2, asns: [asn, ...first.asns] }, ...p.slice(1)];
  return [{ type: 2, asns: [asn] }, ...p];
}

function selfNextHops(family: Family, dst: ExportTarget): string[] {
  if (family === 'ipv4-unicast') return dst.localAddress !== undefined ? [dst.localAddress] : [];
  return dst.localAddress6 ?? [];
}

/**
 * The attributes (and next hops) to send to `dst` for a route with attributes `a` from `src`.
 * Non-transitive bookkeeping (ORIGINATOR_ID, CLUSTER_LIST, LOCAL_PREF) never leaves the AS.
 */
export function exportAttrs(
  a: AttrSet,
  family: Family,
  src: ExportSource,
  dst: ExportTarget,
  me: LocalIdentity,
): { attrs: PathAttributes; nextHops: string[] } {
  const out: PathAttributes = { ...a.attrs };
  let nextHops = [...a.nextHops];
  if (out.origin === undefined) out.origin = 0;
  const self = dst.nextHop === 'self' || (dst.nextHop === 'auto' && (dst.kind === 'ebgp' || src.kind === 'local'));
  if (self || nextHops.length === 0) nextHops = selfNextHops(family, dst);
  if (dst.kind === 'ebgp') {
    out.asPath = prepend(out.asPath, me.asn); // RFC 4271 §5.1.2
    delete out.localPref; // RFC 4271 §5.1.5
    if (src.kind !== 'local') delete out.med; // RFC 4271 §5.1.4: not to other neighbouring ASes
    delete out.originatorId; // RFC 4456 §8: optional non-transitive, kept inside the AS
    delete out.clusterList;
  } else {
    if (out.asPath === undefined) out.asPath = [];
    if (out.localPref === undefined) out.localPref = me.defaultLocalPref; // RFC 4271 §5.1.5
    if (src.kind === 'ibgp') {
      // Only reflected routes reach here from an iBGP source (mayExport). RFC 4456 §8: set
      // ORIGINATOR_ID if absent, prepend our CLUSTER_ID; the next hop is kept (auto).
      if (out.originatorId === undefined) out.originatorId = src.routerId;
      out.clusterList = [me.clusterId ?? me.routerId, ...(out.clusterList ?? [])];
    }
  }
  if (family === 'ipv4-unicast') {
    if (nextHops[0] !== undefined) out.nextHop = nextHops[0];
    else delete out.nextHop;
  } else delete out.nextHop;
  return { attrs: out, nextHops };
}
