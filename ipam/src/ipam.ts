/**
 * `Ipam`: the facade the node agent, the CNI plugin and tabbyctl use. It validates requests
 * (bad input is rejected before anything is written), reads pools, configuration and the node,
 * and delegates to the allocation, release, affinity and gc modules.
 *
 * Invariants (held by those modules, summarised): every datastore write is a create or a
 * compare-and-swap, retried a bounded number of times on Conflict, so no address is ever given
 * to two handles and none is lost; a dual-stack request gets both families or neither; a node
 * allocates from a block as its own only while its affinity is confirmed and the block names it.
 * Single-family requests for one node that queue up in this process are coalesced into one
 * atomic write when the datastore has `txn` (batch.ts).
 */
import {
  addressIndex,
  canonicalIp,
  formatIp,
  parseCidr,
  parseIp,
  parseSelector,
  selectorMatches,
  tryParseIp,
  type AllocationAttribute,
  type IPAMConfiguration,
  type IPAMConfigurationSpec,
  type Resource,
  type IPPool,
  type IpFamily,
  type Node,
  type Selector,
} from '@tabby/api';
import { claimBlock, releaseBlock, type ReleaseBlockResult } from './affinity.js';
import { allocateFamily, blockCidrOf, claimAhead, type FamilyRequest } from './allocate.js';
import { assignByHandle, type ServeFamily } from './assign.js';
import { Coalescer } from './batch.js';
import { allocateOrdinal, ATTR_NODE, ATTR_TIMESTAMP, ordinalsOfHandle } from './block.js';
import { buildReport, snapshot, type CheckReport, type LiveWorkload } from './check.js';
import { DEFAULT_CONFIG, DEFAULT_INIT, getBlock, hintsFor, getConfig, getOpt, isoNow, listAffinities, listBlocks, listPools, updateCas, withCas, type Ctx } from './context.js';
import { ipamError } from './errors.js';
import { runGc, type GcOptions, type GcResult } from './gc.js';
import { adjustHandle, getHandle } from './handles.js';
import { WatchCache } from './cache.js';
import { KeyedMutex } from './mutex.js';
import { affinityNode, ipipTunnelHandle, validateHandle, validateNode, vxlanTunnelHandle } from './names.js';
import { poolBlockSize, poolOf, selectPools, type SelectorMatcher } from './pools.js';
import { releaseByHandle, releaseIps, type ReleaseIpsResult } from './release.js';
import { systemClock, type AssignIpRequest, type AutoAssignRequest, type AutoAssignResult, type BlockOwner, type IpamComponents, type IpamInit, type IpamStats } from './types.js';
import { allocationsOf } from './check.js';

const silent = { debug: () => {}, info: () => {}, warn: () => {} };
const MAX_PER_REQUEST = 1024;

function validateCount(name: string, v: unknown): number {
  if (v === undefined) return 0;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > MAX_PER_REQUEST) {
    throw ipamError('InvalidRequest', `${name} must be an integer from 0 to ${MAX_PER_REQUEST}, got ${JSON.stringify(v)}`, { field: name });
  }
  return v;
}

/** IP address management over a datastore. */
export class Ipam {
  private readonly ctx: Ctx;
  private readonly selectors = new Map<string, Selector | null>();
  private readonly gcFirstSeen = new Map<string, number>();

  constructor(components: IpamComponents, init: IpamInit = {}) {
    this.ctx = {
      ds: components.datastore,
      clock: components.clock ?? systemClock,
      random: components.random ?? Math.random,
      log: components.logger ?? silent,
      metrics: components.metrics,
      opts: { ...DEFAULT_INIT, ...init },
      stats: { conflicts: 0, retries: 0, allocated: 0, released: 0, claims: 0 },
      hints: new Map(),
      blockCache: new Map(),
      releaseQueue: new KeyedMutex(),
      seen: new Map(),
    };
    this.coalescer = new Coalescer(this.ctx, this.perNode);
    if (this.ctx.opts.claimAhead) {
      this.ctx.onLowBlock = (node, family, pools, config) => this.claimAheadFor(node, family, pools, config);
      this.ctx.claimingAhead = (node, family) => this.background.get(`${node}/${family}`);
    }
  }

  private readonly background = new Map<string, Promise<void>>();

