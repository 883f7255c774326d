/**
 * @module rib — the pure BGP RIB: Adj-RIBs-In, Loc-RIB and decision process (RFC 4271 §9.1,
 * RFC 4456 §9), Adj-RIBs-Out with iBGP/eBGP/route-reflection export rules, origination,
 * import/export filters, max-prefix, graceful restart (RFC 4724). No I/O; time is an argument.
 */
export { Rib, type RibConfig, type RibInit, type BestPath, type PeerCounts, type RibErrorCode } from './rib.js';
export type { RibFlush, BestChange } from './flush.js';
export type { PeerUpdate } from './adj-rib-out.js';
export { AttrSet, AttrStore, asPathLength, neighborAs } from './attr-set.js';
export { selectBest, comparePreMed, addressSortKey, DEFAULT_DECISION, type Candidate, type DecisionOptions, type PathSource, type SourceKind } from './decision.js';
export type { IngestResult, UpdateSink } from './ingest.js';
export type { RawAttrs, RawDecodeContext } from './raw-attrs.js';
export { endOfRibFamily } from './ingest.js';
export {
  LOCAL_PEER,
  type FilterResult,
  type FilterRoute,
  type NextHopMode,
  type PeerSession,
  type RibPeerConfig,
  type RouteFilter,
} from './peer.js';
export { compileFilters, importRulesKey, ruleMatches, type BgpFilterRule, type BgpFilterSpec } from './bgp-filter.js';
export { importCheck, mayExport, exportAttrs, WellKnownCommunity, type ImportRejection, type LocalIdentity } from './policy.js';
export {
  onSessionDown,
  onSessionUp,
  onEndOfRib,
  onTimer,
  localGrCapability,
  DEFAULT_LOCAL_GR,
  type GrHelperState,
  type LocalGrConfig,
  type SessionEnd,
} from './graceful-restart.js';
export { prefixKey, userPrefixKey, canonicalIpv6, keyToPrefix, keyToString, v6Key, familyOf, FAMILIES, type PrefixKey } from './prefix-key.js';
export { NumTable, Ipv6Table, type PrefixTable } from './prefix-table.js';
