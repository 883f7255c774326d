import { describe, expect, it } from 'vitest';
import { isTabbyError, type BlockAffinity, type IPAMBlock } from '@tabby/api';
import { Crash, invariantProblems, setup, state } from './helpers.js';

const X = '10.0.0.128/26';

async function crashOn(p: Promise<unknown>): Promise<void> {
  await expect(p).rejects.toBeInstanceOf(Crash);
}

async function code(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
  } catch (e: unknown) {
    return isTabbyError(e) ? e.code : String(e);
  }
  return undefined;
}

/** No block is usable as its own by two nodes: at most one confirmed affinity, matching the block. */
async function noSharedBlock(ds: Parameters<typeof state>[0]): Promise<void> {
  expect(await invariantProblems(ds)).toEqual([]);
}

describe('a claim interrupted between its two steps', () => {
  it('after the pending affinity: nothing looks owned, another node can claim, the first cleans up', async () => {
    const { ipam, ds, mem, mk } = await setup();
    ds.crashIf = (op, o) => op === 'create' && o.kind === 'BlockAffinity';
    await crashOn(ipam.claimAffinity('n1', X));
    ds.crashIf = () => false;
    let s = await state(mem);
    expect(s.blocks).toEqual([]);
    expect(s.affinities.map((a) => a.spec.state)).toEqual(['pending']);
    expect(await ipam.blocksForNode('n1')).toEqual([]);
    await mk().claimAffinity('n2', X);
    expect(await ipam.blocksForNode('n2')).toEqual([X]);
    // n1 restarts and allocates: it re-runs its interrupted claim, finds X taken, and drops it.
    const r = await mk().autoAssign({ handle: 'h', node: 'n1', num4: 1 });
    s = await state(mem);
    expect(s.affinities.filter((a) => a.spec.node === 'n1').map((a) => [a.spec.cidr, a.spec.state])).toEqual([[(await ipam.blocksForNode('n1'))[0], 'confirmed']]);
    expect(r.ipv4[0]!.startsWith('10.0.0.1')).toBe(false);
    await noSharedBlock(mem);
  });

  it('after the pending affinity: the same node\'s next claim finishes it', async () => {
    const { ipam, ds, mem, mk } = await setup();
    ds.crashIf = (op, o) => op === 'create' && o.kind === 'BlockAffinity';
    await crashOn(ipam.claimAffinity('n1', X));
    ds.crashIf = () => false;
    const r = await mk().autoAssign({ handle: 'h', node: 'n1', num4: 1 });
    expect(await ipam.blocksForNode('n1')).toEqual([X]);
    expect(r.ipv4).toEqual(['10.0.0.128']);
    await noSharedBlock(mem);
  });

  it('after the block: not used until confirmed; others wait for the timeout, then take it over', async () => {
    const { ipam, ds, mem, mk, clock } = await setup({ init: { pendingTimeoutMs: 30_000 } });
    ds.crashIf = (op, o) => op === 'create' && o.kind === 'IPAMBlock';
    await crashOn(ipam.claimAffinity('n1', X));
    ds.crashIf = () => false;
    let s = await state(mem);
    expect(s.blocks.map((b) => b.spec.affinity)).toEqual(['host:n1']);
    expect(s.affinities.map((a) => a.spec.state)).toEqual(['pending']);
    expect(await ipam.blocksForNode('n1')).toEqual([]);
    expect(await ipam.allBlockOwners()).toEqual([{ cidr: X, node: undefined, borrowed: [] }]);
    // The timeout runs on the clock of the node that would take over, from when it first saw the claim.
    const other = mk();
    expect(await code(other.claimAffinity('n2', X))).toBe('BlockOwnedByOtherNode');
    clock.advance(31_000);
    expect(await code(mk().claimAffinity('n2', X))).toBe('BlockOwnedByOtherNode'); // a node that just saw it waits
    await other.claimAffinity('n2', X);
    s = await state(mem);
    expect(s.blocks.map((b) => b.spec.affinity)).toEqual(['host:n2']);
    expect(s.affinities.map((a) => [a.spec.node, a.spec.state])).toEqual([['n2', 'confirmed']]);
    await mk().autoAssign({ handle: 'h', node: 'n1', num4: 1 });
    expect(await ipam.blocksForNode('n1')).not.toContain(X);
    await noSharedBlock(mem);
  });

  it('after the block: the same node\'s next allocation confirms it and uses it', async () => {
    const { ipam, ds, mem, mk } = await setup();
    ds.crashIf = (op, o) => op === 'create' && o.kind === 'IPAMBlock';
    await crashOn(ipam.claimAffinity('n1', X));
    ds.crashIf = () => false;
    const r = await mk().autoAssign({ handle: 'h', node: 'n1', num4: 1 });
    expect(r.ipv4).toEqual(['10.0.0.128']);
    expect((await mem.list<BlockAffinity>({ kind: 'BlockAffinity' })).items.map((a) => a.spec.state)).toEqual(['confirmed']);
    await noSharedBlock(mem);
  });

  it('a takeover racing the owner\'s confirmation never leaves both owning the block', async () => {
    const { ipam, ds, mem, mk, clock } = await setup({ init: { pendingTimeoutMs: 1000 } });
    ds.crashIf = (op, o) => op === 'create' && o.kind === 'IPAMBlock';
    await crashOn(ipam.claimAffinity('n1', X));
    ds.crashIf = () => false;
    clock.advance(2000);
    await Promise.all([mk().claimAffinity('n1', X).catch(() => undefined), mk().claimAffinity('n2', X).catch(() => undefined)]);
    const s = await state(mem);
    expect(s.affinities.filter((a) => a.spec.state === 'confirmed')).toHaveLength(1);
    await noSharedBlock(mem);
  });
});