  private claimAheadFor(node: string, family: IpFamily, pools: IPPool[], config: IPAMConfigurationSpec): void {
    const key = `${node}/${family}`;
    if (this.background.has(key)) return;
    const p = claimAhead(this.ctx, node, family, pools, config)
      .catch((e: unknown) => this.ctx.log.warn({ node, err: e }, 'claiming a block ahead failed; the next allocation will claim one'))
      .finally(() => this.background.delete(key));
    this.background.set(key, p);
  }

  /** Resolves when background work (claim-ahead) has finished; call before closing the datastore. */
  async idle(): Promise<void> {
    while (this.background.size > 0) await Promise.all(this.background.values());
  }

  /** Contention and activity counters since construction. */
  get stats(): Readonly<IpamStats> {
    return this.ctx.stats;
  }

  private readonly matches: SelectorMatcher = (text, labels) => {
    let sel = this.selectors.get(text);
    if (sel === undefined) {
      try {
        sel = parseSelector(text);
      } catch (e: unknown) {
        this.ctx.log.warn({ selector: text, err: e }, 'ignoring a pool with an invalid selector');
        sel = null;
      }
      this.selectors.set(text, sel);
    }
    return sel !== null && selectorMatches(sel, labels);
  };

  private caches: { pools: WatchCache<IPPool>; config: WatchCache<IPAMConfiguration>; nodes: WatchCache<Node> } | undefined;
  private stopCaches: AbortController | undefined;
  private cacheRuns: Promise<void>[] = [];

  /**
   * Starts watch-fed caches of pools, the IPAM configuration and nodes (resolves once loaded),
   * so allocations read them from memory instead of the datastore; they lag the datastore by
   * the watch delay only. Without `start`, every request reads them, as Calico does.
   */
  async start(opts: { signal?: AbortSignal } = {}): Promise<void> {
    if (this.caches) return;
    const ac = new AbortController();
    opts.signal?.addEventListener('abort', () => ac.abort(), { once: true });
    const { ds, clock, log } = this.ctx;
    this.caches = { pools: new WatchCache(ds, 'IPPool', clock, log), config: new WatchCache(ds, 'IPAMConfiguration', clock, log), nodes: new WatchCache(ds, 'Node', clock, log) };
    this.stopCaches = ac;
    const all = Object.values(this.caches) as WatchCache<Resource>[];
    this.cacheRuns = all.map((c) => c.run(ac.signal));
    await Promise.all(all.map((c) => c.whenReady(ac.signal)));
  }

  /** Stops the caches and waits for background work (claim-ahead); call before closing the datastore. */
  async stop(): Promise<void> {
    this.stopCaches?.abort();
    await Promise.all(this.cacheRuns);
    this.caches = undefined;
    this.cacheRuns = [];
    await this.idle();
  }

  private pools(signal?: AbortSignal): Promise<IPPool[]> {
    const c = this.caches?.pools;
    return c?.ready ? Promise.resolve(c.list()) : listPools(this.ctx, signal);
  }

  private config(signal?: AbortSignal): Promise<IPAMConfigurationSpec> {
    const c = this.caches?.config;
    return c?.ready ? Promise.resolve({ ...DEFAULT_CONFIG, ...(c.get('default')?.spec ?? {}) }) : getConfig(this.ctx, signal);
  }

  private getNode(node: string, signal?: AbortSignal): Promise<Node> {
    const c = this.caches?.nodes;
    const n = c?.ready ? c.get(node) : undefined;
    // A node not (yet) in the cache is read from the datastore: it may have just been created.
    return n ? Promise.resolve(n) : this.readNode(node, signal);
  }

  private async readNode(node: string, signal?: AbortSignal): Promise<Node> {
    const n = await getOpt<Node>(this.ctx.ds, { kind: 'Node', name: node }, signal);
    if (!n) throw ipamError('NodeNotFound', `node "${node}" has no Node resource: register the node (tabby-node creates it at start) before allocating addresses for it`, { node });
    return n;
  }

  private attr(handle: string, node: string, attrs: Record<string, string> | undefined): AllocationAttribute {
    for (const [k, v] of Object.entries(attrs ?? {})) {
      if (typeof v !== 'string') throw ipamError('InvalidRequest', `attribute "${k}" must be a string`, { field: k });
    }
    return { handle_id: handle, secondary: { ...(attrs ?? {}), [ATTR_NODE]: node, [ATTR_TIMESTAMP]: isoNow(this.ctx) } };
  }

