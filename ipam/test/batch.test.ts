import { describe, expect, it } from 'vitest';
import { API_VERSION } from '@tabby/api';
import { invariantProblems, setup } from './helpers.js';

describe('coalescing concurrent allocations of one node (datastore txn)', () => {
  it('serves requests queued behind each other with fewer transactions, each its own address and handle', async () => {
    const { ipam, ds, mem } = await setup({ txn: true });
    await ipam.autoAssign({ handle: 'first', node: 'n1', num4: 1 }); // claims the block
    const before = ds.txns;
    const rs = await Promise.all(Array.from({ length: 12 }, (_, i) => ipam.autoAssign({ handle: `h${i}`, node: 'n1', num4: 1, attrs: { pod: `p${i}` } })));
    const ips = rs.flatMap((r) => r.ipv4);
    expect(new Set(ips).size).toBe(12);
    expect(ds.txns - before).toBeLessThan(12);
    for (let i = 0; i < 12; i++) expect(await ipam.ipsByHandle(`h${i}`)).toEqual(rs[i]!.ipv4);
    expect(await invariantProblems(mem)).toEqual([]);
  });

  it('recovers when one handle of the batch already exists (it keeps its address), and when the block write conflicts', async () => {
    const { ipam, ds, mem } = await setup({ txn: true });
    const first = await ipam.autoAssign({ handle: 'h0', node: 'n1', num4: 1 }); // h0 exists now
    let n = 0;
    ds.conflictIf = (op, kind) => op === 'update' && kind === 'IPAMBlock' && n++ < 2;
    const rs = await Promise.all(['h0', 'h1', 'h2', 'h3'].map((h) => ipam.autoAssign({ handle: h, node: 'n1', num4: 1 })));
    ds.conflictIf = () => false;
    expect(new Set(rs.flatMap((r) => r.ipv4)).size).toBe(4);
    expect(rs[0]!.ipv4).toEqual(first.ipv4); // a retried request gets what the handle holds
    expect(await ipam.ipsByHandle('h0')).toEqual(first.ipv4);
    expect(await invariantProblems(mem)).toEqual([]);
  });

  it('a batch that does not fit the current block falls back to one request at a time', async () => {
    const { ipam, mem } = await setup({ txn: true });
    await ipam.autoAssign({ handle: 'big', node: 'n1', num4: 60 });
    const rs = await Promise.all(Array.from({ length: 8 }, (_, i) => ipam.autoAssign({ handle: `h${i}`, node: 'n1', num4: 1 })));
    expect(new Set(rs.flatMap((r) => r.ipv4)).size).toBe(8);
    expect((await ipam.blocksForNode('n1')).length).toBe(2);
    expect(await invariantProblems(mem)).toEqual([]);
  });

  it('a failure of the batch write fails every request of the batch, and nothing is written', async () => {
    const { ipam, ds, mem } = await setup({ txn: true, init: { maxRetries: 2 } });
    await ipam.autoAssign({ handle: 'first', node: 'n1', num4: 1 });
    const before = await mem.list({ kind: 'IPAMHandle' });
    ds.conflictIf = (op, kind) => kind === 'IPAMBlock';
    const rs = await Promise.allSettled(Array.from({ length: 4 }, (_, i) => ipam.autoAssign({ handle: `h${i}`, node: 'n1', num4: 1 })));
    ds.conflictIf = () => false;
    expect(rs.every((r) => r.status === 'rejected')).toBe(true);
    expect((await mem.list({ kind: 'IPAMHandle' })).items).toEqual(before.items);
    expect(await invariantProblems(mem)).toEqual([]);
    expect(API_VERSION).toBeTruthy();
  });
});

describe('concurrent releases in one block (a burst of CNI DELs)', () => {
  it.each([true, false])('queue per block instead of racing each other (txn %s): no conflict, every address freed', async (txn) => {
    const { ipam, mem } = await setup({ txn });
    const rs = await Promise.all(Array.from({ length: 20 }, (_, i) => ipam.autoAssign({ handle: `d${i}`, node: 'n1', num4: 1 })));
    expect(new Set(rs.flatMap((r) => r.ipv4)).size).toBe(20);
    const conflicts = ipam.stats.conflicts;
    const freed = await Promise.all(Array.from({ length: 20 }, (_, i) => ipam.releaseByHandle(`d${i}`)));
    expect(freed.flat().sort()).toEqual(rs.flatMap((r) => r.ipv4).sort());
    expect(ipam.stats.conflicts - conflicts).toBe(0);
    expect(await invariantProblems(mem)).toEqual([]);
  });
});
