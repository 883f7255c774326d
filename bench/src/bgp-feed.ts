/**
 * Route feeds for the BGP ingest benchmarks, as the encoded UPDATE messages a peer would send:
 * - `host32`: N IPv4 /32s from 100.64.0.0 sharing one attribute set (what BIRD sends for static
 *   /32s: ~800 prefixes per UPDATE);
 * - `table`: N IPv4 prefixes of lengths /8–/24 in roughly the Internet table's proportions, with
 *   N/4 distinct attribute sets (AS paths of 1–6 hops, communities, MEDs), ~4 prefixes per UPDATE;
 * - `ipv6`: N IPv6 prefixes (/19–/48, mostly /48, /32, /40, /44) in 2000::/3, N/4 attribute sets,
 *   over MP_REACH_NLRI (RFC 4760).
 *
 * Deterministic (seeded), so every receiver of a run gets the same octets. Pure: no I/O.
 */
import { encodeUpdates, formatIpv6, nextRandom, type CodecContext, type PathAttributes, type Prefix } from '@tabby/bgp';

/** The kinds of feed. */
export type FeedKind = 'host32' | 'table' | 'ipv6';

/** A seeded PRNG, uniform in [0, 1): the speaker's own mulberry32 step (`nextRandom`). */
function rng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    const r = nextRandom(state);
    state = r.seed;
    return r.value;
  };
}

/** Picks a value from `[value, weight][]`. */
function weighted(r: () => number, table: ReadonlyArray<readonly [number, number]>): number {
  const total = table.reduce((s, [, w]) => s + w, 0);
  let x = r() * total;
  for (const [v, w] of table) if ((x -= w) < 0) return v;
  return table[table.length - 1]![0];
}

// Shares of prefix lengths, close to the public IPv4 / IPv6 tables.
const V4_LENS: ReadonlyArray<readonly [number, number]> = [[24, 57], [23, 10], [22, 13], [21, 5], [20, 5], [19, 3], [18, 2], [17, 1.2], [16, 2.5], [15, 0.3], [14, 0.3], [13, 0.2], [12, 0.2], [11, 0.1], [10, 0.1], [9, 0.05], [8, 0.05]];
const V6_LENS: ReadonlyArray<readonly [number, number]> = [[48, 45], [32, 10], [44, 8], [40, 8], [36, 5], [29, 5], [46, 4], [47, 3], [42, 3], [33, 2], [34, 2], [28, 2], [24, 1], [19, 1], [20, 1]];

function formatV4(a: number): string {
  return `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`;
}

/** `n` distinct IPv4 prefixes /8–/24 outside 0/8, 10/8, 127/8 and 224/3. */
function v4Prefixes(n: number, r: () => number): Prefix[] {
  const seen = new Set<number>();
  const out: Prefix[] = [];
  while (out.length < n) {
    const len = weighted(r, V4_LENS);
    const first = 1 + Math.floor(r() * 222);
    if (first === 10 || first === 127) continue;
    const a = ((first << 24) | Math.floor(r() * 0x1000000)) >>> 0;
    const addr = len === 32 ? a : (a & ~((1 << (32 - len)) - 1)) >>> 0;
    const key = addr * 64 + len;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ afi: 1, addr: formatV4(addr), len });
  }
  return out;
}

/** `n` distinct IPv6 prefixes in 2000::/3 (canonical text). */
function v6Prefixes(n: number, r: () => number): Prefix[] {
  const seen = new Set<string>();
  const out: Prefix[] = [];
  while (out.length < n) {
    const len = weighted(r, V6_LENS);
    // Only the first 48 bits can be non-zero (lengths ≤ 48): three 16-bit groups.
    const bits = [0x2000 | Math.floor(r() * 0x2000), Math.floor(r() * 0x10000), Math.floor(r() * 0x10000)];
    for (let g = 0; g < 3; g++) {
      const keep = Math.max(0, Math.min(16, len - 16 * g));
      bits[g] = keep === 0 ? 0 : bits[g]! & ~((1 << (16 - keep)) - 1) & 0xffff;
    }
    const b = new Uint8Array(16);
    for (let g = 0; g < 3; g++) b.set([bits[g]! >> 8, bits[g]! & 255], 2 * g);
    const text = formatIpv6(b, 0);
    const key = `${text}/${len}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ afi: 2, addr: text, len });
  }
  return out;
}

/** `n` distinct attribute sets: AS path from `firstAs` with 0–5 more hops, communities, MEDs. */
function attributeSets(n: number, r: () => number, firstAs: number, nextHop: PathAttributes): PathAttributes[] {
  const out: PathAttributes[] = [];
  for (let i = 0; i < n; i++) {
    const hops = Math.floor(r() * 6);
    const path = [firstAs];
    for (let h = 0; h < hops; h++) path.push(1 + Math.floor(r() * 64000));
    // A last hop unique to the set keeps the sets distinct.
    path.push(100000 + i);
    const communities: number[] = [];
    const nc = Math.floor(r() * 4);
    for (let c = 0; c < nc; c++) communities.push(((firstAs & 0xffff) * 65536 + Math.floor(r() * 1000)) >>> 0);
    out.push({
      origin: r() < 0.9 ? 0 : 2,
      asPath: [{ type: 2, asns: path }],
      ...(r() < 0.5 ? { med: Math.floor(r() * 1000) } : {}),
      ...(communities.length ? { communities } : {}),
      ...nextHop,
    });
  }
  return out;
}

/** Options of a feed. */
export interface FeedOptions {
  kind: FeedKind;
  routes: number;
  /** The sender's AS (first in every AS path). */
  asn: number;
  /** IPv4 NEXT_HOP, or the IPv6 next hop for `ipv6`. */
  nextHop: string;
  ctx: CodecContext;
  seed?: number;
}

/** The encoded UPDATEs of a feed (End-of-RIB not included). */
export function encodeFeed(o: FeedOptions): Uint8Array[] {
  const r = rng(o.seed ?? 1);
  if (o.kind === 'host32') {
    const nlri: Prefix[] = [];
    for (let i = 0; i < o.routes; i++) nlri.push({ afi: 1, addr: formatV4((0x64400000 + i) >>> 0), len: 32 });
    return encodeUpdates({ origin: 0, asPath: [{ type: 2, asns: [o.asn] }], nextHop: o.nextHop }, nlri, [], 'ipv4-unicast', o.ctx);
  }
  const v6 = o.kind === 'ipv6';
  const prefixes = v6 ? v6Prefixes(o.routes, r) : v4Prefixes(o.routes, r);
  const nh: PathAttributes = v6 ? { mpReach: { afi: 2, safi: 1, nextHops: [o.nextHop], nlri: [] } } : { nextHop: o.nextHop };
  const sets = attributeSets(Math.max(1, Math.round(o.routes / 4)), r, o.asn, nh);
  const groups: Prefix[][] = sets.map(() => []);
  for (const p of prefixes) groups[Math.floor(r() * groups.length)]!.push(p);
  const out: Uint8Array[] = [];
  for (let i = 0; i < sets.length; i++) {
    if (groups[i]!.length === 0) continue;
    for (const m of encodeUpdates(sets[i]!, groups[i]!, [], v6 ? 'ipv6-unicast' : 'ipv4-unicast', o.ctx)) out.push(m);
  }
  return out;
}
