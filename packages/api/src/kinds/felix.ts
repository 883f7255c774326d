/**
 * FelixConfiguration: the subset of Calico's fields Tabby's dataplane agent honours, with
 * Calico's names and defaults. Types only.
 */
import type { Resource } from '../resource.js';

/** Spec of a FelixConfiguration (`default` cluster-wide, `node.<name>` per node). */
export interface FelixConfigurationSpec {
  /** [Info] */
  logSeverityScreen?: string;
  /** Program IPIP routes and device [auto from pools]. */
  ipipEnabled?: boolean;
  ipipMTU?: number;
  vxlanEnabled?: boolean;
  vxlanMTU?: number;
  vxlanMTUV6?: number;
  /** [4789] */
  vxlanPort?: number;
  /** [4096] */
  vxlanVNI?: number;
  /** Duration, e.g. `90s`. */
  routeRefreshInterval?: string;
  iptablesRefreshInterval?: string;
  /** Traffic from workloads to the host [Drop]. */
  defaultEndpointToHostAction?: 'Drop' | 'Accept' | 'Return';
  /** [Insert] */
  chainInsertMode?: 'Insert' | 'Append';
  /** Workload interface name prefix [cali]. */
  interfacePrefix?: string;
  /** Interfaces felix ignores. */
  interfaceExclude?: string;
  ipv6Support?: boolean;
  natOutgoingAddress?: string;
  failsafeInboundHostPorts?: { protocol: string; port: number; net?: string }[];
  failsafeOutboundHostPorts?: { protocol: string; port: number; net?: string }[];
  /** [9099] */
  healthPort?: number;
  healthEnabled?: boolean;
  prometheusMetricsEnabled?: boolean;
  /** [9091] */
  prometheusMetricsPort?: number;
  reportingInterval?: string;
  /** [1] */
  routeTableRange?: { min: number; max: number };
  wireguardEnabled?: boolean;
  bpfEnabled?: boolean;
}

/** Dataplane agent settings. Cluster-scoped. */
export type FelixConfiguration = Resource<'FelixConfiguration', FelixConfigurationSpec>;
