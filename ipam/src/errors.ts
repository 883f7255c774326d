/**
 * IPAM's error codes. Every failure a caller can act on is a `TabbyError<IpamErrorCode>`; the
 * message says what was wrong and what to do. Errors raised while validating a request are
 * thrown before anything is written to the datastore.
 */
import { TabbyError } from '@tabby/api';

/** Why an IPAM operation failed. */
export type IpamErrorCode =
  /** A pool named in the request (or containing a requested address) does not exist. */
  | 'PoolNotFound'
  /** A pool named in the request is disabled. */
  | 'PoolDisabled'
  /** The candidate pools have no free address (and no free block to claim or borrow from). */
  | 'PoolExhausted'
  /** No enabled pool serves this node / namespace / use / family. */
  | 'NoPoolForNode'
  /** The handle ID is empty, too long, or has characters a resource name cannot hold. */
  | 'InvalidHandle'
  /** Some other field of the request is malformed (counts, node name, address, family). */
  | 'InvalidRequest'
  /** The Node resource does not exist; IPAM refuses to allocate for unregistered nodes. */
  | 'NodeNotFound'
  /** A requested address is already allocated. */
  | 'AddressInUse'
  /** A requested block is affine to another node. */
  | 'BlockOwnedByOtherNode'
  /** The node already holds `maxBlocksPerHost` blocks. */
  | 'MaxBlocksReached'
  /** Compare-and-swap kept failing after the bounded number of retries. */
  | 'TooManyConflicts'
  /** The block of an address or CIDR does not exist. */
  | 'BlockNotFound';

/** An IPAM error. */
export type IpamError = TabbyError<IpamErrorCode>;

/** Builds an IPAM error. */
export function ipamError(code: IpamErrorCode, message: string, details: Record<string, unknown> = {}, cause?: unknown): IpamError {
  return new TabbyError<IpamErrorCode>(code, message, details, cause === undefined ? undefined : { cause });
}
