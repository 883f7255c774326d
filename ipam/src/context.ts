/**
 * The shared context of IPAM's modules, the compare-and-swap retry loop, and typed datastore
 * access.
 *
 * Invariants: every write IPAM makes is either a `create` (which fails if the key exists) or an
 * `update` / `delete` carrying the `resourceVersion` it was computed from, so a write based on a
 * stale read is rejected and recomputed from a fresh read; retries are bounded (`maxRetries`)
 * with exponential backoff and random jitter, after which the caller gets TooManyConflicts.
 */
import {
  API_VERSION,
  isTabbyError,
  TabbyError,
  type BlockAffinity,
  type IPAMBlock,
  type IPAMConfigurationSpec,
  type IPAMHandle,
  type IPPool,
  type Node,
  type Resource,
} from '@tabby/api';
import type { Datastore, ResourceKey } from '@tabby/datastore';
import { ipamError } from './errors.js';
import type { IpamMetrics } from './metrics.js';
import type { KeyedMutex } from './mutex.js';
import { blockName } from './names.js';
import type { Clock, IpamInit, IpamLogger, IpamStats, Random } from './types.js';

/** Everything a module of IPAM needs. */
export interface Ctx {
  ds: Datastore;
  clock: Clock;
  random: Random;
  log: IpamLogger;
  metrics: IpamMetrics | undefined;
  opts: Required<IpamInit>;
  stats: IpamStats;
  /** Own blocks to try first, per node and family (`<node>/<family>` → CIDRs, most recent first). */
  hints: Map<string, string[]>;
  /**
   * The last version of each block this Ipam wrote: used optimistically as the read before a
   * compare-and-swap (a stale one costs one Conflict and a re-read, never a wrong write).
   */
  blockCache: Map<string, IPAMBlock>;
  /**
   * Releases queue per block in this process: concurrent DELs of pods in one block would
   * otherwise race each other's compare-and-swap and retry with backoff.
   */
  releaseQueue: KeyedMutex;
  /**
   * When this Ipam first saw each object at its current version (`observedAgeMs`): every grace
   * period and timeout is measured on this host's clock from then, never from a timestamp
   * another host wrote (its clock may be off by any amount).
   */
  seen: Map<string, { version: string; at: number }>;
  /** Called when an own block runs low (claim-ahead); set by `Ipam`. */
  onLowBlock?: (node: string, family: 4 | 6, pools: IPPool[], config: IPAMConfigurationSpec) => void;
  /** The claim-ahead in flight for `node` and `family` (settles, never rejects), if any; set by `Ipam`. */
  claimingAhead?: (node: string, family: 4 | 6) => Promise<void> | undefined;
}

/** Default tunables. */
export const DEFAULT_INIT: Required<IpamInit> = {
  maxRetries: 16,
  backoffBaseMs: 2,
  backoffMaxMs: 200,
  pendingTimeoutMs: 30_000,
  emptyBlockGraceMs: 5 * 60_000,
  leakGraceMs: 15 * 60_000,
  blockStart: 'hashed',
  claimAhead: true,
};

/** Calico's IPAMConfiguration defaults. */
export const DEFAULT_CONFIG: IPAMConfigurationSpec = { strictAffinity: false, maxBlocksPerHost: 0, autoAllocateBlocks: true };

/** True for the errors a compare-and-swap loop retries. */
export function isRace(e: unknown): boolean {
  return isTabbyError(e, 'Conflict', 'AlreadyExists');
}

/**
 * Runs `fn` until it succeeds, retrying (with backoff) when it throws Conflict or
 * AlreadyExists; `fn` must re-read what it writes on every attempt.
 */
export async function withCas<T>(ctx: Ctx, op: string, fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    signal?.throwIfAborted();
    try {
      return await fn();
    } catch (e: unknown) {
      if (!isRace(e)) throw e;
      ctx.stats.conflicts++;
      ctx.metrics?.conflict(op);
      if (attempt >= ctx.opts.maxRetries) {
        throw ipamError('TooManyConflicts', `${op}: the datastore rejected ${attempt + 1} concurrent updates in a row; retry the request (heavy contention)`, { op }, e);
      }
      ctx.stats.retries++;
      const cap = Math.min(ctx.opts.backoffMaxMs, ctx.opts.backoffBaseMs * 2 ** attempt);
      await ctx.clock.sleep(cap * (0.5 + ctx.random()), signal);
    }
  }
}

/** Gets a resource, or undefined when it does not exist. */
export async function getOpt<R extends Resource>(ds: Datastore, key: ResourceKey, signal?: AbortSignal): Promise<R | undefined> {
  try {
    return await ds.get<R>(key, { signal });
  } catch (e: unknown) {
    if (isTabbyError(e, 'NotFound')) return undefined;
    throw e;
  }
}

/** Deletes a resource at `resourceVersion`; true when deleted, false when gone or changed. */
export async function deleteIfUnchanged(ds: Datastore, key: ResourceKey, resourceVersion: string | undefined, signal?: AbortSignal): Promise<boolean> {
  try {
    await ds.delete(key, { resourceVersion, signal });
    return true;
  } catch (e: unknown) {
    if (isTabbyError(e, 'NotFound', 'Conflict')) return false;
    throw e;
  }
}

