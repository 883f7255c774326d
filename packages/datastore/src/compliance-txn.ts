/**
 * Compliance tests of `Datastore.txn` (part of the suite in compliance.ts, which registers
 * them). A backend without `txn` (Kubernetes) skips them. What they pin down: all ops or none,
 * the failing op named by its error's code and `details`, one revision for all the writes, and
 * no lost update between concurrent transactions.
 */
import { expect, it } from 'vitest';
import type { Resource } from '@tabby/api';
import { isDatastoreError } from './errors.js';
import type { Datastore, DatastoreErrorCode, TxnOp } from './types.js';

const item = (kind: string, name: string, n: number, resourceVersion?: string): Resource => ({
  apiVersion: 'tabby.dev/v1',
  kind,
  metadata: { name, ...(resourceVersion ? { resourceVersion } : {}) },
  spec: { n },
});

const nOf = (r: Resource): number => (r.spec as { n: number }).n;

/** The error `p` rejects with, which must be a datastore error of `code` naming `name`. */
async function expectFailure(p: Promise<unknown>, code: DatastoreErrorCode, name: string): Promise<void> {
  let caught: unknown;
  try {
    await p;
  } catch (e: unknown) {
    caught = e;
  }
  expect(caught, `expected a ${code} error`).toBeDefined();
  if (!isDatastoreError(caught, code)) throw caught;
  expect(caught.details['name']).toBe(name);
}

/** Registers the txn tests; `store` returns the test's fresh store. */
export function txnTests(store: () => Datastore): void {
  it('txn applies creates, updates and deletes atomically at one revision', async (ctx) => {
    const ds = store();
    if (!ds.txn) return ctx.skip();
    const a = await ds.create(item('IPAMBlock', 'a', 1));
    const b = await ds.create(item('IPAMHandle', 'b', 2));
    const out = await ds.txn([
      { op: 'create', obj: item('IPAMHandle', 'c', 3) },
      { op: 'update', obj: { ...a, spec: { n: 10 } } },
      { op: 'delete', key: { kind: 'IPAMHandle', name: 'b' }, resourceVersion: b.metadata.resourceVersion! },
    ]);
    expect(out.map(nOf)).toEqual([3, 10, 2]);
    expect(out[0]!.metadata.resourceVersion).toBe(out[1]!.metadata.resourceVersion);
    const got = await ds.get({ kind: 'IPAMBlock', name: 'a' });
    expect(nOf(got)).toBe(10);
    expect(got.metadata.resourceVersion).toBe(out[1]!.metadata.resourceVersion);
    expect(nOf(await ds.get({ kind: 'IPAMHandle', name: 'c' }))).toBe(3);
    expect((await ds.list({ kind: 'IPAMHandle' })).items.map((r) => r.metadata.name)).toEqual(['c']);
  });

  it('txn writes nothing and names the op when one condition fails', async (ctx) => {
    const ds = store();
    if (!ds.txn) return ctx.skip();
    const a = await ds.create(item('IPAMBlock', 'a', 1));
    const stale = a.metadata.resourceVersion!;
    const a2 = await ds.update({ ...a, spec: { n: 2 } });
    await ds.create(item('IPAMHandle', 'taken', 0));
    const before = (await ds.list({ kind: 'IPAMHandle' })).revision;
    const fresh: TxnOp = { op: 'create', obj: item('IPAMHandle', 'fresh', 1) };
    await expectFailure(ds.txn([fresh, { op: 'update', obj: { ...a2, metadata: { ...a2.metadata, resourceVersion: stale } } }]), 'Conflict', 'a');
    await expectFailure(ds.txn([fresh, { op: 'create', obj: item('IPAMHandle', 'taken', 1) }]), 'AlreadyExists', 'taken');
    await expectFailure(ds.txn([fresh, { op: 'update', obj: item('IPAMBlock', 'missing', 1) }]), 'NotFound', 'missing');
    await expectFailure(ds.txn([fresh, { op: 'delete', key: { kind: 'IPAMBlock', name: 'a' }, resourceVersion: stale }]), 'Conflict', 'a');
    const after = await ds.list({ kind: 'IPAMHandle' });
    expect(after.items.map((r) => r.metadata.name)).toEqual(['taken']);
    expect(after.revision).toBe(before);
    expect(nOf(await ds.get({ kind: 'IPAMBlock', name: 'a' }))).toBe(2);
    await expectFailure(ds.txn([fresh, fresh]), 'Invalid', 'fresh');
  });

  it('concurrent transactions over two keys lose no update', async (ctx) => {
    const ds = store();
    if (!ds.txn) return ctx.skip();
    await ds.create(item('IPAMBlock', 'x', 0));
    await ds.create(item('IPAMHandle', 'y', 0));
    const writer = async (): Promise<number> => {
      let conflicts = 0;
      for (let done = 0; done < 5; ) {
        const [x, y] = await Promise.all([ds.get({ kind: 'IPAMBlock', name: 'x' }), ds.get({ kind: 'IPAMHandle', name: 'y' })]);
        try {
          await ds.txn!([{ op: 'update', obj: { ...x, spec: { n: nOf(x) + 1 } } }, { op: 'update', obj: { ...y, spec: { n: nOf(y) + 1 } } }]);
          done++;
        } catch (e: unknown) {
          if (!isDatastoreError(e, 'Conflict')) throw e;
          conflicts++;
        }
      }
      return conflicts;
    };
    await Promise.all(Array.from({ length: 6 }, writer));
    expect(nOf(await ds.get({ kind: 'IPAMBlock', name: 'x' }))).toBe(30);
    expect(nOf(await ds.get({ kind: 'IPAMHandle', name: 'y' }))).toBe(30);
  });
}
