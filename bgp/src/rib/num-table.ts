/**
 * The IPv4 prefix table (see prefix-table.ts for the interface): an open-addressing hash with
 * linear probing and backward-shift deletion over ONE Int32Array, each slot a few adjacent
 * words, so a probe touches one cache line for the key and its values:
 *
 *   word 0: the address (prefix bits, host bits zero) as int32
 *   word 1: the length + 1 (6 bits) | packed << 6, or 0 for an empty slot (a new array is empty)
 *   word 2: the value (tables with aux)      — `packed` is then the aux, else the value
 *   last:   the tag (tables with a tag column)
 *
 * So an Adj-RIB-In slot is 8 bytes and a Loc-RIB slot (value + aux) 12, where separate key and
 * value arrays took 12 and 16. The packed column holds 0 .. 2^25-1 (an attribute-set id, twice an
 * id plus a stale bit, a peer index); `set` refuses more with a RangeError.
 *
 * Load factor between 1/16 and `maxLoad` (3/4, or 5/8 for tables with aux: the Loc-RIB and the
 * Adj-RIB-In it shadows then double at different counts, and their old and new arrays never
 * coexist at the same time, which set the peak memory of an ingest).
 */
import type { PrefixTable } from './prefix-table.js';

const MIN_CAP = 16;
const LEN_MASK = 63;
const EMPTY = 0;
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

/**
 * Every table hashes with its own seed. Walking one table (slot order = hash order) and
 * inserting into another with the same hash function piles the keys into a few long probe
 * runs (a bulk removal or a dump to a new peer became quadratic); different seeds decorrelate.
 */
let seeds = 0;

function newSeed(): number {
  return Math.imul(++seeds, 0x2545f491);
}

/** Open-addressing table for IPv4 keys (`addr * 64 + len`, see prefix-key.ts). */
export class NumTable implements PrefixTable<number> {
  private w: Int32Array;
  /** Words per slot. */
  private readonly stride: number;
  /** Word offset of the value (1 = packed with the length). */
  private readonly valAt: number;
  /** Word offset of the tag (0: none). */
  private readonly tagAt: number;
  private readonly maxLoad: number;
  private cap = MIN_CAP;
  private gshift = groupShift(MIN_CAP);
  private count = 0;
  private fresh = false;
  private lastKey = -2;
  /** Word index of the last key's slot, or -1 - (word index where it would go). */
  private lastAt = 0;
  lastAux = -1;
  lastTag = -1;
  private seed = newSeed();

  /** `withAux`: keep a second int32 per entry; `withTag`: and a third (new entries start at -1). */
  constructor(
    private readonly withAux = false,
    withTag = false,
  ) {
    this.valAt = withAux ? 2 : 1;
    this.tagAt = withTag ? (withAux ? 3 : 2) : 0;
    this.stride = 2 + (withAux ? 1 : 0) + (withTag ? 1 : 0);
    this.maxLoad = withAux ? 5 / 8 : 3 / 4;
    this.w = this.emptyWords(MIN_CAP);
  }

  private emptyWords(cap: number): Int32Array {
    return new Int32Array(cap * this.stride);
  }

  get size(): number {
    return this.count;
  }

  /**
   * The word index of `k`'s slot (>= 0) or `-1 - insertionIndex`. The last answer is memoised
   * until the next structural change, so the usual get-then-set on one key probes once.
   */
  private find(k: number): number {
    if (k === this.lastKey) return this.lastAt;
    const addr = Math.floor(k / 64); // not `k % 64`: fmod on a double is several times slower
    const len = k - addr * 64;
    const a = addr | 0;
    const w = this.w;
    const stride = this.stride;
    const end = w.length;
    let i = homeOf(addr, len, this.seed, this.gshift) * stride;
    for (;;) {
      const lw = w[i + 1]!;
      if (lw === EMPTY) {
        i = -1 - i;
        break;
      }
      if (w[i] === a && (lw & LEN_MASK) === len + 1) break;
      i += stride;
      if (i === end) i = 0;
    }
    this.lastKey = k;
    this.lastAt = i;
    return i;
  }

