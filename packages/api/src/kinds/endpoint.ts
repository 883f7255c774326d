/** WorkloadEndpoint with Calico's field names. Types only. */
import type { Resource } from '../resource.js';

/** A NAT mapping on a workload endpoint. */
export interface IPNAT {
  internalIP: string;
  externalIP: string;
}

/** A named port of an endpoint. */
export interface EndpointPort {
  /** Port name; may be empty only when hostPort is set. */
  name?: string;
  protocol: string | number;
  port: number;
  hostPort?: number;
  hostIP?: string;
}

/** Spec of a WorkloadEndpoint (one interface of a pod). */
export interface WorkloadEndpointSpec {
  orchestrator?: string;
  workload?: string;
  node: string;
  containerID?: string;
  pod?: string;
  endpoint?: string;
  serviceAccountName?: string;
  /** The endpoint's addresses as CIDRs (/32 or /128). */
  ipNetworks: string[];
  ipNATs?: IPNAT[];
  ipv4Gateway?: string;
  ipv6Gateway?: string;
  /** Profiles that apply, in order. */
  profiles?: string[];
  /** Host-side interface name (e.g. cali1234567890a). */
  interfaceName: string;
  /** MAC address of the workload's interface. */
  mac?: string;
  ports?: EndpointPort[];
  allowSpoofedSourcePrefixes?: string[];
}

/** A workload's network endpoint. Namespaced. */
export type WorkloadEndpoint = Resource<'WorkloadEndpoint', WorkloadEndpointSpec>;
