/**
 * Test fixtures for IPAM: resources, a fake clock, a seeded random source, a datastore wrapper
 * that injects conflicts or "crashes" after chosen writes, and invariant checks over the
 * datastore's contents.
 */
import { API_VERSION, TabbyError, type BlockAffinity, type IPAMBlock, type IPAMHandle, type IPPool, type IPPoolSpec, type Node, type Resource } from '@tabby/api';
import type { Datastore, ListResult, ResourceKey, TxnOp, WatchEvent, WatchOptions } from '@tabby/datastore';
import { seeded } from '@tabby/testkit';
import { MemoryDatastore } from './ds.js';
import { affinityNode, allocationsOf, blockName, blockProblems, Ipam, type Clock, type IpamInit } from '@tabby/ipam';

export { seeded };

/** An IPPool with Calico's defaults. */
export function pool(name: string, cidr: string, spec: Partial<IPPoolSpec> = {}): IPPool {
  return {
    apiVersion: API_VERSION,
    kind: 'IPPool',
    metadata: { name },
    spec: {
      cidr,
      blockSize: cidr.includes(':') ? 122 : 26,
      ipipMode: 'Never',
      vxlanMode: 'Never',
      natOutgoing: false,
      disabled: false,
      disableBGPExport: false,
      nodeSelector: 'all()',
      allowedUses: ['Workload', 'Tunnel'],
      ...spec,
    },
  };
}

/** A Node resource. */
export function node(name: string, labels: Record<string, string> = {}): Node {
  return { apiVersion: API_VERSION, kind: 'Node', metadata: { name, labels }, spec: {} };
}

/** A controllable clock whose sleeps return at once (advancing time by the sleep). */
export function fakeClock(start = Date.parse('2026-01-01T00:00:00Z')): Clock & { advance(ms: number): void } {
  let t = start;
  return {
    now: () => t,
    sleep: async (ms) => {
      t += Math.ceil(ms);
      await new Promise((r) => setImmediate(r));
    },
    advance: (ms) => {
      t += ms;
    },
  };
}

/** Thrown by `FaultyDatastore` to simulate the writer dying right after a write. */
export class Crash extends Error {}

type WriteOp = 'create' | 'update' | 'delete';
/** Decides, for each write, whether to fail it with Conflict before it happens. */
export type ConflictRule = (op: WriteOp, kind: string) => boolean;
/** Decides, after each successful write, whether the writer "crashes" (throws Crash). */
export type CrashRule = (op: WriteOp, obj: Resource) => boolean;

/**
 * A datastore wrapper that injects Conflicts and crashes. With `txn: true` (and an inner store
 * that has it) it offers `txn` too: a conflict rule matching any op fails the whole transaction
 * before it happens, a crash rule matching any op fires after the whole transaction landed.
 * Without, it has no `txn`, like the Kubernetes backend.
 */
