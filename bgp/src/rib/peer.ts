/**
 * Per-peer configuration, session facts and RIB state (Adj-RIB-In tables; the Adj-RIB-Out is
 * the peer's export group's, export-group.ts).
 *
 * Invariants:
 * - Peer index 0 is the local pseudo-peer (originated routes); BGP peers get 1..65535, reused
 *   after removal. A path reference is `slot * 65536 + peerIndex`, where `slot` is the interned
 *   ADD-PATH path id (0 for path id 0), so a reference is a non-negative int32.
 * - Adj-RIB-In values are `attrSetId * 2 + staleBit` (post-import-policy view, RFC 4724 stale
 *   marking); each entry holds one reference on its attribute set.
 */
import type { Capability, Family, PathAttributes, Prefix } from '../codec/types.js';
import type { ExportGroup } from './export-group.js';
import type { PathSource } from './decision.js';
import { addressSortKey } from './decision.js';
import { makeTable, type PrefixTable } from './prefix-table.js';
import { parseIpv4 } from './prefix-key.js';

/** What a filter sees: one route. */
export interface FilterRoute {
  family: Family;
  prefix: Prefix;
  /** Attributes (without MP_REACH/MP_UNREACH). */
  attrs: Readonly<PathAttributes>;
  nextHops: readonly string[];
  /** The peer the route was learned from (import) or is sent to (export). */
  peer: string;
  /** Export only: the peer the route came from ("local" for originated routes). */
  from?: string;
}

/** A filter's verdict. `modify` replaces the attributes (and optionally the next hops). */
export type FilterResult =
  | { action: 'accept' }
  | { action: 'reject' }
  | { action: 'modify'; attrs: PathAttributes; nextHops?: string[] };

/** An import or export filter supplied by the embedding code. Pure, synchronous. */
export type RouteFilter = (route: FilterRoute) => FilterResult;

/** NEXT_HOP handling on export: `auto` = self toward eBGP and for local routes, keep toward iBGP. */
export type NextHopMode = 'auto' | 'self' | 'keep';

/** Static configuration of one peer. */
export interface RibPeerConfig {
  /** Unique id (the speaker's peer key, e.g. the address). */
  id: string;
  /** Peer address: RFC 4271 §9.1.2.2 (g) tie-break and logs. */
  address: string;
  /** The peer's AS: equal to ours means iBGP. */
  asn: number;
  /** RFC 4456: this iBGP peer is a route-reflector client of ours. */
  routeReflectorClient?: boolean;
  nextHop?: NextHopMode;
  /** Times our AS may appear in a received AS_PATH (allowas-in); default 0. */
  allowAsIn?: number;
  /** Send routes back to the peer they were learned from; default false. */
  advertiseBack?: boolean;
  /** Max accepted paths before the RIB reports `exceeded` (RFC 4486 Cease subcode 1). */
  maxPrefixes?: number;
  importFilter?: RouteFilter;
  exportFilter?: RouteFilter;
  /** Act as RFC 4724 receiving speaker (helper) for this peer; default true. */
  gracefulRestart?: boolean;
}

/** Facts of an Established session that the RIB needs. */
export interface PeerSession {
  /** The peer's BGP identifier from its OPEN. */
  routerId: string;
  /** Our IPv4 transport address toward the peer: NEXT_HOP when we set next hop self. */
  localAddress?: string;
  /** Our IPv6 address toward the peer (global [, link-local]) for IPv6 next hop self. */
  localAddress6?: string[];
  /** Negotiated families (multiprotocol capabilities both sides sent). */
  families: Family[];
  /** The peer's graceful-restart capability, if it sent one. */
  gracefulRestart?: Extract<Capability, { type: 'graceful-restart' }>;
  /** RFC 8538: we also advertised the N bit. */
  weAdvertisedNotificationBit?: boolean;
}

/** Per-family tables of a peer. */
export class PeerFamilyTables {
  /** Adj-RIB-In by path slot (slot 0 = path id 0). */
  readonly adjIn: (PrefixTable | undefined)[] = [];
  /** Prefixes the import policy rejected (for the "received" count); value 1. */
  readonly rejected: PrefixTable;

  constructor(readonly family: Family) {
    this.rejected = makeTable(family);
  }

  /** The Adj-RIB-In table of a path slot, created on demand. */
  inTable(slot: number): PrefixTable {
    let t = this.adjIn[slot];
    if (!t) this.adjIn[slot] = t = makeTable(this.family);
    return t;
  }
}

/** The RIB's state for one peer (or the local pseudo-peer). */
export class PeerState {
  readonly source: PathSource;
  /** Session facts while Established. */
  session: PeerSession | undefined;
  /** Accepted paths in Adj-RIB-In (all families, all path ids). */
  accepted = 0;
  /** The export group (shared Adj-RIB-Out) per family while Established and dumped. */
  readonly outGroups = new Map<Family, ExportGroup>();
  /** Families whose Adj-RIB-Out was dumped (so End-of-RIB was queued). */
  readonly dumped = new Set<Family>();
  private v4: PeerFamilyTables | undefined;
  private v6: PeerFamilyTables | undefined;

  /** The peer's configuration (a private copy; replaced by `Rib.reconfigurePeer`). */
  config: RibPeerConfig;

  constructor(
    readonly index: number,
    config: RibPeerConfig,
    localAsn: number,
  ) {
    this.config = { ...config };
    const kind = index === 0 ? 'local' : config.asn === localAsn ? 'ibgp' : 'ebgp';
    this.source = { kind, routerId: 0, addressKey: index === 0 ? '' : addressSortKey(config.address) };
  }

  /** True when Established. */
  get up(): boolean {
    return this.session !== undefined;
  }

  /** The family tables, created on demand. */
  tables(f: Family): PeerFamilyTables {
    if (f === 'ipv4-unicast') return (this.v4 ??= new PeerFamilyTables(f));
    return (this.v6 ??= new PeerFamilyTables(f));
  }

  /** The family tables if any exist. */
  maybeTables(f: Family): PeerFamilyTables | undefined {
    return f === 'ipv4-unicast' ? this.v4 : this.v6;
  }

  /** Records the session's router id for the decision process. */
  setSession(s: PeerSession | undefined): void {
    this.session = s;
    if (s) {
      const id = parseIpv4(s.routerId);
      this.source.routerId = id < 0 ? 0 : id;
    }
  }
}

/** The id the local pseudo-peer appears under in events. */
export const LOCAL_PEER = 'local';