describe('gc and interrupted claims', () => {
  it('deletes a stale pending affinity with no block, only after the pending timeout', async () => {
    const { ipam, ds, mem, clock } = await setup({ init: { pendingTimeoutMs: 30_000 } });
    ds.crashIf = (op, o) => op === 'create' && o.kind === 'BlockAffinity';
    await crashOn(ipam.claimAffinity('n1', X));
    ds.crashIf = () => false;
    expect((await ipam.check([])).staleAffinities.map((a) => [a.node, a.state, a.reason])).toEqual([['n1', 'pending', 'block-missing']]);
    expect((await ipam.gc({ live: [] })).deletedAffinities).toEqual([]);
    clock.advance(31_000);
    expect((await ipam.gc({ live: [] })).deletedAffinities).toEqual([{ node: 'n1', cidr: X }]);
    expect((await state(mem)).affinities).toEqual([]);
  });
});

describe('other interrupted writes', () => {
  it('a release interrupted after pendingDeletion is finished by gc or undone by a claim', async () => {
    const { ipam, ds, mem, mk, clock } = await setup({ init: { emptyBlockGraceMs: 1000, pendingTimeoutMs: 1000 } });
    await ipam.claimAffinity('n1', X);
    ds.crashIf = (op, o) => op === 'update' && o.kind === 'BlockAffinity' && (o as BlockAffinity).spec.state === 'pendingDeletion';
    await crashOn(ipam.releaseAffinity('n1', X));
    ds.crashIf = () => false;
    expect(await ipam.blocksForNode('n1')).toEqual([]);
    await ipam.claimAffinity('n1', X); // a claim takes the block back
    const r = await mk().autoAssign({ handle: 'h', node: 'n1', num4: 1 });
    expect(r.ipv4).toEqual(['10.0.0.128']);
    expect(await ipam.blocksForNode('n1')).toEqual([X]);
    await ipam.releaseByHandle('h');
    ds.crashIf = (op, o) => op === 'update' && o.kind === 'BlockAffinity' && (o as BlockAffinity).spec.state === 'pendingDeletion';
    await crashOn(ipam.releaseAffinity('n1', X));
    ds.crashIf = () => false;
    await ipam.gc({ live: [] }); // first sight of the empty block
    clock.advance(2000);
    await ipam.gc({ live: [] });
    const s = await state(mem);
    expect([s.blocks.length, s.affinities.length]).toEqual([0, 0]);
  });

  it('an allocation interrupted after the handle write leaves no address; the handle is cleaned up', async () => {
    // The sequential order of a datastore without txn (Kubernetes): handle first, then the block.
    const { ipam, ds, mem, mk, clock } = await setup({ init: { pendingTimeoutMs: 1000 }, txn: false });
    await ipam.autoAssign({ handle: 'first', node: 'n1', num4: 1 });
    ds.crashIf = (op, o) => op === 'create' && o.kind === 'IPAMHandle';
    await crashOn(ipam.autoAssign({ handle: 'h', node: 'n1', num4: 1 }));
    ds.crashIf = () => false;
    const b = (await mem.list<IPAMBlock>({ kind: 'IPAMBlock' })).items[0]!;
    expect(b.spec.allocations.filter((x) => x !== null)).toHaveLength(1);
    expect((await ipam.check([{ handle: 'first', ips: [] }])).orphanHandles.map((h) => h.handle)).toEqual(['h']);
    expect(await invariantProblems(mem, { exactHandles: false })).toEqual([]);
    const gc = mk();
    expect((await gc.gc({ live: [{ handle: 'first', ips: [] }] })).deletedHandles).toEqual([]); // first sight
    clock.advance(2000);
    expect((await gc.gc({ live: [{ handle: 'first', ips: [] }] })).deletedHandles).toEqual(['h']);
    expect(await invariantProblems(mem)).toEqual([]);
  });
});

