/** BGPConfiguration and BGPPeer with Calico's field names and defaults. Types only. */
import type { Resource } from '../resource.js';

/** Cluster default AS (Calico: 64512). */
export const DEFAULT_AS_NUMBER = 64512;
/** Default BGP listen port. */
export const DEFAULT_BGP_PORT = 179;

/** A CIDR wrapper as Calico uses for service IP lists. */
export interface CidrBlock {
  cidr: string;
}

/** A named BGP community (standard `aa:nn` or large `aa:nn:mm`). */
export interface Community {
  name: string;
  value: string;
}

/** Communities to attach to routes within a CIDR. */
export interface PrefixAdvertisement {
  cidr: string;
  /** Community names from `communities`, or literal values. */
  communities: string[];
}

/** A reference to a key in a Kubernetes secret. */
export interface SecretKeyRef {
  name: string;
  key: string;
}

/** A BGP password source. */
export interface BGPPassword {
  secretKeyRef?: SecretKeyRef;
}

/** Spec of a BGPConfiguration (`default` is cluster-wide, `node.<name>` per node). */
export interface BGPConfigurationSpec {
  /** Log level of the BGP daemon [Info]. */
  logSeverityScreen?: string;
  /** Full mesh among nodes [true]. Only in `default`. */
  nodeToNodeMeshEnabled?: boolean;
  /** Default AS of nodes [64512]. Only in `default`. */
  asNumber?: number;
  /** Service cluster IP ranges to advertise. */
  serviceClusterIPs?: CidrBlock[];
  /** Service external IP ranges to advertise. */
  serviceExternalIPs?: CidrBlock[];
  /** Service LoadBalancer IP ranges to advertise. */
  serviceLoadBalancerIPs?: CidrBlock[];
  /** BGP listen port [179]. */
  listenPort?: number;
  /** Bind the BGP listener to the node IP (`NodeIP`) or to all addresses (`None`) [None]. */
  bindMode?: 'None' | 'NodeIP';
  /** Named communities. */
  communities?: Community[];
  /** Communities per advertised prefix. */
  prefixAdvertisements?: PrefixAdvertisement[];
  /** Password for mesh sessions. */
  nodeMeshPassword?: BGPPassword;
  /** Graceful-restart time for mesh sessions, a duration like `120s`. */
  nodeMeshMaxRestartTime?: string;
  /** Interfaces whose routes are not exported. */
  ignoredInterfaces?: string[];
  /** IPv4 address nodes use to peer with local workloads. */
  localWorkloadPeeringIPV4?: string;
  /** IPv6 address nodes use to peer with local workloads. */
  localWorkloadPeeringIPV6?: string;
}

/** BGP settings, cluster-wide or per node. Cluster-scoped. */
export type BGPConfiguration = Resource<'BGPConfiguration', BGPConfigurationSpec>;

/** Spec of a BGPPeer. */
export interface BGPPeerSpec {
  /** The node that peers; unset for all nodes (or those in nodeSelector). */
  node?: string;
  /** Peer address, optionally with port: `10.0.0.1`, `10.0.0.1:1179`, `[fd00::1]:1179`. */
  peerIP?: string;
  /** The peer's AS. */
  asNumber?: number;
  /** Nodes that peer [unset: see node]. */
  nodeSelector?: string;
  /** Peer with the Calico nodes matching this selector instead of peerIP. */
  peerSelector?: string;
  /** Keep the original next hop when forwarding routes to this peer. */
  keepOriginalNextHop?: boolean;
  /** TCP MD5 password. */
  password?: BGPPassword;
  /** Source address: the node's IP (`UseNodeIP`) or kernel choice (`None`) [UseNodeIP]. */
  sourceAddress?: 'UseNodeIP' | 'None';
  /** Graceful-restart time, a duration like `120s`. */
  maxRestartTime?: string;
  /** Allow our own AS this many times in received AS paths (allowas-in). */
  numAllowedLocalASNumbers?: number;
  /** GTSM: peer is at most this many hops away (RFC 5082). */
  ttlSecurity?: number;
  /** Keepalive time, a duration. */
  keepaliveTime?: string;
  /** Next-hop handling: `Auto`, `Self` or `Keep` [Auto]. */
  nextHopMode?: 'Auto' | 'Self' | 'Keep';
  /** Names of BGPFilter resources applied to this peer. */
  filters?: string[];
  /** Address of the gateway through which the peer is reached (same family as peerIP). */
  reachableBy?: string;
  /** Peer with local workloads matching this selector (instead of peerIP/peerSelector). */
  localWorkloadSelector?: string;
}

/** A BGP peer of some or all nodes. Cluster-scoped. */
export type BGPPeer = Resource<'BGPPeer', BGPPeerSpec>;
