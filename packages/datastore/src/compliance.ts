/**
 * The datastore compliance suite: the one set of expectations every backend must meet, run by
 * each backend's test file (`runComplianceSuite('etcd', factory)`). It imports vitest, so it is
 * published as the separate entry `@tabby/datastore/compliance`, never from the main index.
 *
 * The factory is called before every test and must return an empty, isolated store (a fresh
 * key prefix or a fresh server); `compact`, when given, drops all history up to now (etcd
 * compaction, a test API server forgetting its event log), enabling the "history gone" test.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Resource } from '@tabby/api';
import { txnTests } from './compliance-txn.js';
import { isDatastoreError } from './errors.js';
import type { Datastore, DatastoreErrorCode, WatchEvent } from './types.js';

/** What a backend's factory hands to the suite. */
export interface ComplianceHarness {
  store: Datastore;
  /** Compacts away all history up to the current revision. */
  compact?: () => Promise<void>;
  close(): Promise<void>;
}

/** Concurrent read-modify-write writers in the concurrency test. */
const WRITERS = 8;
/** Successful increments each writer makes. */
const INCREMENTS = 5;
/** Deadline for one awaited watch event. */
const EVENT_TIMEOUT = 10_000;

const pool = (name: string, cidr = '10.0.0.0/16'): Resource => ({
  apiVersion: 'tabby.dev/v1',
  kind: 'IPPool',
  metadata: { name, labels: { tier: 'test' } },
  spec: { cidr, blockSize: 26 },
});

const wep = (namespace: string, name: string): Resource => ({
  apiVersion: 'tabby.dev/v1',
  kind: 'WorkloadEndpoint',
  metadata: { name, namespace },
  spec: { node: 'n1', pod: name },
});

const counter = (name: string, count: number, resourceVersion?: string): Resource => ({
  apiVersion: 'tabby.dev/v1',
  kind: 'IPAMHandle',
  metadata: { name, ...(resourceVersion ? { resourceVersion } : {}) },
  spec: { handleID: name, block: { count } },
});

const countOf = (r: Resource): number => (r.spec as { block: { count: number } }).block.count;

/** Expects `p` to reject with a datastore error of `code`. */
async function expectCode(p: Promise<unknown>, code: DatastoreErrorCode): Promise<void> {
  let caught: unknown;
  try {
    await p;
  } catch (e: unknown) {
    caught = e;
  }
  expect(caught, `expected a ${code} error`).toBeDefined();
  if (!isDatastoreError(caught, code)) throw caught;
}