export class FaultyDatastore implements Datastore {
  conflictIf: ConflictRule = () => false;
  crashIf: CrashRule = () => false;
  writes = 0;
  txns = 0;
  /** Event-loop turns to yield before each call (interleaves concurrent callers). */
  jitter: () => number = () => 0;
  /** Awaited after each transaction landed (e.g. to kill etcd right then). */
  afterTxn: (ops: TxnOp[]) => Promise<void> = async () => undefined;
  /** Called with every error a call of the inner store throws. */
  onError: (e: unknown) => void = () => undefined;
  private async seen<T>(p: Promise<T>): Promise<T> {
    try {
      return await p;
    } catch (e: unknown) {
      this.onError(e);
      throw e;
    }
  }
  readonly txn?: (ops: TxnOp[], opts?: { signal?: AbortSignal }) => Promise<Resource[]>;
  constructor(readonly inner: Datastore, opts: { txn?: boolean } = {}) {
    const innerTxn = inner.txn?.bind(inner);
    if (opts.txn && innerTxn) this.txn = (ops, o) => this.runTxn(innerTxn, ops, o);
  }
  private async runTxn(innerTxn: NonNullable<Datastore['txn']>, ops: TxnOp[], opts?: { signal?: AbortSignal }): Promise<Resource[]> {
    await this.tick();
    for (const op of ops) {
      const key = op.op === 'delete' ? op.key : op.obj.metadata;
      const kind = op.op === 'delete' ? op.key.kind : op.obj.kind;
      if (this.conflictIf(op.op, kind)) throw new TabbyError('Conflict', `injected conflict on ${op.op} ${kind} in a txn`, { kind, name: key.name });
    }
    const out = await this.seen(innerTxn(ops, opts));
    await this.afterTxn(ops);
    this.txns++;
    this.writes += ops.length;
    ops.forEach((op, i) => {
      if (this.crashIf(op.op, out[i]!)) throw new Crash(`crashed after a txn with ${op.op} ${out[i]!.kind} ${out[i]!.metadata.name}`);
    });
    return out;
  }
  private async tick(): Promise<void> {
    for (let i = this.jitter(); i > 0; i--) await new Promise((r) => setImmediate(r));
  }
  async get<R extends Resource>(key: ResourceKey, opts?: { signal?: AbortSignal }): Promise<R> {
    await this.tick();
    return this.seen(this.inner.get<R>(key, opts));
  }
  async list<R extends Resource>(opts: { kind: string; namespace?: string; signal?: AbortSignal }): Promise<ListResult<R>> {
    await this.tick();
    return this.seen(this.inner.list<R>(opts));
  }
  private async before(op: WriteOp, kind: string): Promise<void> {
    await this.tick();
    if (this.conflictIf(op, kind)) throw new TabbyError('Conflict', `injected conflict on ${op} ${kind}`);
  }
  private after<R extends Resource>(op: WriteOp, obj: R): R {
    this.writes++;
    if (this.crashIf(op, obj)) throw new Crash(`crashed after ${op} ${obj.kind} ${obj.metadata.name}`);
    return obj;
  }
  async create<R extends Resource>(obj: R, opts?: { signal?: AbortSignal }): Promise<R> {
    await this.before('create', obj.kind);
    return this.after('create', await this.seen(this.inner.create(obj, opts)));
  }
  async update<R extends Resource>(obj: R, opts?: { signal?: AbortSignal }): Promise<R> {
    await this.before('update', obj.kind);
    return this.after('update', await this.seen(this.inner.update(obj, opts)));
  }
  async delete<R extends Resource>(key: ResourceKey, opts?: { resourceVersion?: string; signal?: AbortSignal }): Promise<R> {
    await this.before('delete', key.kind);
    return this.after('delete', await this.seen(this.inner.delete<R>(key, opts)));
  }
  watch<R extends Resource>(opts: WatchOptions): AsyncIterable<WatchEvent<R>> {
    return this.inner.watch<R>(opts);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

/**
 * Whether `setup` gives its datastore `txn` when not told: true (as etcd), unless a suite that
 * re-runs the others as on Kubernetes (fallback.test.ts) set `globalThis.ipamTestTxn = false`.
 */
export function defaultTxn(): boolean {
  return (globalThis as { ipamTestTxn?: boolean }).ipamTestTxn ?? true;
}

/** A memory datastore seeded with pools and nodes, and an Ipam on it. */
export async function setup(opts: { pools?: IPPool[]; nodes?: Node[]; init?: IpamInit; config?: Record<string, unknown>; txn?: boolean } = {}) {
  const mem = new MemoryDatastore();
  const ds = new FaultyDatastore(mem, { txn: opts.txn ?? defaultTxn() });
  for (const p of opts.pools ?? [pool('default-ipv4-ippool', '10.0.0.0/24')]) await mem.create(p);
  for (const n of opts.nodes ?? [node('n1'), node('n2'), node('n3')]) await mem.create(n);
  if (opts.config) await mem.create({ apiVersion: API_VERSION, kind: 'IPAMConfiguration', metadata: { name: 'default' }, spec: opts.config });
  const clock = fakeClock();
  // Claim-ahead off by default here, so tests see exactly the claims the rules make.
  const init: IpamInit = { claimAhead: false, ...opts.init };
  const ipam = new Ipam({ datastore: ds, clock, random: seeded(1) }, init);
  return { mem, ds, clock, ipam, mk: (i?: IpamInit) => new Ipam({ datastore: ds, clock, random: seeded(2) }, { ...init, ...i }) };
}

/** Everything IPAM-related in the datastore, for "nothing written" comparisons. */
export async function dump(ds: Datastore): Promise<string> {
  const out: Resource[] = [];
  for (const kind of ['IPAMBlock', 'BlockAffinity', 'IPAMHandle']) out.push(...(await ds.list({ kind })).items);
  return JSON.stringify(out);
}

/** Blocks, affinities and handles. */
export async function state(ds: Datastore): Promise<{ blocks: IPAMBlock[]; affinities: BlockAffinity[]; handles: IPAMHandle[] }> {
  return {
    blocks: (await ds.list<IPAMBlock>({ kind: 'IPAMBlock' })).items,
    affinities: (await ds.list<BlockAffinity>({ kind: 'BlockAffinity' })).items,
    handles: (await ds.list<IPAMHandle>({ kind: 'IPAMHandle' })).items,
  };
}

/**
 * The global invariants: blocks well formed; every address held by at most one handle (a
 * block's ordinal holds one handle by construction, and blocks never overlap); each block's
 * confirmed affinities name at most one node, the one in the block; handle counts equal the
 * allocations found. Returns the problems found.
 */
export async function invariantProblems(ds: Datastore, opts: { exactHandles?: boolean } = {}): Promise<string[]> {
  const s = await state(ds);
  const out: string[] = [];
  for (const b of s.blocks) {
    for (const p of blockProblems(b.spec)) out.push(`${b.spec.cidr}: ${p}`);
    if (b.metadata.name !== blockName(b.spec.cidr)) out.push(`block ${b.metadata.name} has cidr ${b.spec.cidr}`);
  }
  const seen = new Map<string, string>();
  const found = new Map<string, number>();
  for (const b of s.blocks) {
    for (const a of allocationsOf(b)) {
      const prev = seen.get(a.ip);
      if (prev !== undefined) out.push(`${a.ip} held by ${prev} and ${a.handle}`);
      seen.set(a.ip, a.handle ?? '?');
      const k = `${a.handle}|${b.spec.cidr}`;
      found.set(k, (found.get(k) ?? 0) + 1);
    }
    const confirmed = s.affinities.filter((a) => a.spec.cidr === b.spec.cidr && a.spec.state === 'confirmed');
    if (confirmed.length > 1) out.push(`${b.spec.cidr} confirmed for ${confirmed.map((a) => a.spec.node).join(', ')}`);
    for (const a of confirmed) if (affinityNode(b.spec.affinity) !== a.spec.node) out.push(`${b.spec.cidr} confirmed for ${a.spec.node} but block says ${b.spec.affinity}`);
  }
  for (const h of s.handles) {
    for (const [cidr, n] of Object.entries(h.spec.block)) {
      const f = found.get(`${h.spec.handleID}|${cidr}`) ?? 0;
      if (f > n || (opts.exactHandles !== false && f !== n)) out.push(`handle ${h.spec.handleID} counts ${n} in ${cidr}, blocks hold ${f}`);
      found.delete(`${h.spec.handleID}|${cidr}`);
    }
  }
  for (const [k, n] of found) out.push(`allocations ${k} (${n}) have no handle count`);
  return out;
}
