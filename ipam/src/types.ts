/**
 * The components IPAM is built from (injected, so tests can swap the datastore, the clock and
 * the random source) and the shapes of its requests and results.
 */
import type { Datastore } from '@tabby/datastore';
import type { IpamMetrics } from './metrics.js';

/** Time source and sleeper; tests pass a fake. */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Resolves after `ms` (rejects when `signal` aborts). */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** The wall clock. */
export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const t = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      const onAbort = (): void => {
        clearTimeout(t);
        reject(signal?.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
    }),
};

/** A source of uniform numbers in [0, 1). */
export type Random = () => number;

/** The subset of pino's logger IPAM uses (keys: node, prefix, err). */
export interface IpamLogger {
  debug(obj: Record<string, unknown>, msg?: string): void;
  info(obj: Record<string, unknown>, msg?: string): void;
  warn(obj: Record<string, unknown>, msg?: string): void;
}

/** Injected dependencies of `Ipam`. */
export interface IpamComponents {
  datastore: Datastore;
  clock?: Clock;
  random?: Random;
  logger?: IpamLogger;
  metrics?: IpamMetrics;
}

/** Tunables of `Ipam` (defaults in brackets). */
export interface IpamInit {
  /** Compare-and-swap retries per write before TooManyConflicts [16]. */
  maxRetries?: number;
  /** First backoff after a Conflict, doubled each retry, with jitter [2 ms]. */
  backoffBaseMs?: number;
  /** Longest backoff [200 ms]. */
  backoffMaxMs?: number;
  /** A pending (or pendingDeletion) affinity older than this is stale and may be recovered [30 s]. */
  pendingTimeoutMs?: number;
  /** An empty affine block is released after being empty this long (by `gc`) [5 min]. */
  emptyBlockGraceMs?: number;
  /** `gc` releases a leaked allocation only when it is older than this [15 min]. */
  leakGraceMs?: number;
  /**
   * Claim the node's next block in the background when its current block is down to its last
   * eighth, so that allocations rarely wait for a claim [true].
   */
  claimAhead?: boolean;
  /** Where a node starts looking for a free block: a hash of its name, or random ['hashed']. */
  blockStart?: 'hashed' | 'random';
}

/** What an address is for (an IPPool's `allowedUses`). */
export type IpUse = 'Workload' | 'Tunnel';

/** A request for addresses chosen by IPAM. */
export interface AutoAssignRequest {
  /** Owner of the addresses, e.g. `<network>.<containerID>`; release by it later. */
  handle: string;
  /** The node the workload runs on (its Node resource must exist). */
  node: string;
  /** IPv4 addresses wanted [0]. */
  num4?: number;
  /** IPv6 addresses wanted [0]. */
  num6?: number;
  /** Explicit IPv4 pools (names or CIDRs): override the selectors. */
  pools4?: string[];
  /** Explicit IPv6 pools (names or CIDRs). */
  pools6?: string[];
  /** Secondary attributes recorded with each address (namespace, pod). */
  attrs?: Record<string, string>;
  /** Workload [default] or Tunnel. */
  use?: IpUse;
  /** Labels of the pod's namespace, matched against pools' `namespaceSelector`. */
  namespaceLabels?: Record<string, string>;
  signal?: AbortSignal;
}

/** Addresses assigned by `autoAssign` (plain addresses, no prefix length). */
export interface AutoAssignResult {
  ipv4: string[];
  ipv6: string[];
}

/** A request for one specific address. */
export interface AssignIpRequest {
  ip: string;
  handle: string;
  node: string;
  attrs?: Record<string, string>;
  signal?: AbortSignal;
}

/** Counters of datastore contention since the Ipam was created. */
export interface IpamStats {
  /** Writes rejected with Conflict / AlreadyExists (lost compare-and-swap races). */
  conflicts: number;
  /** Retries after such a rejection. */
  retries: number;
  /** Addresses allocated and released. */
  allocated: number;
  released: number;
  /** Blocks claimed. */
  claims: number;
}

/** A block and who owns it, for routing without BGP. */
export interface BlockOwner {
  cidr: string;
  /** The node the block is affine to (confirmed); undefined for an unaffine or unconfirmed block. */
  node: string | undefined;
  /** Addresses of this block allocated by another node (borrowed), with that node. */
  borrowed: { ip: string; node: string }[];
}
