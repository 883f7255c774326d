/**
 * Block affinity: a node's claim on a block, in two steps as in Calico, and its release.
 *
 * Claim: (1) create the BlockAffinity `<node>-<block>` in state `pending`; (2) create the
 * IPAMBlock with `affinity: host:<node>` — the block's name is derived from its CIDR, so of
 * several nodes racing for one block exactly one `create` succeeds; (3) update the affinity to
 * `confirmed`. A node allocates from a block as its own only when its affinity is confirmed
 * AND the block's `affinity` field names it (checked in the same compare-and-swap as the
 * allocation), so a crash after (1) leaves only a pending affinity with no block, and a crash
 * after (2) an empty block whose affinity is still pending: neither is used as anyone's own.
 * A claim never confirms an affinity a release has moved to `pendingDeletion`, and re-writes a
 * block it finds already its own, so a release deleting the block at the revision it saw empty
 * cannot leave a confirmed affinity without a block.
 * Recovery: the same node's next claim re-runs the steps idempotently and confirms (or, when
 * another node won the block, deletes its pending affinity); another node may take over an
 * empty block whose owner's affinity is missing or has been pending longer than
 * `pendingTimeoutMs` (it deletes that stale affinity with a compare-and-swap first, so a
 * concurrent confirmation by the owner makes the takeover fail instead of both succeeding).
 *
 * Release: affinity → `pendingDeletion`; the block is deleted with a compare-and-swap on the
 * revision at which it was seen empty (an allocation in between makes it fail and the release
 * is undone), or, when not empty and the caller allows it, the block's affinity is cleared;
 * then the affinity is deleted. A crash in between leaves a `pendingDeletion` affinity, which
 * is not used for allocation and is finished by a later release, claim or `gc`.
 */
import { isTabbyError, TabbyError, type BlockAffinity, type BlockAffinityState, type Cidr, type IPAMBlock } from '@tabby/api';
import { newBlockSpec, isEmpty } from './block.js';
import { deleteIfUnchanged, unchangedForMs, getBlock, getOpt, isoNow, resource, updateCas, withCas, type Ctx } from './context.js';
import { affinityName, affinityNode, blockName, hostAffinity } from './names.js';

/** Annotation on an affinity: when it entered its current state. */
export const AFFINITY_SINCE = 'ipam.tabby.dev/since';

/** The outcome of a claim. */
export type ClaimResult = { kind: 'claimed'; block: IPAMBlock } | { kind: 'taken'; owner: string | undefined };

/** The outcome of a release. */
export type ReleaseBlockResult = 'released' | 'cleared' | 'notEmpty' | 'notOurs';

function affinityKey(node: string, cidr: string): { kind: 'BlockAffinity'; name: string } {
  return { kind: 'BlockAffinity', name: affinityName(node, cidr) };
}

/** The affinity of `node` to block `cidr`, if any. */
export function getAffinity(ctx: Ctx, node: string, cidr: string, signal?: AbortSignal): Promise<BlockAffinity | undefined> {
  return getOpt<BlockAffinity>(ctx.ds, affinityKey(node, cidr), signal);
}

function withState(ctx: Ctx, a: BlockAffinity, state: BlockAffinityState): BlockAffinity {
  const annotations = { ...(a.metadata.annotations ?? {}), [AFFINITY_SINCE]: isoNow(ctx) };
  return { ...a, metadata: { ...a.metadata, annotations }, spec: { ...a.spec, state } };
}

/** Sets the affinity's state unless it is missing or already in `state`; returns it (or undefined). */
async function setState(ctx: Ctx, node: string, cidr: string, state: BlockAffinityState, only: (s: BlockAffinityState) => boolean, signal?: AbortSignal): Promise<BlockAffinity | undefined> {
  return withCas(ctx, 'affinity', async () => {
    const a = await getAffinity(ctx, node, cidr, signal);
    if (!a || a.spec.state === state || !only(a.spec.state)) return a;
    return updateCas(ctx.ds, withState(ctx, a, state), signal);
  }, signal);
}

/** `create()`, or undefined when the object already exists. */
async function createOrExisting<R>(create: () => Promise<R>): Promise<R | undefined> {
  try {
    return await create();
  } catch (e: unknown) {
    if (isTabbyError(e, 'AlreadyExists')) return undefined;
    throw e;
  }
}