describe('allocation and release in one transaction (datastore txn)', () => {
  it('an allocation is one transaction holding the handle and the block; a crash after it leaves both', async () => {
    const { ipam, ds, mem } = await setup({ txn: true });
    await ipam.autoAssign({ handle: 'first', node: 'n1', num4: 1 });
    const before = ds.txns;
    ds.crashIf = (op, o) => op === 'create' && o.kind === 'IPAMHandle';
    await crashOn(ipam.autoAssign({ handle: 'h', node: 'n1', num4: 1 }));
    ds.crashIf = () => false;
    expect(ds.txns - before).toBe(1);
    const b = (await mem.list<IPAMBlock>({ kind: 'IPAMBlock' })).items[0]!;
    expect(b.spec.allocations.filter((x) => x !== null)).toHaveLength(2);
    expect(await invariantProblems(mem)).toEqual([]);
    expect(await ipam.releaseByHandle('h')).toHaveLength(1);
    expect(await invariantProblems(mem)).toEqual([]);
  });

  it('a conflict on the handle alone re-reads what the handle holds and plans again', async () => {
    const { ipam, ds, mem } = await setup({ txn: true });
    await ipam.autoAssign({ handle: 'a', node: 'n1', num4: 1 });
    let n = 0;
    ds.conflictIf = (op, kind) => kind === 'IPAMHandle' && n++ < 2;
    await ipam.autoAssign({ handle: 'b', node: 'n1', num4: 1, num6: 0 });
    ds.conflictIf = () => false;
    expect(ipam.stats.conflicts).toBe(2);
    expect(await ipam.ipsByHandle('b')).toHaveLength(1);
    expect(await invariantProblems(mem)).toEqual([]);
  });

  it('release by handle lowers the count in the same transaction and deletes the handle', async () => {
    const { ipam, ds, mem } = await setup({ txn: true });
    await ipam.autoAssign({ handle: 'a', node: 'n1', num4: 3 });
    const before = ds.txns;
    expect(await ipam.releaseByHandle('a')).toHaveLength(3);
    expect(ds.txns - before).toBe(1);
    expect((await state(mem)).handles).toEqual([]);
    expect(await invariantProblems(mem)).toEqual([]);
  });
});

describe('compare-and-swap retries', () => {
  it('succeeds through injected conflicts and counts them', async () => {
    const { ipam, ds, mem } = await setup();
    let n = 0;
    ds.conflictIf = (op, kind) => op === 'update' && kind === 'IPAMBlock' && n++ < 3;
    await ipam.autoAssign({ handle: 'a', node: 'n1', num4: 1 });
    await ipam.autoAssign({ handle: 'b', node: 'n1', num4: 1 });
    expect(ipam.stats.conflicts).toBe(3);
    expect(ipam.stats.retries).toBe(3);
    expect(await invariantProblems(mem)).toEqual([]);
  });

  it('gives up with TooManyConflicts after the bounded retries, leaving nothing behind', async () => {
    const { ipam, ds, mem } = await setup({ init: { maxRetries: 4 } });
    await ipam.autoAssign({ handle: 'a', node: 'n1', num4: 1 });
    ds.conflictIf = (op, kind) => op === 'update' && kind === 'IPAMBlock';
    expect(await code(ipam.autoAssign({ handle: 'b', node: 'n1', num4: 1 }))).toBe('TooManyConflicts');
    ds.conflictIf = () => false;
    expect((await state(mem)).handles.map((h) => h.metadata.name)).toEqual(['a']);
    expect(await invariantProblems(mem)).toEqual([]);
  });
});