  private valueAt(i: number): number {
    return this.valAt === 1 ? this.w[i + 1]! >>> 6 : this.w[i + 2]!;
  }

  get(k: number): number {
    const i = this.find(k);
    if (i < 0) {
      this.lastAux = -1;
      this.lastTag = -1;
      return -1;
    }
    const w = this.w;
    if (this.withAux) this.lastAux = w[i + 1]! >>> 6;
    if (this.tagAt) this.lastTag = w[i + this.tagAt]!;
    return this.valueAt(i);
  }

  setTag(k: number, tag: number): void {
    const i = this.find(k);
    if (i >= 0 && this.tagAt) this.w[i + this.tagAt] = tag;
  }

  getAux(k: number): number {
    const i = this.find(k);
    return i >= 0 && this.withAux ? this.w[i + 1]! >>> 6 : -1;
  }

  has(k: number): boolean {
    return this.find(k) >= 0;
  }

  /** The slot of `k`, inserting it (value and aux 0) when absent; `fresh` tells which happened. */
  private slot(k: number): number {
    let i = this.find(k);
    this.fresh = i < 0;
    if (i < 0) {
      if (this.count + 1 > this.cap * this.maxLoad) {
        this.resize(this.cap * 2);
        i = this.find(k);
      }
      i = -1 - i;
      const w = this.w;
      const addr = Math.floor(k / 64);
      w[i] = addr | 0;
      w[i + 1] = k - addr * 64 + 1;
      if (this.valAt !== 1) w[i + this.valAt] = 0;
      if (this.tagAt) w[i + this.tagAt] = -1;
      this.count++;
      this.lastAt = i; // lastKey is k: now present at i
    }
    return i;
  }

  /** Writes the value (and aux) of slot `i` (checked by the caller: see `check`). */
  private write(i: number, v: number, aux: number): void {
    const w = this.w;
    const len = w[i + 1]! & LEN_MASK; // + 1
    if (this.withAux) {
      w[i + 1] = len | (aux << 6);
      w[i + 2] = v;
    } else w[i + 1] = len | (v << 6);
  }

  /** Refuses, before anything changes, a packed value that does not fit. */
  private check(v: number, aux: number): void {
    const p = this.withAux ? aux : v;
    if (!(p >= 0 && p < PACKED_LIMIT)) throw new RangeError(`NumTable ${this.withAux ? 'aux' : 'value'} ${p} is outside 0..${PACKED_LIMIT - 1}`);
  }

  set(k: number, v: number, aux = 0): void {
    this.check(v, aux);
    this.write(this.slot(k), v, aux);
  }

  put(k: number, v: number): number {
    if (!this.withAux) this.check(v, 0);
    const i = this.slot(k);
    const old = this.fresh ? -1 : this.valueAt(i);
    if (this.withAux) this.w[i + 2] = v;
    else this.write(i, v, 0);
    return old;
  }

  putIfAbsent(k: number, v: number, aux = 0): boolean {
    this.check(v, aux);
    const i = this.slot(k);
    if (!this.fresh) return false;
    this.write(i, v, aux);
    return true;
  }

  delete(k: number): number {
    let i = this.find(k);
    if (i < 0) return -1;
    this.lastKey = -2; // entries move
    const old = this.valueAt(i);
    const w = this.w;
    const stride = this.stride;
    const end = w.length;
    // Backward-shift deletion keeps probe chains intact without tombstones.
    let j = i;
    for (;;) {
      j += stride;
      if (j === end) j = 0;
      const lw = w[j + 1]!;
      if (lw === EMPTY) break;
      const home = homeOf(w[j]! >>> 0, (lw & LEN_MASK) - 1, this.seed, this.gshift) * stride;
      // Move the entry at j into the hole at i if its home is not cyclically in (i, j].
      if (i <= j ? home <= i || home > j : home <= i && home > j) {
        for (let x = 0; x < stride; x++) w[i + x] = w[j + x]!;
        i = j;
      }
    }
    w[i + 1] = EMPTY;
    this.count--;
    if (this.count * 16 < this.cap && this.cap > MIN_CAP) this.resize(this.cap / 2);
    return old;
  }