  /**
   * Assigns `num4` IPv4 and `num6` IPv6 addresses to `handle` on `node`: own blocks, then a
   * newly claimed block, then borrowed addresses. All-or-nothing across both families.
   */
  async autoAssign(req: AutoAssignRequest): Promise<AutoAssignResult> {
    return this.assign(req, () => true);
  }

  private readonly perNode = new KeyedMutex();
  private readonly coalescer: Coalescer;

  private async assign(req: AutoAssignRequest, poolFilter: (p: IPPool) => boolean): Promise<AutoAssignResult> {
    validateHandle(req.handle);
    validateNode(req.node);
    const num4 = validateCount('num4', req.num4);
    const num6 = validateCount('num6', req.num6);
    if (num4 + num6 === 0) throw ipamError('InvalidRequest', 'request at least one address (num4 or num6)', {});
    const use = req.use ?? 'Workload';
    const attr = this.attr(req.handle, req.node, req.attrs);
    const { signal } = req;
    const hint = (family: IpFamily, n: number): Promise<FamilyRequest['hint']> => {
      const cidr = n > 0 ? hintsFor(this.ctx, req.node, family)[0] : undefined;
      if (cidr === undefined) return Promise.resolve(undefined);
      const known = this.ctx.blockCache.get(cidr); // optimistic: our own last write of it
      return known ? Promise.resolve({ cidr, block: known }) : getBlock(this.ctx, cidr, signal).then((block) => ({ cidr, block }));
    };
    const [node, pools, config, hint4, hint6] = await Promise.all([
      this.getNode(req.node, signal), this.pools(signal), this.config(signal), hint(4, num4), hint(6, num6),
    ]);
    const nodeLabels = node.metadata.labels ?? {};
    const q = { use, node: req.node, nodeLabels, namespaceLabels: req.namespaceLabels };
    const p4 = num4 > 0 ? selectPools(pools.filter(poolFilter), { ...q, family: 4, explicit: req.pools4 }, this.matches) : [];
    const p6 = num6 > 0 ? selectPools(pools.filter(poolFilter), { ...q, family: 6, explicit: req.pools6 }, this.matches) : [];
    const base = { handle: req.handle, node: req.node, attr, config, signal };
    const plans = {
      v4: { ...base, family: 4 as const, n: num4, pools: p4, hint: hint4 },
      v6: { ...base, family: 6 as const, n: num6, pools: p6, hint: hint6 },
    };
    const family: ServeFamily = (fr, undo) => allocateFamily(this.ctx, fr, undo);
    return assignByHandle(this.ctx, plans, {
      // Single-family requests queue per node and are coalesced when the datastore has txn.
      single: (fr, undo) => (this.ctx.ds.txn ? this.coalescer.run({ fr, undo }) : this.perNode.run(req.node, () => family(fr, undo))),
      family,
      // One allocation per node at a time in this process: they would only race for the same block.
      locked: (run) => this.perNode.run(req.node, run),
    }, async (ips) => {
      await releaseIps(this.ctx, ips, req.handle, signal);
    });
  }

  /** Assigns one specific address (claiming its block for `node` if the block does not exist yet). */
  async assignIp(req: AssignIpRequest): Promise<string> {
    validateHandle(req.handle);
    validateNode(req.node);
    const ip = tryParseIp(req.ip);
    if (!ip) throw ipamError('InvalidRequest', `"${req.ip}" is not an IP address: pass an address without a prefix length`, { ip: req.ip });
    const attr = this.attr(req.handle, req.node, req.attrs);
    const { signal } = req;
    const [, pools, config] = await Promise.all([this.getNode(req.node, signal), this.pools(signal), this.config(signal)]);
    const pool = poolOf(pools, req.ip);
    if (!pool) throw ipamError('PoolNotFound', `${req.ip} is in no IP pool: create a pool that contains it, or pick an address from an existing pool`, { ip: req.ip });
    if (pool.spec.disabled) throw ipamError('PoolDisabled', `${req.ip} is in pool "${pool.metadata.name}", which is disabled: enable the pool or pick another address`, { pool: pool.metadata.name });
    const cidr = blockCidrOf(pool, ip.family, ip.addr);
    if (!(await getBlock(this.ctx, cidr, signal))) await claimBlock(this.ctx, req.node, parseCidr(cidr), config.strictAffinity, signal);
    const ordinal = addressIndex(cidr, ip);
    const text = canonicalIp(req.ip);
    await adjustHandle(this.ctx, req.handle, cidr, 1, signal);
    let ok = false;
    try {
      await withCas(this.ctx, 'block', async () => {
        const b = await getBlock(this.ctx, cidr, signal);
        if (!b) throw ipamError('BlockNotFound', `the block ${cidr} of ${text} vanished while assigning; retry`, { ip: text });
        const spec = allocateOrdinal(b.spec, ordinal, attr);
        if (!spec) throw ipamError('AddressInUse', `${text} is already allocated (handle ${b.spec.attributes[b.spec.allocations[ordinal]!]?.handle_id ?? '?'}): release it first or pick another address`, { ip: text });
        await updateCas(this.ctx.ds, { ...b, spec }, signal);
      }, signal);
      ok = true;
    } finally {
      if (!ok) await adjustHandle(this.ctx, req.handle, cidr, -1, signal);
    }
    this.ctx.stats.allocated++;
    this.ctx.metrics?.allocated(1);
    return text;
  }

