/**
 * `check`: a read-only report of IPAM's consistency against the live workloads the caller
 * knows of (Calico's `ipam check`). `gc` acts on it (gc.ts).
 *
 * An allocation is live when a live workload has its handle, its address, or its namespace and
 * pod; a tunnel address (`ipip-tunnel-addr-<node>`, `vxlan-tunnel-addr-<node>`) is live while
 * its node exists, or while the live list names it.
 */
import { canonicalIp, cidrContains, nthAddress, type IPAMBlock, type IPAMHandle, type BlockAffinity } from '@tabby/api';
import { AFFINITY_SINCE } from './affinity.js';
import { ATTR_NAMESPACE, ATTR_NODE, ATTR_POD, ATTR_TIMESTAMP, blockProblems } from './block.js';
import { listAffinities, listBlocks, listHandles, listNodes, listPools, type Ctx } from './context.js';
import { affinityNode, blockName } from './names.js';

/**
 * A workload the orchestrator says is running, named by its handle, its addresses, or its
 * namespace and pod (with the node, when known): any of them keeps its allocations.
 */
export interface LiveWorkload {
  handle?: string;
  ips?: string[];
  node?: string;
  namespace?: string;
  pod?: string;
}

/** One allocated address as found in a block. */
export interface AllocationInfo {
  ip: string;
  block: string;
  ordinal: number;
  handle: string | undefined;
  node: string | undefined;
  namespace: string | undefined;
  pod: string | undefined;
  /** RFC 3339 allocation time, when recorded. */
  timestamp: string | undefined;
  /** The block's sequence number of this allocation (changes when the address is reused). */
  sequence: number | undefined;
}

/** The report of `check`. */
export interface CheckReport {
  /** Allocated addresses with no live workload (candidates for gc). */
  leaked: AllocationInfo[];
  /** Addresses of live workloads that are not allocated (or allocated to another handle). */
  missing: { ip: string; workload: LiveWorkload; heldBy: string | undefined }[];
  /** Allocations in blocks outside every pool (the pool was deleted or shrunk). */
  outsidePools: AllocationInfo[];
  /** Handles that hold no address in any block (or count more than the blocks hold). */
  orphanHandles: { handle: string; counted: number; found: number; updated: string | undefined }[];
  /** Blocks affine to a node that no longer exists. */
  blocksOfGoneNodes: { cidr: string; node: string; empty: boolean }[];
  /** Affinity resources that are stale: node gone, block missing, block owned by another node. */
  staleAffinities: { cidr: string; node: string; state: string; reason: 'node-gone' | 'block-missing' | 'block-mismatch'; since: string | undefined }[];
  /** Blocks that violate the block invariants (should never happen). */
  corruptBlocks: { cidr: string; problems: string[] }[];
  /** Counts. */
  summary: { blocks: number; allocated: number; handles: number; nodes: number };
}

/** The tunnel handles of a node, live while it exists. */
export function tunnelHandleNode(handle: string | undefined): string | undefined {
  const m = handle?.match(/^(?:ipip-tunnel-addr|vxlan-tunnel-addr|vxlan-v6-tunnel-addr)-(.+)$/);
  return m?.[1];
}

/** Every allocation of a block. */
export function allocationsOf(b: IPAMBlock): AllocationInfo[] {
  const out: AllocationInfo[] = [];
  b.spec.allocations.forEach((idx, ordinal) => {
    if (idx === null) return;
    const attr = b.spec.attributes[idx];
    const sec = attr?.secondary ?? {};
    out.push({
      ip: nthAddress(b.spec.cidr, ordinal),
      block: b.spec.cidr,
      ordinal,
      handle: attr?.handle_id,
      node: sec[ATTR_NODE],
      namespace: sec[ATTR_NAMESPACE],
      pod: sec[ATTR_POD],
      timestamp: sec[ATTR_TIMESTAMP],
      sequence: b.spec.sequenceNumberForAllocation?.[String(ordinal)],
    });
  });
  return out;
}

/** The datastore state `check` reads, in one place (also used by gc). */
export interface IpamSnapshot {
  blocks: IPAMBlock[];
  affinities: BlockAffinity[];
  handles: IPAMHandle[];
  nodes: Set<string>;
  poolCidrs: string[];
}

/** Reads everything `check` needs. */
export async function snapshot(ctx: Ctx, signal?: AbortSignal): Promise<IpamSnapshot> {
  const [blocks, affinities, handles, nodes, pools] = await Promise.all([
    listBlocks(ctx, signal), listAffinities(ctx, signal), listHandles(ctx, signal), listNodes(ctx, signal), listPools(ctx, signal),
  ]);
  return { blocks, affinities, handles, nodes: new Set(nodes.map((n) => n.metadata.name)), poolCidrs: pools.map((p) => p.spec.cidr) };
}

