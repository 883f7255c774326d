/**
 * IPPool and IPAMConfiguration, as Calico's projectcalico.org/v3 defines them (same field names,
 * same defaults). Types only; validation and defaulting live in `validation/`.
 */
import type { Resource } from '../resource.js';

/** When to encapsulate traffic for a pool (IPIP or VXLAN). */
export type EncapMode = 'Never' | 'Always' | 'CrossSubnet';
/** Calico's IPIPMode. */
export type IPIPMode = EncapMode;
/** Calico's VXLANMode. */
export type VXLANMode = EncapMode;
/** What addresses of a pool may be used for. */
export type IPPoolAllowedUse = 'Workload' | 'Tunnel' | 'LoadBalancer';
/** Whether IPAM picks from a pool automatically or only on explicit request. */
export type AssignmentMode = 'Automatic' | 'Manual';

/** Default IPv4 block size (Calico: 26, 64 addresses). */
export const DEFAULT_BLOCK_SIZE_V4 = 26;
/** Default IPv6 block size (Calico: 122, 64 addresses). */
export const DEFAULT_BLOCK_SIZE_V6 = 122;

/** Spec of an IPPool. Defaults in brackets. */
export interface IPPoolSpec {
  /** The pool's CIDR, e.g. 192.168.0.0/16. Immutable. */
  cidr: string;
  /** Prefix length of the pool's IPAM blocks [26 v4, 122 v6]; 20-32 (v4) or 116-128 (v6). Immutable. */
  blockSize: number;
  /** IPIP encapsulation for traffic to workloads in this pool [Never]. IPv4 only. */
  ipipMode: IPIPMode;
  /** VXLAN encapsulation for traffic to workloads in this pool [Never]. */
  vxlanMode: VXLANMode;
  /** Masquerade traffic from this pool to destinations outside all pools [false]. */
  natOutgoing: boolean;
  /** No new addresses are allocated from a disabled pool [false]. */
  disabled: boolean;
  /** Do not export this pool's routes over BGP [false]. */
  disableBGPExport: boolean;
  /** Nodes that may allocate from this pool [all()]. */
  nodeSelector: string;
  /** Namespaces whose pods may allocate from this pool [unset = all]. */
  namespaceSelector?: string;
  /** What the addresses may be used for [Workload, Tunnel]. */
  allowedUses: IPPoolAllowedUse[];
  /** Automatic or Manual assignment [Automatic]. */
  assignmentMode?: AssignmentMode;
}

/** A pool of addresses from which IPAM allocates blocks. Cluster-scoped. */
export type IPPool = Resource<'IPPool', IPPoolSpec>;

/** Spec of the cluster-wide IPAM configuration (the one resource is named `default`). */
export interface IPAMConfigurationSpec {
  /** Only allocate from blocks affine to this host [false]. */
  strictAffinity: boolean;
  /** Maximum blocks per host, 0 for no limit [0]. */
  maxBlocksPerHost: number;
  /** Claim new blocks automatically when a host's blocks are full [true]. */
  autoAllocateBlocks: boolean;
}

/** Cluster-wide IPAM settings. Cluster-scoped; name `default`. */
export type IPAMConfiguration = Resource<'IPAMConfiguration', IPAMConfigurationSpec>;