/** Pulls the next event, failing after a deadline (never a fixed sleep). */
async function nextEvent<R extends Resource>(it: AsyncIterator<WatchEvent<R>>): Promise<IteratorResult<WatchEvent<R>>> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no watch event within ${EVENT_TIMEOUT} ms`)), EVENT_TIMEOUT);
  });
  try {
    return await Promise.race([it.next(), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Takes `n` change events (bookmarks skipped) from a watch. */
async function take<R extends Resource>(it: AsyncIterator<WatchEvent<R>>, n: number): Promise<WatchEvent<R>[]> {
  const out: WatchEvent<R>[] = [];
  while (out.length < n) {
    const r = await nextEvent(it);
    if (r.done) throw new Error(`watch ended after ${out.length} of ${n} events`);
    if (r.value.type !== 'bookmark') out.push(r.value);
  }
  return out;
}

/** A compact description of change events: `added:a`, `deleted:b`, ... */
const summary = (evs: WatchEvent[]): string[] =>
  evs.map((e) => (e.type === 'gone' || e.type === 'bookmark' ? e.type : `${e.type}:${e.object.metadata.name}`));

/** Registers the compliance tests for one backend under `describe(name)`. */
export function runComplianceSuite(name: string, factory: () => Promise<ComplianceHarness>): void {
  describe(`datastore compliance: ${name}`, () => {
    let h: ComplianceHarness;
    let ds: Datastore;
    beforeEach(async () => {
      h = await factory();
      ds = h.store;
    });
    afterEach(async () => {
      await h?.close();
    });

    crudTests(() => ds);
    listTests(() => ds);
    watchTests(() => ds, () => h);
    concurrencyTests(() => ds);
    txnTests(() => ds);
  });
}

function crudTests(store: () => Datastore): void {
  it('creates, gets, updates and deletes', async () => {
    const ds = store();
    const created = await ds.create(pool('p1'));
    expect(created.metadata.resourceVersion).toBeTruthy();
    expect(created.spec).toEqual({ cidr: '10.0.0.0/16', blockSize: 26 });
    const got = await ds.get({ kind: 'IPPool', name: 'p1' });
    expect(got.metadata.name).toBe('p1');
    expect(got.metadata.labels).toEqual({ tier: 'test' });
    expect(got.metadata.resourceVersion).toBe(created.metadata.resourceVersion);
    expect(got.spec).toEqual(created.spec);

    const upd = await ds.update({ ...got, spec: { cidr: '10.0.0.0/16', blockSize: 28 } });
    expect(upd.metadata.resourceVersion).not.toBe(created.metadata.resourceVersion);
    expect((await ds.get({ kind: 'IPPool', name: 'p1' })).spec).toEqual({ cidr: '10.0.0.0/16', blockSize: 28 });

    // Without a resourceVersion, update is unconditional.
    const meta = { ...upd.metadata };
    delete meta.resourceVersion;
    const blind = await ds.update({ ...upd, metadata: meta, spec: { cidr: '10.0.0.0/16', blockSize: 29 } });
    expect(blind.spec).toEqual({ cidr: '10.0.0.0/16', blockSize: 29 });

    const deleted = await ds.delete({ kind: 'IPPool', name: 'p1' });
    expect(deleted.metadata.name).toBe('p1');
    await expectCode(ds.get({ kind: 'IPPool', name: 'p1' }), 'NotFound');
  });

  it('returns copies: mutating a returned object changes nothing stored', async () => {
    const ds = store();
    const created = await ds.create(pool('p1'));
    created.metadata.labels!['tier'] = 'mutated';
    (created.spec as { cidr: string }).cidr = 'mutated';
    const got = await ds.get({ kind: 'IPPool', name: 'p1' });
    expect(got.metadata.labels).toEqual({ tier: 'test' });
    expect(got.spec).toEqual({ cidr: '10.0.0.0/16', blockSize: 26 });
  });

  it('fails with Aborted when the signal has already fired', async () => {
    const ds = store();
    const signal = AbortSignal.abort();
    await expectCode(ds.get({ kind: 'IPPool', name: 'p1' }, { signal }), 'Aborted');
    await expectCode(ds.create(pool('p1'), { signal }), 'Aborted');
    await expectCode(ds.list({ kind: 'IPPool', signal }), 'Aborted');
    await expectCode(ds.get({ kind: 'IPPool', name: 'p1' }), 'NotFound');
  });

  it('fails create with AlreadyExists when the key is taken', async () => {
    const ds = store();
    await ds.create(pool('p1'));
    await expectCode(ds.create(pool('p1', '10.9.0.0/16')), 'AlreadyExists');
    expect((await ds.get({ kind: 'IPPool', name: 'p1' })).spec).toEqual({ cidr: '10.0.0.0/16', blockSize: 26 });
    await ds.create(wep('ns1', 'w'));
    await ds.create(wep('ns2', 'w')); // same name, other namespace: another key
    await expectCode(ds.create(wep('ns1', 'w')), 'AlreadyExists');
  });

  it('fails get, update and delete of a missing resource with NotFound', async () => {
    const ds = store();
    await expectCode(ds.get({ kind: 'IPPool', name: 'nope' }), 'NotFound');
    await expectCode(ds.update(pool('nope')), 'NotFound');
    await expectCode(ds.delete({ kind: 'IPPool', name: 'nope' }), 'NotFound');
    await expectCode(ds.get({ kind: 'WorkloadEndpoint', namespace: 'ns1', name: 'nope' }), 'NotFound');
  });

  it('fails update and delete on a stale revision with Conflict', async () => {
    const ds = store();
    const v1 = await ds.create(pool('p1'));
    const v2 = await ds.update({ ...v1, spec: { cidr: '10.0.0.0/16', blockSize: 27 } });
    await expectCode(ds.update({ ...v1, spec: { cidr: '10.0.0.0/16', blockSize: 30 } }), 'Conflict');
    await expectCode(ds.delete({ kind: 'IPPool', name: 'p1' }, { resourceVersion: v1.metadata.resourceVersion! }), 'Conflict');
    expect((await ds.get({ kind: 'IPPool', name: 'p1' })).spec).toEqual({ cidr: '10.0.0.0/16', blockSize: 27 });
    await ds.delete({ kind: 'IPPool', name: 'p1' }, { resourceVersion: v2.metadata.resourceVersion! });
    await expectCode(ds.get({ kind: 'IPPool', name: 'p1' }), 'NotFound');
  });
}

function listTests(store: () => Datastore): void {
  it('lists by kind, and by namespace for namespaced kinds, with a revision', async () => {
    const ds = store();
    const empty = await ds.list({ kind: 'IPPool' });
    expect(empty.items).toEqual([]);
    expect(empty.revision).toBeTruthy();
    await ds.create(pool('b'));
    await ds.create(pool('a'));
    await ds.create(wep('ns1', 'w1'));
    await ds.create(wep('ns1', 'w2'));
    await ds.create(wep('ns2', 'w1'));
    const pools = await ds.list({ kind: 'IPPool' });
    expect(pools.items.map((p) => p.metadata.name)).toEqual(['a', 'b']);
    expect(pools.items.every((p) => p.kind === 'IPPool' && p.metadata.resourceVersion)).toBe(true);
    expect(pools.revision).toBeTruthy();
    const ns1 = await ds.list({ kind: 'WorkloadEndpoint', namespace: 'ns1' });
    expect(ns1.items.map((w) => `${w.metadata.namespace}/${w.metadata.name}`)).toEqual(['ns1/w1', 'ns1/w2']);
    const all = await ds.list({ kind: 'WorkloadEndpoint' });
    expect(all.items.map((w) => `${w.metadata.namespace}/${w.metadata.name}`)).toEqual(['ns1/w1', 'ns1/w2', 'ns2/w1']);
    expect((await ds.list({ kind: 'WorkloadEndpoint', namespace: 'ns3' })).items).toEqual([]);
    expect((await ds.list({ kind: 'BGPPeer' })).items).toEqual([]);
    // A namespace means nothing to a cluster-scoped kind: it is ignored.
    expect((await ds.list({ kind: 'IPPool', namespace: 'ns1' })).items.map((p) => p.metadata.name)).toEqual(['a', 'b']);
  });
}

function watchTests(store: () => Datastore, harness: () => ComplianceHarness): void {
  it('watch delivers added, modified and deleted in write order', async () => {
    const ds = store();
    const { revision } = await ds.list({ kind: 'IPPool' });
    const ac = new AbortController();
    const it0 = ds.watch({ kind: 'IPPool', revision, signal: ac.signal })[Symbol.asyncIterator]();
    const a = await ds.create(pool('a'));
    await ds.create(wep('ns1', 'other-kind'));
    const b = await ds.create(pool('b'));
    const a2 = await ds.update({ ...a, spec: { cidr: '10.0.0.0/16', blockSize: 30 } });
    await ds.delete({ kind: 'IPPool', name: 'b' });
    const evs = await take(it0, 4);
    ac.abort();
    expect(summary(evs)).toEqual(['added:a', 'added:b', 'modified:a', 'deleted:b']);
    expect(evs[0]!.revision).toBe(a.metadata.resourceVersion);
    expect(evs[1]!.revision).toBe(b.metadata.resourceVersion);
    expect(evs[2]!.revision).toBe(a2.metadata.resourceVersion);
    const mod = evs[2]!;
    expect(mod.type === 'modified' && mod.object.spec).toEqual({ cidr: '10.0.0.0/16', blockSize: 30 });
  });

  it('watch filters by namespace', async () => {
    const ds = store();
    const { revision } = await ds.list({ kind: 'WorkloadEndpoint', namespace: 'ns1' });
    const ac = new AbortController();
    const it0 = ds.watch({ kind: 'WorkloadEndpoint', namespace: 'ns1', revision, signal: ac.signal })[Symbol.asyncIterator]();
    await ds.create(wep('ns2', 'x'));
    await ds.create(wep('ns1', 'y'));
    await ds.create(wep('ns2', 'z'));
    await ds.create(wep('ns1', 'w'));
    const evs = await take(it0, 2);
    ac.abort();
    expect(summary(evs)).toEqual(['added:y', 'added:w']);
  });

  it('resumes from a revision without losing or repeating an event', async () => {
    const ds = store();
    const { revision } = await ds.list({ kind: 'IPPool' });
    for (const n of ['a', 'b', 'c']) await ds.create(pool(n));
    const ac1 = new AbortController();
    const first = await take(ds.watch({ kind: 'IPPool', revision, signal: ac1.signal })[Symbol.asyncIterator](), 2);
    ac1.abort();
    expect(summary(first)).toEqual(['added:a', 'added:b']);
    await ds.delete({ kind: 'IPPool', name: 'a' });
    await ds.create(pool('d'));
    const ac2 = new AbortController();
    const rest = await take(ds.watch({ kind: 'IPPool', revision: first[1]!.revision, signal: ac2.signal })[Symbol.asyncIterator](), 3);
    ac2.abort();
    expect(summary(rest)).toEqual(['added:c', 'deleted:a', 'added:d']);
  });

  it('says gone when the history to resume from was compacted', async (ctx) => {
    const h = harness();
    if (!h.compact) return ctx.skip();
    const ds = store();
    const { revision } = await ds.list({ kind: 'IPPool' });
    const a = await ds.create(pool('a'));
    await ds.update({ ...a, spec: { cidr: '10.0.0.0/16', blockSize: 30 } });
    await ds.create(pool('b'));
    await h.compact();
    const ac = new AbortController();
    const it0 = ds.watch({ kind: 'IPPool', revision, signal: ac.signal })[Symbol.asyncIterator]();
    const evs = await take(it0, 1);
    expect(evs[0]!.type).toBe('gone');
    const end = await nextEvent(it0);
    expect(end.done).toBe(true);
    ac.abort();
    // After a re-list, a watch from the list's revision works again.
    const relist = await ds.list({ kind: 'IPPool' });
    expect(relist.items.map((p) => p.metadata.name)).toEqual(['a', 'b']);
    const ac2 = new AbortController();
    const it1 = ds.watch({ kind: 'IPPool', revision: relist.revision, signal: ac2.signal })[Symbol.asyncIterator]();
    await ds.create(pool('c'));
    expect(summary(await take(it1, 1))).toEqual(['added:c']);
    ac2.abort();
  });

  it('closes a watch when its AbortSignal fires', async () => {
    const ds = store();
    const { revision } = await ds.list({ kind: 'IPPool' });
    const ac = new AbortController();
    const it0 = ds.watch({ kind: 'IPPool', revision, signal: ac.signal })[Symbol.asyncIterator]();
    await ds.create(pool('a'));
    expect(summary(await take(it0, 1))).toEqual(['added:a']);
    const pending = nextEvent(it0);
    ac.abort();
    expect((await pending).done).toBe(true);
    // An already-aborted signal yields nothing.
    const seen: WatchEvent[] = [];
    for await (const ev of ds.watch({ kind: 'IPPool', revision, signal: ac.signal })) seen.push(ev);
    expect(seen).toEqual([]);
  });
}

function concurrencyTests(store: () => Datastore): void {
  it(`${WRITERS} concurrent read-modify-write writers lose no update`, async () => {
    const ds = store();
    const created = await ds.create(counter('ctr', 0));
    const ac = new AbortController();
    const it0 = ds.watch({ kind: 'IPAMHandle', revision: created.metadata.resourceVersion!, signal: ac.signal })[
      Symbol.asyncIterator
    ]();
    let successes = 0;
    let conflicts = 0;
    const writer = async (): Promise<void> => {
      for (let done = 0; done < INCREMENTS; ) {
        const cur = await ds.get({ kind: 'IPAMHandle', name: 'ctr' });
        try {
          await ds.update(counter('ctr', countOf(cur) + 1, cur.metadata.resourceVersion));
          successes++;
          done++;
        } catch (e: unknown) {
          if (!isDatastoreError(e, 'Conflict')) throw e;
          conflicts++;
        }
      }
    };
    await Promise.all(Array.from({ length: WRITERS }, writer));
    const final = await ds.get({ kind: 'IPAMHandle', name: 'ctr' });
    expect(successes).toBe(WRITERS * INCREMENTS);
    expect(countOf(final)).toBe(successes);
    const evs = await take(it0, successes);
    ac.abort();
    expect(evs.map((e) => (e.type === 'modified' ? countOf(e.object) : -1))).toEqual(
      Array.from({ length: successes }, (_, i) => i + 1),
    );
    expect(conflicts).toBeGreaterThanOrEqual(0);
  });
}
