/**
 * @tabby/ipam: IP pools, block affinity, allocation and release by handle, borrowing, leak
 * checks and GC, over any `Datastore` (Calico's IPAM model: IPAMBlock, BlockAffinity,
 * IPAMHandle). See ipam.ts for the facade and each module's header for the invariants it keeps.
 */
export * from './errors.js';
export * from './types.js';
export * from './names.js';
export * from './block.js';
export * from './pools.js';
export * from './metrics.js';
export { AFFINITY_SINCE, type ClaimResult, type ReleaseBlockResult } from './affinity.js';
export { BLOCK_EMPTY_SINCE, findClaimable } from './allocate.js';
export { HANDLE_UPDATED } from './handles.js';
export type { ReleaseIpsResult } from './release.js';
export { allocationsOf, tunnelHandleNode, type AllocationInfo, type CheckReport, type LiveWorkload } from './check.js';
export type { GcOptions, GcResult } from './gc.js';
export { Ipam } from './ipam.js';