  /** Releases every address of `handle` (idempotent); returns the addresses freed. */
  async releaseByHandle(handle: string, opts: { signal?: AbortSignal } = {}): Promise<string[]> {
    validateHandle(handle);
    return releaseByHandle(this.ctx, handle, opts.signal);
  }

  /** Releases addresses (idempotent); with `handle`, only those it holds. */
  async releaseIps(ips: string[], opts: { handle?: string; signal?: AbortSignal } = {}): Promise<ReleaseIpsResult> {
    if (opts.handle !== undefined) validateHandle(opts.handle);
    return releaseIps(this.ctx, ips, opts.handle, opts.signal);
  }

  /** The addresses held by `handle`, in block order. */
  async ipsByHandle(handle: string, opts: { signal?: AbortSignal } = {}): Promise<string[]> {
    validateHandle(handle);
    const h = await getHandle(this.ctx, handle, opts.signal);
    const blocks = h
      ? (await Promise.all(Object.keys(h.spec.block).map((c) => getBlock(this.ctx, c, opts.signal)))).filter((b) => b !== undefined)
      : await listBlocks(this.ctx, opts.signal);
    return blocks.flatMap((b) => ordinalsOfHandle(b.spec, handle).map((o) => allocationsOf(b).find((a) => a.ordinal === o)!.ip));
  }

  /** Claims block `cidr` for `node`; BlockOwnedByOtherNode when another node holds it. */
  async claimAffinity(node: string, cidr: string, opts: { signal?: AbortSignal } = {}): Promise<void> {
    validateNode(node);
    const [, pools, config] = await Promise.all([this.getNode(node, opts.signal), this.pools(opts.signal), this.config(opts.signal)]);
    const c = this.blockCidr(pools, cidr);
    if (config.maxBlocksPerHost > 0) {
      const mine = (await listAffinities(this.ctx, opts.signal)).filter((a) => a.spec.node === node && a.spec.state !== 'pendingDeletion');
      if (!mine.some((a) => a.spec.cidr === c.text) && mine.length >= config.maxBlocksPerHost) {
        throw ipamError('MaxBlocksReached', `node "${node}" already holds ${mine.length} blocks (maxBlocksPerHost ${config.maxBlocksPerHost}): release one (releaseAffinity) or raise the limit in IPAMConfiguration`, { node, prefix: c.text });
      }
    }
    const r = await claimBlock(this.ctx, node, c, config.strictAffinity, opts.signal);
    if (r.kind === 'taken') throw ipamError('BlockOwnedByOtherNode', `block ${c.text} is affine to node "${r.owner ?? '?'}": pick another block or release it there first`, { prefix: c.text, owner: r.owner });
  }

  private blockCidr(pools: Awaited<ReturnType<typeof listPools>>, text: string): ReturnType<typeof parseCidr> {
    let c;
    try {
      c = parseCidr(text);
    } catch (e: unknown) {
      throw ipamError('InvalidRequest', `"${text}" is not a CIDR: pass a block such as 10.0.0.0/26`, { prefix: text }, e);
    }
    const pool = poolOf(pools, c.text.split('/')[0]!);
    if (!pool) throw ipamError('PoolNotFound', `${c.text} is in no IP pool: create the pool first`, { prefix: c.text });
    if (c.prefixLen !== poolBlockSize(pool)) throw ipamError('InvalidRequest', `${c.text} is not a block of pool "${pool.metadata.name}" (block size /${poolBlockSize(pool)})`, { prefix: c.text });
    return c;
  }

