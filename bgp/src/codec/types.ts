/**
 * BGP-4 message and attribute types (RFC 4271 §4 and the extensions Tabby speaks). This file is
 * the contract between the codec (pure functions over Uint8Array), the session FSM and the RIBs:
 * all three import these types and nothing else from each other.
 *
 * Addresses are canonical text ("10.0.0.0", "2001:db8::1") so every layer and the kernel drivers
 * agree on keys; the codec may offer faster paths internally but returns these shapes.
 */

/** RFC 4271 §4.1 message types, plus ROUTE-REFRESH (RFC 2918). */
export const MessageType = { Open: 1, Update: 2, Notification: 3, Keepalive: 4, RouteRefresh: 5 } as const;
export type MessageTypeCode = (typeof MessageType)[keyof typeof MessageType];

/** Address family identifiers (IANA). */
export const Afi = { IPv4: 1, IPv6: 2 } as const;
export type AfiCode = number;
/** Subsequent address family identifiers (IANA). */
export const Safi = { Unicast: 1, Multicast: 2 } as const;
export type SafiCode = number;

/** The families Tabby carries routes for. */
export type Family = 'ipv4-unicast' | 'ipv6-unicast';

/** An IP prefix, optionally with an ADD-PATH path identifier (RFC 7911). */
export interface Prefix {
  afi: 1 | 2;
  /** Network address, canonical text; host bits are zero. */
  addr: string;
  len: number;
  pathId?: number;
}

/** RFC 4271 §5.1.1 ORIGIN values. */
export const Origin = { Igp: 0, Egp: 1, Incomplete: 2 } as const;
export type OriginCode = 0 | 1 | 2;

/** AS_PATH segment types: RFC 4271 §4.3 (SET, SEQUENCE), RFC 5065 (confederations). */
export const AsPathSegmentType = { AsSet: 1, AsSequence: 2, ConfedSequence: 3, ConfedSet: 4 } as const;
export interface AsPathSegment {
  type: 1 | 2 | 3 | 4;
  asns: number[];
}

/** Path attribute type codes (IANA). */
export const AttrType = {
  Origin: 1,
  AsPath: 2,
  NextHop: 3,
  MultiExitDisc: 4,
  LocalPref: 5,
  AtomicAggregate: 6,
  Aggregator: 7,
  Communities: 8,
  OriginatorId: 9,
  ClusterList: 10,
  MpReachNlri: 14,
  MpUnreachNlri: 15,
  ExtendedCommunities: 16,
  As4Path: 17,
  As4Aggregator: 18,
  LargeCommunities: 32,
} as const;

/** Attribute flag bits (RFC 4271 §4.3). */
export const AttrFlag = { Optional: 0x80, Transitive: 0x40, Partial: 0x20, ExtendedLength: 0x10 } as const;

/** An attribute the codec does not interpret, carried as received (optional transitive ones are passed on with Partial set). */
export interface RawAttribute {
  flags: number;
  type: number;
  value: Uint8Array;
}

/** MP_REACH_NLRI (RFC 4760 §3). `nextHops`: one global address, or global + link-local for IPv6 (32-byte form). */
export interface MpReach {
  afi: number;
  safi: number;
  nextHops: string[];
  nlri: Prefix[];
}

/** MP_UNREACH_NLRI (RFC 4760 §4). An empty `withdrawn` list with nothing else in the UPDATE is End-of-RIB. */
export interface MpUnreach {
  afi: number;
  safi: number;
  withdrawn: Prefix[];
}

/** The path attributes of an UPDATE, decoded. Absent means not present in the message. */
export interface PathAttributes {
  origin?: OriginCode;
  asPath?: AsPathSegment[];
  /** IPv4 NEXT_HOP attribute. */
  nextHop?: string;
  med?: number;
  localPref?: number;
  atomicAggregate?: boolean;
  aggregator?: { asn: number; address: string };
  /** RFC 1997 communities as 32-bit unsigned values. */
  communities?: number[];
  /** RFC 4456 */
  originatorId?: string;
  /** RFC 4456: cluster IDs in dotted-quad form, first is the most recent. */
  clusterList?: string[];
  mpReach?: MpReach;
  mpUnreach?: MpUnreach;
  /** RFC 4360: 8 octets each. */
  extendedCommunities?: Uint8Array[];
  /** RFC 8092: [global administrator, local data 1, local data 2]. */
  largeCommunities?: Array<[number, number, number]>;
  /** RFC 6793 §4.2.2: present only on sessions with a 2-octet-only peer. */
  as4Path?: AsPathSegment[];
  as4Aggregator?: { asn: number; address: string };
  /** Unrecognised attributes, in received order. */
  unknown?: RawAttribute[];
}

/** Capabilities (RFC 5492), by meaning; unknown codes are kept as raw bytes. */
export type Capability =
  | { type: 'multiprotocol'; afi: number; safi: number } // RFC 4760 §8, code 1
  | { type: 'route-refresh' } // RFC 2918, code 2
  | { type: 'extended-message' } // RFC 8654, code 6
  | {
      // RFC 4724 §3, code 64
      type: 'graceful-restart';
      restarting: boolean;
      /** RFC 8538 "N" bit. */
      notification: boolean;
      restartTime: number;
      families: Array<{ afi: number; safi: number; forwardingState: boolean }>;
    }
  | { type: 'four-octet-as'; asn: number } // RFC 6793, code 65
  | { type: 'add-path'; families: Array<{ afi: number; safi: number; mode: 1 | 2 | 3 }> } // RFC 7911 §4, code 69 (1 receive, 2 send, 3 both)
  | { type: 'enhanced-route-refresh' } // RFC 7313, code 70
  | { type: 'unknown'; code: number; value: Uint8Array };