/** Builds a resource of `kind` named `name`. */
export function resource<K extends string, S>(kind: K, name: string, spec: S, annotations?: Record<string, string>): Resource<K, S> {
  return { apiVersion: API_VERSION, kind, metadata: annotations ? { name, annotations } : { name }, spec };
}

/** The block resource of `cidr`, if it exists. */
export function getBlock(ctx: Ctx, cidr: string, signal?: AbortSignal): Promise<IPAMBlock | undefined> {
  return getOpt<IPAMBlock>(ctx.ds, { kind: 'IPAMBlock', name: blockName(cidr) }, signal);
}

/** All blocks. */
export async function listBlocks(ctx: Ctx, signal?: AbortSignal): Promise<IPAMBlock[]> {
  return (await ctx.ds.list<IPAMBlock>({ kind: 'IPAMBlock', signal })).items;
}

/** All block affinities. */
export async function listAffinities(ctx: Ctx, signal?: AbortSignal): Promise<BlockAffinity[]> {
  return (await ctx.ds.list<BlockAffinity>({ kind: 'BlockAffinity', signal })).items;
}

/** All pools. */
export async function listPools(ctx: Ctx, signal?: AbortSignal): Promise<IPPool[]> {
  return (await ctx.ds.list<IPPool>({ kind: 'IPPool', signal })).items;
}

/** All nodes. */
export async function listNodes(ctx: Ctx, signal?: AbortSignal): Promise<Node[]> {
  return (await ctx.ds.list<Node>({ kind: 'Node', signal })).items;
}

/** All handles. */
export async function listHandles(ctx: Ctx, signal?: AbortSignal): Promise<IPAMHandle[]> {
  return (await ctx.ds.list<IPAMHandle>({ kind: 'IPAMHandle', signal })).items;
}

/** The cluster IPAMConfiguration (`default`), with Calico's defaults for unset fields. */
export async function getConfig(ctx: Ctx, signal?: AbortSignal): Promise<IPAMConfigurationSpec> {
  const r = await getOpt<Resource<'IPAMConfiguration', Partial<IPAMConfigurationSpec>>>(ctx.ds, { kind: 'IPAMConfiguration', name: 'default' }, signal);
  return { ...DEFAULT_CONFIG, ...(r?.spec ?? {}) };
}

/** An ISO timestamp of the injected clock. */
export function isoNow(ctx: Ctx): string {
  return new Date(ctx.clock.now()).toISOString();
}

/** Most objects whose first sighting an Ipam remembers (beyond it, the memory starts over: only later, never earlier). */
const MAX_SEEN = 16_384;

/**
 * How long (by this host's clock) this Ipam has seen `key` unchanged at `version` (its
 * resourceVersion): 0 at the first sighting or after any change. Timestamps written by other
 * hosts are never compared with this clock (a node 20 minutes behind would look 20 minutes
 * stale at once): a grace period starts when the deciding host first sees the state it judges.
 */
export function observedAgeMs(ctx: Ctx, key: string, version: string | undefined): number {
  const now = ctx.clock.now();
  const v = version ?? '';
  const s = ctx.seen.get(key);
  if (s && s.version === v) return now - s.at;
  if (ctx.seen.size >= MAX_SEEN) ctx.seen.clear();
  ctx.seen.set(key, { version: v, at: now });
  return 0;
}

/** `observedAgeMs` of a resource, keyed by its kind and name. */
export function unchangedForMs(ctx: Ctx, r: Resource): number {
  return observedAgeMs(ctx, `${r.kind}/${r.metadata.name}`, r.metadata.resourceVersion);
}

/**
 * `update` with compare-and-swap on the object's resourceVersion; an object deleted since it
 * was read is reported as Conflict too, so `withCas` re-reads and recomputes.
 */
export async function updateCas<R extends Resource>(ds: Datastore, obj: R, signal?: AbortSignal): Promise<R> {
  try {
    return await ds.update(obj, { signal });
  } catch (e: unknown) {
    if (isTabbyError(e, 'NotFound')) throw new TabbyError('Conflict', `${obj.kind} ${obj.metadata.name} was deleted concurrently`, {}, { cause: e });
    throw e;
  }
}

/** The own blocks to try first for `node` and `family`. */
export function hintsFor(ctx: Ctx, node: string, family: number): string[] {
  return ctx.hints.get(`${node}/${family}`) ?? [];
}

/** Adds a hint (at the front: the block just used; at the back: a block claimed ahead). */
export function addHint(ctx: Ctx, node: string, family: number, cidr: string, front: boolean): void {
  const rest = hintsFor(ctx, node, family).filter((c) => c !== cidr);
  ctx.hints.set(`${node}/${family}`, (front ? [cidr, ...rest] : [...rest, cidr]).slice(0, 4));
}

/** Drops a hint (the block is full, gone, or no longer the node's). */
export function dropHint(ctx: Ctx, node: string, family: number, cidr: string): void {
  ctx.hints.set(`${node}/${family}`, hintsFor(ctx, node, family).filter((c) => c !== cidr));
}

/** Remembers the version of a block just written (bounded; cleared when full). */
export function rememberBlock(ctx: Ctx, b: IPAMBlock): void {
  if (ctx.blockCache.size >= 1024) ctx.blockCache.clear();
  ctx.blockCache.set(b.spec.cidr, b);
}
