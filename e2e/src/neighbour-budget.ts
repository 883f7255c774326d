/**
 * The IPv4 neighbour (ARP) table is one table for the whole machine: every network namespace's
 * entries count against the root namespace's `net.ipv4.neigh.default.gc_thresh3` (1024 by
 * default). Beyond it the kernel logs "neighbour: arp_cache: neighbor table overflow!" and
 * cannot resolve new neighbours, so packets to them are dropped: in a full BGP mesh of 50 nodes
 * on one segment (~50 × 50 entries) SYNs stayed in SYN-SENT and Established sessions stopped
 * receiving KEEPALIVEs until their hold timers expired (the kernel's arp_cache statistics
 * counted 272,000 table_fulls). A cluster must therefore spread its nodes over segments: each
 * node then resolves only the nodes of its own segment and the fabric's gateway.
 *
 * This module only reads the limit (the root namespace's sysctls are not ours to change).
 */
import { readFileSync } from 'node:fs';

/** Share of gc_thresh3 a cluster may plan to use (other namespaces on the machine need the rest). */
const SHARE = 0.75;

/** The machine-wide limit of IPv4 neighbour entries (gc_thresh3), 1024 when it cannot be read. */
export function neighbourLimit(): number {
  try {
    const n = Number(readFileSync('/proc/sys/net/ipv4/neigh/default/gc_thresh3', 'utf8').trim());
    return Number.isFinite(n) && n > 0 ? n : 1024;
  } catch {
    return 1024;
  }
}

/** IPv4 neighbour entries a full mesh on `layout` needs: each node resolves its segment's other nodes and the gateway; the fabric resolves every node. */
export function neighbourEntries(layout: readonly number[]): number {
  return layout.reduce((sum, n) => sum + n * n + n, 0);
}

/** Throws, naming the layout and what to do, when a full mesh on `layout` would overflow the neighbour table. */
export function checkNeighbourBudget(layout: readonly number[], limit = neighbourLimit()): void {
  const need = neighbourEntries(layout);
  const budget = Math.floor(limit * SHARE);
  if (need <= budget) return;
  const total = layout.reduce((a, b) => a + b, 0);
  const perSegment = Math.max(1, Math.floor(budget / total) - 1); // segments of s nodes need total × (s + 1) entries
  throw new Error(
    `node cluster layout [${layout.join(', ')}]: a full mesh needs about ${need} IPv4 neighbour entries, more than ${budget} ` +
      `(${SHARE * 100}% of net.ipv4.neigh.default.gc_thresh3 = ${limit}, one table for all namespaces on this machine); ` +
      `spread the nodes over more segments (at most ${perSegment} per segment)`,
  );
}

/** `total` nodes in segments of at most `perSegment` (as even as possible), e.g. 50 by 10 → [10, 10, 10, 10, 10]. */
export function segmentLayout(total: number, perSegment: number): number[] {
  const segments = Math.max(1, Math.ceil(total / Math.max(1, perSegment)));
  return Array.from({ length: segments }, (_, i) => Math.floor(total / segments) + (i < total % segments ? 1 : 0));
}