/** OPEN (RFC 4271 §4.2). `myAs` is the 2-octet field (AS_TRANS 23456 for 4-octet ASNs). */
export interface OpenMessage {
  type: 'open';
  version: number;
  myAs: number;
  holdTime: number;
  bgpId: string;
  capabilities: Capability[];
}

/** UPDATE (RFC 4271 §4.3). `withdrawn` and `nlri` are the IPv4 fields outside MP attributes. */
export interface UpdateMessage {
  type: 'update';
  withdrawn: Prefix[];
  attributes: PathAttributes;
  nlri: Prefix[];
}

/** NOTIFICATION (RFC 4271 §4.5). */
export interface NotificationMessage {
  type: 'notification';
  code: number;
  subcode: number;
  data: Uint8Array;
}

/** KEEPALIVE (RFC 4271 §4.4). */
export interface KeepaliveMessage {
  type: 'keepalive';
}

/** ROUTE-REFRESH (RFC 2918 §3; subtype per RFC 7313 §3.2: 0 normal, 1 BoRR, 2 EoRR). */
export interface RouteRefreshMessage {
  type: 'route-refresh';
  afi: number;
  safi: number;
  subtype: number;
}

export type BgpMessage = OpenMessage | UpdateMessage | NotificationMessage | KeepaliveMessage | RouteRefreshMessage;

/** NOTIFICATION error codes (RFC 4271 §4.5, RFC 6608 FSM error, RFC 7313 ROUTE-REFRESH error). */
export const Notification = {
  MessageHeaderError: 1,
  OpenMessageError: 2,
  UpdateMessageError: 3,
  HoldTimerExpired: 4,
  FsmError: 5,
  Cease: 6,
  RouteRefreshMessageError: 7,
  /** RFC 9687 §3: Send Hold Timer Expired. */
  SendHoldTimerExpired: 8,
} as const;

/** Message header error subcodes (RFC 4271 §6.1). */
export const HeaderSubcode = { ConnectionNotSynchronized: 1, BadMessageLength: 2, BadMessageType: 3 } as const;

/** OPEN message error subcodes (RFC 4271 §6.2, RFC 5492 §5 Unsupported Capability). */
export const OpenSubcode = {
  UnsupportedVersionNumber: 1,
  BadPeerAs: 2,
  BadBgpIdentifier: 3,
  UnsupportedOptionalParameter: 4,
  UnacceptableHoldTime: 6,
  UnsupportedCapability: 7,
  RoleMismatch: 11,
} as const;

/** UPDATE message error subcodes (RFC 4271 §6.3). */
export const UpdateSubcode = {
  MalformedAttributeList: 1,
  UnrecognizedWellKnownAttribute: 2,
  MissingWellKnownAttribute: 3,
  AttributeFlagsError: 4,
  AttributeLengthError: 5,
  InvalidOriginAttribute: 6,
  InvalidNextHopAttribute: 8,
  OptionalAttributeError: 9,
  InvalidNetworkField: 10,
  MalformedAsPath: 11,
} as const;

/** Cease subcodes (RFC 4486 §4, RFC 8538). */
export const CeaseSubcode = {
  MaximumPrefixesReached: 1,
  AdministrativeShutdown: 2,
  PeerDeconfigured: 3,
  AdministrativeReset: 4,
  ConnectionRejected: 5,
  OtherConfigurationChange: 6,
  ConnectionCollisionResolution: 7,
  OutOfResources: 8,
  HardReset: 9,
} as const;

/** What the session negotiated; the codec needs it to decode UPDATEs (RFC 6793, RFC 7911, RFC 8654). */
export interface CodecContext {
  /** Both sides advertised the 4-octet AS capability: AS_PATH carries 4-octet ASNs. */
  fourOctetAs: boolean;
  /** Families for which we receive (decoding) or send (encoding) path identifiers. */
  addPath: ReadonlySet<Family>;
  /** RFC 8654 negotiated: messages up to 65535 octets, else 4096. */
  extendedMessage: boolean;
}

/** The default context before an OPEN exchange completes. */
export const DEFAULT_CONTEXT: CodecContext = { fourOctetAs: false, addPath: new Set(), extendedMessage: false };

/**
 * How an UPDATE fared under RFC 7606. A session-reset error is thrown as `BgpCodecError` with
 * the NOTIFICATION to send; everything recoverable comes back here.
 */
export type UpdateOutcome =
  /** Decoded; `discarded` lists attributes dropped under "attribute discard" (RFC 7606 §2). */
  | { action: 'accept'; update: UpdateMessage; discarded: AttributeIssue[] }
  /**
   * RFC 7606 §2 "treat-as-withdraw": every NLRI in the message (IPv4 and MP_REACH) is to be
   * withdrawn; `update.withdrawn`/`mpUnreach` already list them all and `nlri` is empty.
   */
  | { action: 'treat-as-withdraw'; update: UpdateMessage; issues: AttributeIssue[] };

/** One attribute problem found while decoding, for logs and counters. */
export interface AttributeIssue {
  attrType: number;
  /** What was wrong, e.g. "ORIGIN value 7 is not 0-2". */
  reason: string;
  /** The RFC 7606 section applied, e.g. "RFC 7606 §7.1". */
  rule: string;
}
