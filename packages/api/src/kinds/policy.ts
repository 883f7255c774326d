/**
 * Policy kinds: NetworkPolicy (namespaced), GlobalNetworkPolicy, Profile, and the Rule they share,
 * with Calico's field names. Types only.
 */
import type { Resource } from '../resource.js';

/** What a matching rule does. */
export type RuleAction = 'Allow' | 'Deny' | 'Log' | 'Pass';
/** Protocol: a name (TCP, UDP, ICMP, ICMPv6, SCTP, UDPLite) or a number 1-255. */
export type Protocol = string | number;
/** A port: a number, a range `"80:90"`, or a named port. */
export type Port = number | string;
/** Direction of a policy. */
export type PolicyType = 'Ingress' | 'Egress';

/** ICMP type and code match. */
export interface ICMPFields {
  type?: number;
  code?: number;
}

/** Service-account match. */
export interface ServiceAccountMatch {
  names?: string[];
  selector?: string;
}

/** Kubernetes service match. */
export interface ServiceMatch {
  name?: string;
  namespace?: string;
}

/** Source or destination of a rule. */
export interface EntityRule {
  nets?: string[];
  notNets?: string[];
  selector?: string;
  notSelector?: string;
  namespaceSelector?: string;
  ports?: Port[];
  notPorts?: Port[];
  serviceAccounts?: ServiceAccountMatch;
  services?: ServiceMatch;
}

/** HTTP match (application layer). */
export interface HTTPMatch {
  methods?: string[];
  paths?: Record<string, string>[];
}

/** One policy rule. */
export interface Rule {
  action: RuleAction;
  /** Restrict to IPv4 (4) or IPv6 (6). */
  ipVersion?: 4 | 6;
  protocol?: Protocol;
  notProtocol?: Protocol;
  icmp?: ICMPFields;
  notICMP?: ICMPFields;
  source?: EntityRule;
  destination?: EntityRule;
  http?: HTTPMatch;
  metadata?: { annotations?: Record<string, string> };
}

/** Spec of a (namespaced) NetworkPolicy. */
export interface NetworkPolicySpec {
  /** Policy tier [default]. */
  tier?: string;
  /** Lower orders apply first; unset applies last. */
  order?: number;
  /** Endpoints the policy applies to ["" = all()]. */
  selector: string;
  /** Directions [Ingress, plus Egress when egress rules exist]. */
  types: PolicyType[];
  ingress: Rule[];
  egress: Rule[];
  serviceAccountSelector?: string;
}

/** A namespaced network policy. */
export type NetworkPolicy = Resource<'NetworkPolicy', NetworkPolicySpec>;

/** Spec of a GlobalNetworkPolicy. */
export interface GlobalNetworkPolicySpec extends NetworkPolicySpec {
  namespaceSelector?: string;
  /** Apply before connection tracking (host endpoints only) [false]. */
  doNotTrack?: boolean;
  /** Apply before DNAT (host endpoints only) [false]. */
  preDNAT?: boolean;
  /** Also apply to forwarded traffic (host endpoints) [false]. */
  applyOnForward?: boolean;
}

/** A cluster-wide network policy. */
export type GlobalNetworkPolicy = Resource<'GlobalNetworkPolicy', GlobalNetworkPolicySpec>;

/** Spec of a Profile: rules and labels applied to endpoints that reference it. */
export interface ProfileSpec {
  ingress?: Rule[];
  egress?: Rule[];
  labelsToApply?: Record<string, string>;
}

/** A security profile (e.g. one per namespace, `kns.<ns>`). Cluster-scoped. */
export type Profile = Resource<'Profile', ProfileSpec>;