  /** Releases `node`'s affinity to block `cidr` (deleting the block when empty). */
  async releaseAffinity(node: string, cidr: string, opts: { requireEmpty?: boolean; signal?: AbortSignal } = {}): Promise<ReleaseBlockResult> {
    validateNode(node);
    const c = parseCidr(cidr);
    return releaseBlock(this.ctx, node, c.text, opts.requireEmpty ?? true, opts.signal);
  }

  /**
   * The node's tunnel address for an encapsulation (`ipip-tunnel-addr-<node>` /
   * `vxlan-tunnel-addr-<node>`), allocated on first call from a pool that selects the node,
   * allows Tunnel use and has that encapsulation on (`ipipMode` / `vxlanMode` not Never).
   */
  async tunnelAddress(node: string, encap: 'ipip' | 'vxlan', opts: { family?: IpFamily; signal?: AbortSignal } = {}): Promise<string> {
    validateNode(node);
    const family = opts.family ?? 4;
    if (encap === 'ipip' && family !== 4) throw ipamError('InvalidRequest', 'IPIP tunnels are IPv4 only: use vxlan for IPv6', { node });
    const handle = encap === 'ipip' ? ipipTunnelHandle(node) : vxlanTunnelHandle(node, family);
    const have = await this.ipsByHandle(handle, opts);
    if (have.length > 0) return have[0]!;
    // As calico-node does: only pools that encapsulate this way need (and give) tunnel addresses.
    const encapsulates = (p: IPPool): boolean => (encap === 'ipip' ? p.spec.ipipMode : p.spec.vxlanMode) !== 'Never' && !!(encap === 'ipip' ? p.spec.ipipMode : p.spec.vxlanMode);
    await this.assign({ handle, node, num4: family === 4 ? 1 : 0, num6: family === 6 ? 1 : 0, use: 'Tunnel', signal: opts.signal }, encapsulates);
    // Two concurrent first calls may both allocate: keep the lowest, release the rest.
    const all = (await this.ipsByHandle(handle, opts)).map((a) => parseIp(a)).sort((a, b) => (a.addr < b.addr ? -1 : 1));
    const [keep, ...extra] = all.map((a) => formatIp(a.family, a.addr));
    if (extra.length > 0) await releaseIps(this.ctx, extra, handle, opts.signal);
    if (keep === undefined) throw ipamError('PoolExhausted', `the tunnel address of node "${node}" was released concurrently; retry`, { node });
    return keep;
  }

  /** The report of leaks and inconsistencies (read-only). */
  async check(live: LiveWorkload[], opts: { signal?: AbortSignal } = {}): Promise<CheckReport> {
    return buildReport(await snapshot(this.ctx, opts.signal), live);
  }

  /** Releases leaked addresses and the blocks of deleted nodes (see gc.ts). */
  async gc(opts: GcOptions): Promise<GcResult> {
    return runGc(this.ctx, opts, this.gcFirstSeen);
  }

  /** CIDRs of the blocks affine to `node` (confirmed affinity). */
  async blocksForNode(node: string, opts: { signal?: AbortSignal } = {}): Promise<string[]> {
    return (await listAffinities(this.ctx, opts.signal))
      .filter((a) => a.spec.node === node && a.spec.state === 'confirmed')
      .map((a) => a.spec.cidr)
      .sort();
  }

  /** Every block with its owner and borrowed addresses (route blocks without BGP). */
  async allBlockOwners(opts: { signal?: AbortSignal } = {}): Promise<BlockOwner[]> {
    const [blocks, affinities] = await Promise.all([listBlocks(this.ctx, opts.signal), listAffinities(this.ctx, opts.signal)]);
    // Owned = the block names the node AND the node's affinity got past `pending` (a claim that
    // died between its steps owns nothing).
    const owned = new Set(affinities.filter((a) => a.spec.state !== 'pending').map((a) => `${a.spec.node}|${a.spec.cidr}`));
    return blocks.map((b) => {
      const named = affinityNode(b.spec.affinity);
      const node = named !== undefined && owned.has(`${named}|${b.spec.cidr}`) ? named : undefined;
      const borrowed = allocationsOf(b).filter((a) => a.node !== undefined && a.node !== node).map((a) => ({ ip: a.ip, node: a.node! }));
      return { cidr: b.spec.cidr, node, borrowed };
    });
  }
}
