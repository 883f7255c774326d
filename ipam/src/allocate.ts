/**
 * Automatic assignment of addresses of one family, in Calico's order: the node's own
 * (confirmed, affine) blocks first, then newly claimed blocks (up to `maxBlocksPerHost`, when
 * `autoAllocateBlocks`), then — unless `strictAffinity` — free addresses borrowed from other
 * nodes' blocks. `maxBlocksPerHost` is checked before each claim, as Calico does: allocators of
 * one node in different processes racing to claim can overshoot it by one block each (one
 * process queues its allocations per node, see mutex.ts).
 *
 * Invariants: an address is written into a block only by a compare-and-swap on that block's
 * revision, so two allocators can never both take one ordinal; the handle's count is raised
 * before the block write and lowered again for whatever the write did not take (see
 * handles.ts), or — when the datastore has `txn` — written in the same atomic transaction; a request that cannot be met in full releases what it took and fails with
 * PoolExhausted, and when no candidate block had a free address nothing was written at all.
 */
import {
  cidrContains,
  isTabbyError,
  TabbyError,
  makeCidr,
  nthAddress,
  parseCidr,
  subnetCount,
  nthSubnet,
  type AllocationAttribute,
  type BlockAffinity,
  type IPAMBlock,
  type IPAMConfigurationSpec,
  type IPAMHandle,
  type IPPool,
  type IpFamily,
} from '@tabby/api';
import { claimBlock, dropAffinity } from './affinity.js';
import { allocateInBlock, freeCount, isEmpty } from './block.js';
import { addHint, dropHint, unchangedForMs, getBlock, hintsFor, listAffinities, listBlocks, rememberBlock, updateCas, withCas, type Ctx } from './context.js';
import { ipamError } from './errors.js';
import { adjustHandle, getHandle, handleOp, HandleMoved } from './handles.js';
import { releaseBlock } from './affinity.js';
import { affinityNode, blockName } from './names.js';
import { poolBlockSize } from './pools.js';

/**
 * A node's block is running low when at most this share of it is free: claim-ahead then claims
 * the next block in the background, early enough that it is ready before this one fills.
 */
export const LOW_BLOCK = 1 / 4;

/** Annotation on a block: when its last address was released (for the empty-block grace). */
export const BLOCK_EMPTY_SINCE = 'ipam.tabby.dev/empty-since';

/** One family's part of a request. */
export interface FamilyRequest {
  handle: string;
  node: string;
  family: IpFamily;
  n: number;
  pools: IPPool[];
  attr: AllocationAttribute;
  config: IPAMConfigurationSpec;
  /**
   * Shared by the families of one request: whether the handle resource is known to exist, and
   * (transactional path) its last version written by this request.
   */
  handleState: { exists: boolean; current?: IPAMHandle | undefined };
  /** The node's last-used own block for this family, read ahead of time (undefined: none). */
  hint?: { cidr: string; block: IPAMBlock | undefined };
  /** Blocks this request claimed (released again when the request fails). */
  claimed?: string[];
  signal?: AbortSignal;
}

/** What a block allocation gave: addresses, or 'stale' when the block is not (or no longer) the node's. */
type BlockResult = string[] | 'stale';

/** True when `cidr` lies in one of `pools`. */
export function inPools(pools: IPPool[], cidr: string): boolean {
  return pools.some((p) => {
    try {
      return cidrContains(p.spec.cidr, cidr);
    } catch {
      return false;
    }
  });
}

/** The block's metadata with its empty-since mark dropped. */
export function markUsed(block: IPAMBlock): IPAMBlock['metadata'] {
  if (!block.metadata.annotations?.[BLOCK_EMPTY_SINCE]) return block.metadata;
  const annotations = { ...block.metadata.annotations };
  delete annotations[BLOCK_EMPTY_SINCE];
  return { ...block.metadata, annotations };
}

/** What one block write gave: the ordinals taken and the block's free count after it. */
interface Taken {
  ordinals: number[];
  freeAfter: number;
}

/** A block usable for this allocation: present, not deleted, and (with `owner`) affine to it. */
type Usable = (b: IPAMBlock | undefined) => b is IPAMBlock;

/**
 * Sequential order (no `txn`, e.g. Kubernetes): raise the handle's count, compare-and-swap the
 * block, then lower the count by whatever the block write did not take (see handles.ts).
 */