  /**
   * Rebuilds the table at `cap` slots. Shrinking also takes a new seed: the survivors of a
   * removal that followed the slot order (a peer's table emptied through `keys()`) sit in one end
   * of the hash range, and the same seed would pack them into one run as long as the table.
   */
  private resize(cap: number): void {
    this.lastKey = -2;
    if (cap < this.cap) this.seed = newSeed();
    const old = this.w;
    const stride = this.stride;
    const w = this.emptyWords(cap);
    this.w = w;
    this.cap = cap;
    this.gshift = groupShift(cap);
    const gshift = this.gshift;
    const seed = this.seed;
    const end = w.length;
    // In slot order: homes only grow (see homeOf), so a doubling streams through the new array.
    for (let i = 0; i < old.length; i += stride) {
      const lw = old[i + 1]!;
      if (lw === EMPTY) continue;
      let j = homeOf(old[i]! >>> 0, (lw & LEN_MASK) - 1, seed, gshift) * stride; // keys are distinct: probe for a free slot only
      while (w[j + 1] !== EMPTY) {
        j += stride;
        if (j === end) j = 0;
      }
      w[j] = old[i]!;
      w[j + 1] = lw;
      for (let x = 2; x < stride; x++) w[j + x] = old[i + x]!;
    }
  }

  forEach(fn: (v: number, k: number, aux: number) => void): void {
    const w = this.w;
    for (let i = 0; i < w.length; i += this.stride) {
      const lw = w[i + 1]!;
      if (lw !== EMPTY) fn(this.valueAt(i), (w[i]! >>> 0) * 64 + (lw & LEN_MASK) - 1, this.withAux ? lw >>> 6 : -1);
    }
  }

  /** The longest run of occupied slots (probe cost; for tests and diagnostics). */
  longestRun(): number {
    const w = this.w;
    let best = 0;
    let run = 0;
    for (let pass = 0; pass < 2; pass++)
      for (let i = 1; i < w.length; i += this.stride) {
        run = w[i] === EMPTY ? 0 : run + 1; // the second pass continues a run that wraps around
        if (run > best) best = Math.min(run, this.cap);
      }
    return best;
  }

  keys(): number[] {
    const out: number[] = [];
    const w = this.w;
    for (let i = 0; i < w.length; i += this.stride) {
      const lw = w[i + 1]!;
      if (lw !== EMPTY) out.push((w[i]! >>> 0) * 64 + (lw & LEN_MASK) - 1);
    }
    return out;
  }

  /** Empties the table (see `clearedCapacity`: batch tables are reused). */
  clear(): void {
    this.lastKey = -2;
    const cap = clearedCapacity(this.count, this.cap, this.maxLoad);
    if (cap === this.cap) this.w.fill(0);
    else {
      this.cap = cap;
      this.gshift = groupShift(cap);
      this.w = this.emptyWords(cap);
    }
    this.count = 0;
  }
}

/**
 * The capacity a table keeps when it is cleared with `count` entries: a batch table (the
 * pending changes of a flush) is cleared after every batch, and regrowing it from 16 slots each
 * time cost more than the batch. Kept as it is while modest (2^16 slots) or well used (an
 * eighth full: zeroing it costs less than the inserts did); otherwise sized for `count`.
 */
export function clearedCapacity(count: number, cap: number, maxLoad: number): number {
  if (cap <= 1 << 16 || count * 8 >= cap) return cap;
  let c = MIN_CAP;
  while (count > c * maxLoad) c *= 2;
  return c;
}
