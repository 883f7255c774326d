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
 * Home slot of an IPv4 prefix in a table of 2^(32 - shift) slots: the TOP bits of a hash of the
 * prefix bits `p` (the top `len` bits of the address) and the length. Doubling the table sends
 * slot i to 2i or 2i+1, so a resize reads the old table and writes the new one in order
 * (streaming, not a cache miss per entry). Every prefix is hashed on its own: placing groups of
 * 8 consecutive prefixes side by side (for address-ordered feeds) filled whole cache lines with
 * one group when the prefixes were dense (a feed of /32s), and linear probing then ran over
 * blocks, not slots: an insertion probed 9 slots at half load and 43 at 0.7, where it probes
 * 1.3 and 6 now. Address-ordered feeds lose nothing that UpdateSink's batched touches
 * (PrefixTable.touchAll) do not win back.
 */
function homeOf(addr: number, len: number, seed: number, shift: number): number {
  const p = len === 0 ? 0 : addr >>> (32 - len);
  let h = Math.imul(p ^ Math.imul(len, 0x27d4eb2d) ^ seed, 0x9e3779b1);
  h ^= h >>> 15;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  return h >>> shift;
}

/** The hash shift of a capacity (a power of two, at least 16): 32 - log2(cap). */
function shiftOf(cap: number): number {
  return 32 - (31 - Math.clz32(cap));
}

/** Open-addressing table for IPv4 keys (`addr * 64 + len`, see prefix-key.ts). */
export class NumTable extends SlotTable<number> {
  private shift = shiftOf(MIN_CAP);
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
    let i = homeOf(addr, len1 - 1, this.seed, this.shift) * stride;
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

  /** The generic `touchAll` with the hash inlined: a tight loop, so more misses are in flight at once. */
  override touchAll(keys: ArrayLike<number>, n: number): number {
    const { w, seed, shift, stride } = this;
    let s = 0;
    for (let i = 0; i < n; i++) {
      const k = keys[i]!;
      const addr = Math.floor(k / 64);
      s ^= w[homeOf(addr, k - addr * 64, seed, shift) * stride + 1]!;
    }
    return s;
  }

  protected homeOfKey(k: number): number {
    const addr = Math.floor(k / 64);
    return homeOf(addr, k - addr * 64, this.seed, this.shift) * this.stride;
  }

  protected writeKey(i: number, k: number): void {
    const addr = Math.floor(k / 64);
    this.w[i] = addr | 0;
    this.w[i + 1] = k - addr * 64 + 1;
  }

  protected homeAt(w: Int32Array, i: number): number {
    return homeOf(w[i]! >>> 0, (w[i + 1]! & 63) - 1, this.seed, this.shift) * this.stride;
  }

  protected keyAt(i: number): number {
    return (this.w[i]! >>> 0) * 64 + (this.w[i + 1]! & 63) - 1;
  }

  protected forget(): void {
    this.lastKey = -2;
  }

  protected capacityChanged(cap: number): void {
    this.shift = shiftOf(cap);
  }
}
