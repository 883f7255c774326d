/**
 * The IPv4 prefix table (see prefix-table.ts for the interface, slot-table.ts for the layout):
 *
 *   word 0: the address (prefix bits, host bits zero) as int32
 *   word 1: the length + 1 (6 bits) | packed << 6, or 0 for an empty slot
 *   word 2: the value (tables with aux)
 *
 * So an Adj-RIB-In slot is 8 bytes and a Loc-RIB slot (value + aux) 12, where separate key and
 * value arrays took 12 and 16; the packed column holds 0 .. 2^25-1.
 */
import { MIN_CAP, SlotTable } from './slot-table.js';

export { clearedCapacity } from './slot-table.js';

/** The packed column's exclusive upper bound. */
export const PACKED_LIMIT = 1 << 25;

/**
 * Home slot of an IPv4 prefix in a table of 2^(35 - gshift) slots. The prefix bits `p` (the top
 * `len` bits of the address) are split into aligned groups of 8 consecutive prefixes: the group
 * is hashed (spreading any structure in the input), the position inside the group is kept, so
 * the 8 neighbours share a cache line or two. BGP peers often send prefixes in address order, so
 * a run of 800 consecutive /32s costs ~100 cache misses per table instead of 800. The group's
 * slot is the TOP bits of its hash: doubling the table sends slot i to 2i or 2i+1, so a resize
 * reads the old table and writes the new one in order (streaming, not a cache miss per entry).
 */
function homeOf(addr: number, len: number, seed: number, gshift: number): number {
  const p = len === 0 ? 0 : addr >>> (32 - len);
  let h = Math.imul((p >>> 3) ^ Math.imul(len, 0x27d4eb2d) ^ seed, 0x9e3779b1);
  h ^= h >>> 15;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  return ((h >>> gshift) << 3) | (p & 7);
}

/** The group shift of a capacity (a power of two, at least 16): 35 - log2(cap). */
function groupShift(cap: number): number {
  return 35 - (31 - Math.clz32(cap));
}

/** Open-addressing table for IPv4 keys (`addr * 64 + len`, see prefix-key.ts). */
export class NumTable extends SlotTable<number> {
  private gshift = groupShift(MIN_CAP);
  private lastKey = -2;

  /** `withAux`: keep a second int32 per entry; `withTag`: and a third (new entries start at -1). */
  constructor(withAux = false, withTag = false) {
    super(1, 6, withAux, withTag, 'NumTable');
  }

  protected find(k: number): number {
    if (k === this.lastKey) return this.lastAt;
    const addr = Math.floor(k / 64); // not `k % 64`: fmod on a double is several times slower
    const len1 = k - addr * 64 + 1;
    const a = addr | 0;
    const w = this.w;
    const stride = this.stride;
    const end = w.length;
    let i = homeOf(addr, len1 - 1, this.seed, this.gshift) * stride;
    for (;;) {
      const lw = w[i + 1]!;
      if (lw === 0) {
        i = -1 - i;
        break;
      }
      if (w[i] === a && (lw & 63) === len1) break;
      i += stride;
      if (i === end) i = 0;
    }
    this.lastKey = k;
    this.lastAt = i;
    return i;
  }

  protected writeKey(i: number, k: number): void {
    const addr = Math.floor(k / 64);
    this.w[i] = addr | 0;
    this.w[i + 1] = k - addr * 64 + 1;
  }

  protected homeAt(w: Int32Array, i: number): number {
    return homeOf(w[i]! >>> 0, (w[i + 1]! & 63) - 1, this.seed, this.gshift) * this.stride;
  }

  protected keyAt(i: number): number {
    return (this.w[i]! >>> 0) * 64 + (this.w[i + 1]! & 63) - 1;
  }

  protected forget(): void {
    this.lastKey = -2;
  }

  protected capacityChanged(cap: number): void {
    this.gshift = groupShift(cap);
  }
}