async function takeSequential(ctx: Ctx, cidr: string, k: number, req: FamilyRequest, usable: Usable, first: IPAMBlock): Promise<Taken> {
  await adjustHandle(ctx, req.handle, cidr, k, req.signal, { mustCreate: !req.handleState.exists });
  req.handleState.exists = true;
  const taken: Taken = { ordinals: [], freeAfter: 0 };
  try {
    let block: IPAMBlock | undefined = first;
    taken.ordinals = await withCas(ctx, 'block', async () => {
      block ??= await getBlock(ctx, cidr, req.signal);
      const b = block;
      block = undefined; // re-read on every retry
      if (!usable(b)) return [];
      const r = allocateInBlock(b.spec, k, req.attr);
      taken.freeAfter = freeCount(r.spec);
      if (r.ordinals.length > 0) rememberBlock(ctx, await updateCas(ctx.ds, { ...b, metadata: markUsed(b), spec: r.spec }, req.signal));
      return r.ordinals;
    }, req.signal);
  } finally {
    if (taken.ordinals.length < k) await adjustHandle(ctx, req.handle, cidr, taken.ordinals.length - k, req.signal);
  }
  return taken;
}

/**
 * One atomic transaction (datastore `txn`): the block's compare-and-swap and the handle's
 * count land together or not at all. A new handle is created optimistically; on AlreadyExists
 * or a Conflict on the handle it is read and the transaction recomputed, as for the block.
 */
async function takeAtomic(ctx: Ctx, cidr: string, k: number, req: FamilyRequest, usable: Usable, first: IPAMBlock): Promise<Taken> {
  const txn = ctx.ds.txn!.bind(ctx.ds);
  const hs = req.handleState;
  let block: IPAMBlock | undefined = first;
  const taken: Taken = { ordinals: [], freeAfter: 0 };
  taken.ordinals = await withCas(ctx, 'block', async () => {
    const [b, cur] = await Promise.all([
      block ?? getBlock(ctx, cidr, req.signal),
      hs.current ?? (hs.exists ? getHandle(ctx, req.handle, req.signal) : undefined),
    ]);
    block = undefined; // re-read on a retry
    // Known to exist but gone now (released concurrently): re-plan rather than re-create it.
    if (hs.exists && !cur) throw new HandleMoved(req.handle);
    if (!usable(b)) return [];
    const r = allocateInBlock(b.spec, k, req.attr);
    if (r.ordinals.length === 0) return [];
    const hop = handleOp(ctx, req.handle, cur, cidr, r.ordinals.length)!;
    try {
      const [h, nb] = await txn([hop, { op: 'update', obj: { ...b, metadata: markUsed(b), spec: r.spec } }], { signal: req.signal });
      rememberBlock(ctx, nb as IPAMBlock);
      hs.exists = true;
      hs.current = h as IPAMHandle;
    } catch (e: unknown) {
      // The handle is not as this request last saw it (another allocation or a release of the
      // same handle): nothing was written; the request re-plans from what the handle holds.
      if (isTabbyError(e) && e.details['kind'] === 'IPAMHandle') throw new HandleMoved(req.handle);
      // The block was deleted since read (by gc): re-read and recompute.
      if (isTabbyError(e, 'NotFound')) throw new TabbyError('Conflict', `${String(e.details['kind'])} ${String(e.details['name'])} was deleted concurrently`, {}, { cause: e });
      throw e;
    }
    taken.freeAfter = freeCount(r.spec);
    return r.ordinals;
  }, req.signal);
  return taken;
}

/**
 * Allocates up to `n` addresses in block `cidr` for `req.handle`. With `owner`, only while the
 * block is affine to that node ('stale' otherwise).
 */