/** Step 1: a pending affinity (or the existing one, pulled back from pendingDeletion). */
async function ensurePending(ctx: Ctx, node: string, cidr: string, signal?: AbortSignal): Promise<BlockAffinity> {
  const spec = { state: 'pending' as const, node, type: 'host' as const, cidr, deleted: false };
  const create = (): Promise<BlockAffinity> =>
    ctx.ds.create(resource('BlockAffinity', affinityName(node, cidr), spec, { [AFFINITY_SINCE]: isoNow(ctx) }), { signal });
  // First a plain create (the common case, one round trip); if it exists, read and adapt.
  const made = await createOrExisting(create);
  if (made) return made;
  return withCas(ctx, 'affinity', async () => {
    const a = await getAffinity(ctx, node, cidr, signal);
    if (!a) return create();
    if (a.spec.state === 'pendingDeletion') return updateCas(ctx.ds, withState(ctx, a, 'pending'), signal);
    return a;
  }, signal);
}

/**
 * May `node` take over `block` from its current owner? Returns the owner's stale affinity (or
 * null for none). Stale means: this Ipam has seen the block empty and its owner's claim
 * unconfirmed, both unchanged, for `pendingTimeoutMs` by its own clock (the owner's claim time
 * is never compared with this clock).
 */
async function staleOwner(ctx: Ctx, block: IPAMBlock, signal?: AbortSignal): Promise<BlockAffinity | null | false> {
  const owner = affinityNode(block.spec.affinity);
  if (owner === undefined || !isEmpty(block.spec)) return false;
  const blockAge = unchangedForMs(ctx, block);
  const a = await getAffinity(ctx, owner, block.spec.cidr, signal);
  if (!a) return blockAge >= ctx.opts.pendingTimeoutMs ? null : false;
  if (a.spec.state === 'confirmed') return false;
  const claimAge = unchangedForMs(ctx, a);
  if (blockAge < ctx.opts.pendingTimeoutMs || claimAge < ctx.opts.pendingTimeoutMs) return false;
  return a;
}

/** Step 2: the block, affine to `node`; undefined when another node holds it. */
async function ensureBlock(ctx: Ctx, node: string, cidr: Cidr, strict: boolean, signal?: AbortSignal): Promise<IPAMBlock | { taken: string | undefined }> {
  const create = (): Promise<IPAMBlock> =>
    ctx.ds.create(resource('IPAMBlock', blockName(cidr.text), newBlockSpec(cidr, hostAffinity(node), strict, isoNow(ctx))), { signal });
  const made = await createOrExisting(create); // usually the block was absent when the claim began
  if (made) return made;
  return withCas(ctx, 'block-claim', async () => {
    const block = await getBlock(ctx, cidr.text, signal);
    if (!block) return create();
    const owner = affinityNode(block.spec.affinity);
    // Ours already (a re-run claim): write it anyway, so that a release that saw it empty and is
    // about to delete it at that revision fails instead of deleting a block we go on to confirm.
    if (owner === node) return updateCas(ctx.ds, { ...block, spec: { ...block.spec, affinityClaimTime: isoNow(ctx) } }, signal);
    if (block.spec.affinity !== undefined || block.spec.deleted) {
      const stale = await staleOwner(ctx, block, signal);
      if (stale === false) return { taken: owner };
      // Delete the stale affinity first: if its owner confirms meanwhile, this fails and we back off.
      if (stale && !(await deleteIfUnchanged(ctx.ds, { kind: 'BlockAffinity', name: stale.metadata.name }, stale.metadata.resourceVersion, signal))) {
        return { taken: owner };
      }
      ctx.log.info({ node, prefix: cidr.text, previous: owner }, 'taking over a block whose claim was never confirmed');
    }
    const spec = { ...block.spec, affinity: hostAffinity(node), affinityClaimTime: isoNow(ctx), strictAffinity: strict, deleted: false };
    return updateCas(ctx.ds, { ...block, spec }, signal);
  }, signal);
}