/** The live workloads by handle, by address, and by `<namespace>/<pod>` (with their nodes, when given). */
export function liveIndex(live: LiveWorkload[]): { handles: Set<string>; ips: Map<string, LiveWorkload>; pods: Map<string, Set<string | undefined>> } {
  const handles = new Set<string>();
  const ips = new Map<string, LiveWorkload>();
  const pods = new Map<string, Set<string | undefined>>();
  for (const w of live) {
    if (w.handle) handles.add(w.handle);
    for (const ip of w.ips ?? []) ips.set(canonicalIp(ip.split('/')[0]!), w);
    if (w.namespace !== undefined && w.pod !== undefined) {
      const k = `${w.namespace}/${w.pod}`;
      pods.set(k, (pods.get(k) ?? new Set()).add(w.node));
    }
  }
  return { handles, ips, pods };
}

/**
 * True when an allocation belongs to a live workload — named by handle, address, or namespace
 * and pod (on the same node, when the workload names one) — or is the tunnel address of a node
 * that exists. The live list always wins: a tunnel address it names stays, even with its Node gone.
 */
export function isLive(a: AllocationInfo, idx: ReturnType<typeof liveIndex>, nodes: Set<string>): boolean {
  if (a.handle !== undefined && idx.handles.has(a.handle)) return true;
  if (idx.ips.has(a.ip)) return true;
  if (a.namespace !== undefined && a.pod !== undefined) {
    const onNodes = idx.pods.get(`${a.namespace}/${a.pod}`);
    if (onNodes && (onNodes.has(undefined) || onNodes.has(a.node))) return true;
  }
  const tn = tunnelHandleNode(a.handle);
  return tn !== undefined && nodes.has(tn);
}

function inAnyPool(cidrs: string[], block: string): boolean {
  return cidrs.some((p) => {
    try {
      return cidrContains(p, block);
    } catch {
      return false;
    }
  });
}

/** Builds the report from a snapshot (pure). */
export function buildReport(s: IpamSnapshot, live: LiveWorkload[]): CheckReport {
  const idx = liveIndex(live);
  const all = s.blocks.flatMap(allocationsOf);
  const byIp = new Map(all.map((a) => [a.ip, a]));
  const missing: CheckReport['missing'] = [];
  for (const w of live) {
    for (const raw of w.ips ?? []) {
      const ip = canonicalIp(raw.split('/')[0]!);
      const a = byIp.get(ip);
      if (!a || (w.handle !== undefined && a.handle !== w.handle)) missing.push({ ip, workload: w, heldBy: a?.handle });
    }
  }
  const found = new Map<string, number>();
  for (const a of all) if (a.handle !== undefined) found.set(a.handle, (found.get(a.handle) ?? 0) + 1);
  const blockByName = new Map(s.blocks.map((b) => [b.metadata.name, b]));
  return {
    leaked: all.filter((a) => !isLive(a, idx, s.nodes)),
    missing,
    outsidePools: all.filter((a) => !inAnyPool(s.poolCidrs, a.block)),
    orphanHandles: s.handles
      .map((h) => ({ handle: h.spec.handleID, counted: Object.values(h.spec.block).reduce((x, y) => x + y, 0), found: found.get(h.spec.handleID) ?? 0, updated: h.metadata.annotations?.['ipam.tabby.dev/updated'] }))
      .filter((h) => h.found < h.counted),
    blocksOfGoneNodes: s.blocks
      .filter((b) => { const n = affinityNode(b.spec.affinity); return n !== undefined && !s.nodes.has(n); })
      .map((b) => ({ cidr: b.spec.cidr, node: affinityNode(b.spec.affinity)!, empty: allocationsOf(b).length === 0 })),
    staleAffinities: s.affinities.flatMap((a) => {
      const b = blockByName.get(blockName(a.spec.cidr));
      const reason = !s.nodes.has(a.spec.node) ? 'node-gone' as const : !b ? 'block-missing' as const : affinityNode(b.spec.affinity) !== a.spec.node ? 'block-mismatch' as const : undefined;
      return reason ? [{ cidr: a.spec.cidr, node: a.spec.node, state: a.spec.state, reason, since: a.metadata.annotations?.[AFFINITY_SINCE] }] : [];
    }),
    corruptBlocks: s.blocks.map((b) => ({ cidr: b.spec.cidr, problems: blockProblems(b.spec) })).filter((x) => x.problems.length > 0),
    summary: { blocks: s.blocks.length, allocated: all.length, handles: s.handles.length, nodes: s.nodes.size },
  };
}