export async function allocFromBlock(ctx: Ctx, cidr: string, n: number, req: FamilyRequest, owner?: string, prefetched?: { block: IPAMBlock | undefined }): Promise<BlockResult> {
  const first = prefetched ? prefetched.block : (ctx.blockCache.get(cidr) ?? (await getBlock(ctx, cidr, req.signal)));
  const usable = (b: IPAMBlock | undefined): b is IPAMBlock => !!b && !b.spec.deleted && (owner === undefined || affinityNode(b.spec.affinity) === owner);
  if (!usable(first)) return owner === undefined ? [] : 'stale';
  const k = Math.min(n, freeCount(first.spec));
  if (k === 0) return [];
  const { ordinals, freeAfter } = ctx.ds.txn ? await takeAtomic(ctx, cidr, k, req, usable, first) : await takeSequential(ctx, cidr, k, req, usable, first);
  if (owner !== undefined && ordinals.length > 0) {
    addHint(ctx, owner, req.family, cidr, true);
    const low = freeAfter <= first.spec.allocations.length * LOW_BLOCK;
    if (low && hintsFor(ctx, owner, req.family).length < 2) ctx.onLowBlock?.(owner, req.family, req.pools, req.config);
    if (freeAfter === 0) dropHint(ctx, owner, req.family, cidr);
  }
  ctx.stats.allocated += ordinals.length;
  ctx.metrics?.allocated(ordinals.length);
  return ordinals.map((o) => nthAddress(cidr, o));
}

/**
 * Claim-ahead: claims one more block for `node` unless it already has a confirmed block with
 * more than a quarter free, or is at `maxBlocksPerHost`. Runs off the allocation path.
 */
export async function claimAhead(ctx: Ctx, node: string, family: IpFamily, pools: IPPool[], config: IPAMConfigurationSpec): Promise<void> {
  if (!config.autoAllocateBlocks) return;
  const [affinities, blocks] = await Promise.all([listAffinities(ctx), listBlocks(ctx)]);
  const mine = affinities.filter((a) => a.spec.node === node && a.spec.state !== 'pendingDeletion' && inPools(pools, a.spec.cidr));
  if (config.maxBlocksPerHost > 0 && mine.length >= config.maxBlocksPerHost) return;
  const byName = new Map(blocks.map((b) => [b.metadata.name, b]));
  const roomy = mine.find((a) => {
    const b = byName.get(blockName(a.spec.cidr));
    return a.spec.state === 'confirmed' && b !== undefined && affinityNode(b.spec.affinity) === node && freeCount(b.spec) > b.spec.allocations.length * LOW_BLOCK;
  });
  if (roomy) return addHint(ctx, node, family, roomy.spec.cidr, false);
  const cidr = findClaimable(ctx, pools, blocks, node, new Set(mine.map((a) => a.spec.cidr)));
  if (!cidr) return;
  const c = await claimBlock(ctx, node, parseCidr(cidr), config.strictAffinity);
  if (c.kind !== 'claimed') return;
  rememberBlock(ctx, c.block);
  addHint(ctx, node, family, cidr, false);
}

/** FNV-1a of a string: a stable per-node starting point in a pool. */
function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

/**
 * A block of `pools` nobody has created yet (not in `exclude`), starting at a per-node hashed
 * (or random) index so that nodes rarely race for the same block; else an existing block that
 * may be claimable (unaffine, or empty with an old claim — `claimBlock` makes the final call).
 */
export function findClaimable(ctx: Ctx, pools: IPPool[], blocks: IPAMBlock[], node: string, exclude: Set<string>): string | undefined {
  const existing = new Set(blocks.map((b) => b.metadata.name));
  for (const pool of pools) {
    const pc = parseCidr(pool.spec.cidr);
    const size = poolBlockSize(pool);
    const count = subnetCount(pc, size);
    if (count === 0n) continue;
    const seed = ctx.opts.blockStart === 'random' ? Math.floor(ctx.random() * 2 ** 32) : fnv1a(node);
    const start = BigInt(seed) % count;
    const limit = BigInt(existing.size + exclude.size + 1);
    for (let i = 0n; i < count && i <= limit; i++) {
      const c = nthSubnet(pc, size, (start + i) % count).text;
      if (!existing.has(blockName(c)) && !exclude.has(c)) return c;
    }
  }
  const takeover = blocks.find(
    (b) => inPools(pools, b.spec.cidr) && !exclude.has(b.spec.cidr) && affinityNode(b.spec.affinity) !== node &&
      (b.spec.affinity === undefined || (isEmpty(b.spec) && unchangedForMs(ctx, b) >= ctx.opts.pendingTimeoutMs)),
  );
  return takeover?.spec.cidr;
}