/** Step 3: confirm; false when the block turned out not to be ours. */
async function confirm(ctx: Ctx, node: string, cidr: string, pending: BlockAffinity | undefined, signal?: AbortSignal): Promise<boolean> {
  return withCas(ctx, 'affinity', async () => {
    const a = pending ?? (await getAffinity(ctx, node, cidr, signal));
    pending = undefined; // re-read on retries
    if (a?.spec.state === 'confirmed') return true;
    // A release (gc) took the affinity to pendingDeletion meanwhile: it may be deleting the block
    // now, so do not confirm over it; the claim fails and the caller looks elsewhere.
    if (a?.spec.state === 'pendingDeletion') return false;
    if (a) {
      await updateCas(ctx.ds, withState(ctx, a, 'confirmed'), signal);
      return true;
    }
    // Our pending affinity vanished (taken over as stale): only re-create it if the block is still ours.
    const block = await getBlock(ctx, cidr, signal);
    if (affinityNode(block?.spec.affinity) !== node) return false;
    const spec = { state: 'confirmed' as const, node, type: 'host' as const, cidr, deleted: false };
    await ctx.ds.create(resource('BlockAffinity', affinityName(node, cidr), spec, { [AFFINITY_SINCE]: isoNow(ctx) }), { signal });
    return true;
  }, signal);
}

/**
 * Claims block `cidr` for `node` (pending → block → confirmed). Idempotent: re-running it
 * after a crash at any step finishes or undoes the claim.
 */
export async function claimBlock(ctx: Ctx, node: string, cidr: Cidr, strict: boolean, signal?: AbortSignal): Promise<ClaimResult> {
  const pending = await ensurePending(ctx, node, cidr.text, signal);
  const block = await ensureBlock(ctx, node, cidr, strict, signal);
  if ('taken' in block || !(await confirm(ctx, node, cidr.text, pending, signal))) {
    await dropAffinity(ctx, node, cidr.text, (s) => s !== 'confirmed', signal);
    return { kind: 'taken', owner: 'taken' in block ? block.taken : undefined };
  }
  ctx.stats.claims++;
  ctx.metrics?.claimed();
  ctx.log.debug({ node, prefix: cidr.text }, 'claimed block');
  return { kind: 'claimed', block };
}

/** Deletes `node`'s affinity to `cidr` when its state satisfies `when` (compare-and-swap). */
export async function dropAffinity(ctx: Ctx, node: string, cidr: string, when: (s: BlockAffinityState) => boolean, signal?: AbortSignal): Promise<void> {
  await withCas(ctx, 'affinity', async () => {
    const a = await getAffinity(ctx, node, cidr, signal);
    if (!a || !when(a.spec.state)) return;
    if (!(await deleteIfUnchanged(ctx.ds, affinityKey(node, cidr), a.metadata.resourceVersion, signal))) {
      throw new TabbyError('Conflict', `affinity ${a.metadata.name} changed`);
    }
  }, signal);
}

/**
 * Releases `node`'s affinity to block `cidr`. An empty block is deleted; a non-empty one keeps
 * its addresses and loses its affinity when `requireEmpty` is false, else nothing changes.
 */
export async function releaseBlock(ctx: Ctx, node: string, cidr: string, requireEmpty: boolean, signal?: AbortSignal): Promise<ReleaseBlockResult> {
  await setState(ctx, node, cidr, 'pendingDeletion', () => true, signal);
  const result = await withCas<ReleaseBlockResult>(ctx, 'block-release', async () => {
    const block = await getBlock(ctx, cidr, signal);
    if (!block) return 'released';
    if (affinityNode(block.spec.affinity) !== node) return 'notOurs';
    if (isEmpty(block.spec)) {
      if (!(await deleteIfUnchanged(ctx.ds, { kind: 'IPAMBlock', name: block.metadata.name }, block.metadata.resourceVersion, signal))) {
        throw new TabbyError('Conflict', `block ${cidr} changed while being released`);
      }
      return 'released';
    }
    if (requireEmpty) return 'notEmpty';
    const spec = { ...block.spec };
    delete spec.affinity;
    delete spec.affinityClaimTime;
    await updateCas(ctx.ds, { ...block, spec }, signal);
    return 'cleared';
  }, signal);
  if (result === 'notEmpty') {
    await setState(ctx, node, cidr, 'confirmed', (s) => s === 'pendingDeletion', signal);
  } else {
    await dropAffinity(ctx, node, cidr, (s) => s === 'pendingDeletion', signal);
  }
  if (result === 'released') ctx.log.debug({ node, prefix: cidr }, 'released block');
  return result;
}
