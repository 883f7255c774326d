/**
 * The IPAM objects: IPAMBlock, BlockAffinity and IPAMHandle, with Calico's field names
 * (`handle_id` in attributes included). Types only.
 *
 * Invariant of a valid block: `allocations.length` is the block's size; every ordinal appears
 * exactly once in either a non-null allocation or in `unallocated`; each non-null allocation is
 * an index into `attributes`.
 */
import type { Resource } from '../resource.js';

/** Per-allocation attributes: the owning handle and free-form secondary data (pod, namespace, node). */
export interface AllocationAttribute {
  handle_id?: string;
  secondary?: Record<string, string>;
}

/** Spec of an IPAM block: one fixed-size chunk of a pool, normally affine to one host. */
export interface IPAMBlockSpec {
  /** The block's CIDR (a subnet of a pool, of the pool's blockSize). */
  cidr: string;
  /** Affinity, e.g. `host:node1`; unset when the block is not affine. */
  affinity?: string;
  /** RFC 3339 time at which the affinity was claimed. */
  affinityClaimTime?: string;
  /** Only the affine host may allocate from this block. */
  strictAffinity: boolean;
  /** One entry per address of the block: null when free, else an index into `attributes`. */
  allocations: (number | null)[];
  /** Ordinals of free addresses, in allocation order. */
  unallocated: number[];
  /** Attributes referenced by `allocations`. */
  attributes: AllocationAttribute[];
  /** Marked for deletion (a two-phase delete, as in Calico). */
  deleted: boolean;
  /** Incremented on each allocation; lets clients detect reuse of an address. */
  sequenceNumber?: number;
  /** Sequence number at which each ordinal (as a string key) was allocated. */
  sequenceNumberForAllocation?: Record<string, number>;
}

/** An IPAM block. Cluster-scoped; Calico names it after its CIDR (`10-0-0-0-26`). */
export type IPAMBlock = Resource<'IPAMBlock', IPAMBlockSpec>;

/** State of a block affinity claim. */
export type BlockAffinityState = 'pending' | 'confirmed' | 'pendingDeletion';

/** Spec of a block affinity: a host's claim on a block. */
export interface BlockAffinitySpec {
  state: BlockAffinityState;
  /** The node holding the affinity. */
  node: string;
  /** Affinity type: `host` (default) or `virtual`. */
  type?: 'host' | 'virtual';
  /** The block's CIDR. */
  cidr: string;
  /** Marked for deletion. */
  deleted: boolean;
}

/** A host's affinity to a block. Cluster-scoped; Calico names it `<node>-<cidr-with-dashes>`. */
export type BlockAffinity = Resource<'BlockAffinity', BlockAffinitySpec>;

/** Spec of an IPAM handle: which blocks hold how many addresses for one owner (e.g. a pod). */
export interface IPAMHandleSpec {
  handleID: string;
  /** Block CIDR → number of addresses held in it. */
  block: Record<string, number>;
  deleted: boolean;
}

/** An allocation handle. Cluster-scoped; named after the handle ID. */
export type IPAMHandle = Resource<'IPAMHandle', IPAMHandleSpec>;