/** The node's confirmed blocks with free space, from the listed blocks (stale affinities dropped). */
async function fromOwnBlocks(ctx: Ctx, req: FamilyRequest, mine: BlockAffinity[], blocks: Map<string, IPAMBlock>, want: number): Promise<string[]> {
  const out: string[] = [];
  for (const a of mine) {
    if (out.length >= want) break;
    const block = blocks.get(blockName(a.spec.cidr));
    if (block && affinityNode(block.spec.affinity) === req.node && freeCount(block.spec) === 0) continue;
    const r = await allocFromBlock(ctx, a.spec.cidr, want - out.length, req, req.node, { block });
    if (r === 'stale') {
      // Our confirmed affinity points at a block that is gone or now someone else's: drop it.
      ctx.log.warn({ node: req.node, prefix: a.spec.cidr }, 'dropping a stale block affinity');
      await dropAffinity(ctx, req.node, a.spec.cidr, (s) => s === 'confirmed', req.signal);
    } else out.push(...r);
  }
  return out;
}

/** Claims new blocks (first re-running interrupted claims of this node) and allocates from them. */
async function fromNewBlocks(ctx: Ctx, req: FamilyRequest, mine: BlockAffinity[], listed: IPAMBlock[], want: number): Promise<string[]> {
  const out: string[] = [];
  const strict = req.config.strictAffinity;
  // Re-run this node's interrupted claims (pending) and releases that died half way (stale pendingDeletion).
  const interrupted = mine.filter((x) => x.spec.state === 'pending' ||
    (x.spec.state === 'pendingDeletion' && unchangedForMs(ctx, x) >= ctx.opts.pendingTimeoutMs));
  for (const a of interrupted) {
    if (out.length >= want) return out;
    const c = await claimBlock(ctx, req.node, parseCidr(a.spec.cidr), strict, req.signal);
    if (c.kind === 'claimed') out.push(...asList(await allocFromBlock(ctx, a.spec.cidr, want - out.length, req, req.node)));
  }
  let owned = mine.filter((x) => x.spec.state !== 'pendingDeletion').length;
  const exclude = new Set<string>(mine.map((x) => x.spec.cidr));
  let blocks: IPAMBlock[] | undefined = listed;
  for (let attempt = 0; attempt < 8 && out.length < want; attempt++) {
    const max = req.config.maxBlocksPerHost;
    if (max > 0 && owned >= max) break;
    blocks ??= await listBlocks(ctx, req.signal);
    const cidr = findClaimable(ctx, req.pools, blocks, req.node, exclude);
    if (!cidr) break;
    exclude.add(cidr);
    const c = await claimBlock(ctx, req.node, parseCidr(cidr), strict, req.signal);
    if (c.kind === 'taken') {
      blocks = undefined; // someone else is claiming: look again with fresh data
      continue;
    }
    owned++;
    (req.claimed ??= []).push(cidr);
    out.push(...asList(await allocFromBlock(ctx, cidr, want - out.length, req, req.node, { block: c.block })));
  }
  return out;
}

function asList(r: BlockResult): string[] {
  return r === 'stale' ? [] : r;
}

/** Borrows free addresses from blocks that are not the node's (random order, to spread load). */
async function borrow(ctx: Ctx, req: FamilyRequest, listed: IPAMBlock[], want: number): Promise<string[]> {
  const out: string[] = [];
  const cands = listed.filter(
    (b) => inPools(req.pools, b.spec.cidr) && affinityNode(b.spec.affinity) !== req.node && !b.spec.strictAffinity && !b.spec.deleted && freeCount(b.spec) > 0,
  );
  const start = Math.floor(ctx.random() * cands.length);
  for (let i = 0; i < cands.length && out.length < want; i++) {
    const b = cands[(start + i) % cands.length]!;
    out.push(...asList(await allocFromBlock(ctx, b.spec.cidr, want - out.length, req, undefined, { block: b })));
  }
  if (out.length > 0) ctx.log.debug({ node: req.node, n: out.length }, 'borrowed addresses from other nodes\' blocks');
  return out;
}

/** Fast path: the node's last-used block (read along with pools and node), then blocks it claimed ahead. */
async function fromHints(ctx: Ctx, req: FamilyRequest, ips: string[]): Promise<void> {
  for (const cidr of hintsFor(ctx, req.node, req.family).slice(0, 3)) {
    if (ips.length >= req.n) return;
    if (!inPools(req.pools, cidr)) continue;
    // Our own last write of the block beats a read made before this request got its turn.
    const pre = !ctx.blockCache.has(cidr) && req.hint?.cidr === cidr ? req.hint : undefined;
    const r = await allocFromBlock(ctx, cidr, req.n - ips.length, req, req.node, pre);
    if (r === 'stale' || r.length === 0) dropHint(ctx, req.node, req.family, cidr);
    if (r !== 'stale') ips.push(...r);
  }
}

/**
 * Allocates `req.n` addresses of `req.family`, or none: on shortfall it calls `undo` with what
 * it got and throws PoolExhausted.
 */
export async function allocateFamily(ctx: Ctx, req: FamilyRequest, undo: (ips: string[]) => Promise<void>): Promise<string[]> {
  if (req.n === 0) return [];
  const ips: string[] = [];
  try {
    await fromHints(ctx, req, ips);
    // The hinted blocks are full: a block being claimed ahead in the background is closer than a full scan.
    const claiming = ips.length < req.n ? ctx.claimingAhead?.(req.node, req.family) : undefined;
    if (claiming) {
      await claiming;
      await fromHints(ctx, req, ips);
    }
    if (ips.length >= req.n) return ips;
    const [affinities, blocks] = await Promise.all([listAffinities(ctx, req.signal), listBlocks(ctx, req.signal)]);
    const mine = affinities
      .filter((a) => a.spec.node === req.node && inPools(req.pools, a.spec.cidr))
      .sort((a, b) => a.spec.cidr.localeCompare(b.spec.cidr));
    const byName = new Map(blocks.map((b) => [b.metadata.name, b]));
    ips.push(...(await fromOwnBlocks(ctx, req, mine.filter((a) => a.spec.state === 'confirmed'), byName, req.n - ips.length)));
    if (ips.length < req.n && req.config.autoAllocateBlocks) ips.push(...(await fromNewBlocks(ctx, req, mine, blocks, req.n - ips.length)));
    if (ips.length < req.n && !req.config.strictAffinity) ips.push(...(await borrow(ctx, req, await listBlocks(ctx, req.signal), req.n - ips.length)));
  } catch (e: unknown) {
    // A moved handle: what was written stays (it holds it), the request re-plans from it.
    if (e instanceof HandleMoved) throw e;
    if (ips.length > 0) await undo(ips);
    await releaseClaimed(ctx, req);
    throw e;
  }
  if (ips.length < req.n) {
    if (ips.length > 0) await undo(ips);
    await releaseClaimed(ctx, req);
    const names = req.pools.map((p) => `${p.metadata.name} (${p.spec.cidr})`).join(', ');
    throw ipamError(
      'PoolExhausted',
      `no free IPv${req.family} address for node "${req.node}" in ${names}: wanted ${req.n}, found ${ips.length}` +
        `${req.config.strictAffinity ? ' (strictAffinity forbids borrowing)' : ''}${req.config.maxBlocksPerHost ? ` (maxBlocksPerHost ${req.config.maxBlocksPerHost})` : ''}; release unused addresses (ipam gc), add a pool, or enlarge the pool`,
      { node: req.node, family: req.family, pools: req.pools.map((p) => p.metadata.name) },
    );
  }
  return ips;
}

/**
 * Releases the blocks a failed request claimed (when still empty), so that they do not stay
 * affine to the node — with strictAffinity that would starve every other node until gc.
 * Best effort: a failure is logged, and gc releases empty blocks after its grace period.
 */
async function releaseClaimed(ctx: Ctx, req: FamilyRequest): Promise<void> {
  for (const cidr of req.claimed?.splice(0) ?? []) {
    try {
      await releaseBlock(ctx, req.node, cidr, true, req.signal);
      dropHint(ctx, req.node, req.family, cidr);
    } catch (e: unknown) {
      ctx.log.warn({ node: req.node, prefix: cidr, err: e }, 'could not release a block claimed by a failed request; gc will');
    }
  }
}

/** The CIDR of the block of `pool` that holds `ip`. */
export function blockCidrOf(pool: IPPool, family: IpFamily, addr: bigint): string {
  return makeCidr(family, addr, poolBlockSize(pool)).text;
}
