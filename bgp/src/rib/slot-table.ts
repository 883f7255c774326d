/**
 * What NumTable (IPv4) and Ipv6Table share: an open-addressing hash with linear probing and
 * backward-shift deletion over ONE Int32Array, each slot a few adjacent words, so a probe touches
 * one cache line for the key and its values:
 *
 *   words 0 .. lp-1: the key's address words (subclass)
 *   word lp:         the length + 1 (`lenBits` bits) | packed << lenBits, or 0 for an empty slot
 *   word lp+1:       the value (tables with aux)      — `packed` is then the aux, else the value
 *   last:            the tag (tables with a tag column)
 *
 * The packed column holds 0 .. 2^(31-lenBits)-1 (an attribute-set id, twice an id plus a stale
 * bit, a peer index); `set` refuses more with a RangeError before anything changes.
 *
 * Load factor between 1/16 and `maxLoad` (3/4, or 5/8 for tables with aux: the Loc-RIB and the
 * Adj-RIB-In it shadows then double at different counts, so their old and new arrays never
 * coexist, which set the peak memory of an ingest). The subclass's home slot is the TOP bits of
 * its hash: a doubling sends slot i to 2i or 2i+1, so a resize reads the old array and writes
 * the new one in order. A shrink takes a new seed: the survivors of a removal that followed the
 * slot order (a peer's table emptied through `keys()`) sit in one end of the hash range, and the
 * same seed would pack them into one run as long as the table.
 */
import type { PrefixKey } from './prefix-key.js';
import type { PrefixTable } from './prefix-table.js';

export const MIN_CAP = 16;

/**
 * Every table hashes with its own seed. Walking one table (slot order = hash order) and
 * inserting into another with the same hash function piles the keys into a few long probe
 * runs (a bulk removal or a dump to a new peer became quadratic); different seeds decorrelate.
 */
let seeds = 0;

function newSeed(): number {
  return Math.imul(++seeds, 0x2545f491);
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

/** The slot array, growth, deletion and value columns; the subclass hashes and compares keys. */
export abstract class SlotTable<K extends PrefixKey> implements PrefixTable<K> {
  protected w: Int32Array;
  /** Words per slot. */
  protected readonly stride: number;
  /** Word offset of the value when not packed (tables with aux). */
  private readonly valAt: number;
  /** Word offset of the tag (0: none). */
  private readonly tagAt: number;
  private readonly lenMask: number;
  private readonly limit: number;
  private readonly maxLoad: number;
  protected cap = MIN_CAP;
  protected count = 0;
  protected seed = newSeed();
  private fresh = false;
  /** `find`'s memo: the word index of the last key's slot, or -1 - (word index where it would go). */
  protected lastAt = 0;
  lastAux = -1;
  lastTag = -1;

  /**
   * `lp`: the word offset of the length word (the key's address words come first); `lenBits`:
   * the bits of length + 1 in it. `withAux`: keep a second int32 per entry; `withTag`: and a
   * third (new entries start at -1).
   */
  constructor(
    protected readonly lp: number,
    protected readonly lenBits: number,
    protected readonly withAux: boolean,
    withTag: boolean,
    private readonly name: string,
  ) {
    this.valAt = lp + 1;
    this.tagAt = withTag ? lp + (withAux ? 2 : 1) : 0;
    this.stride = lp + 1 + (withAux ? 1 : 0) + (withTag ? 1 : 0);
    this.lenMask = (1 << lenBits) - 1;
    this.limit = 2 ** (31 - lenBits);
    this.maxLoad = withAux ? 5 / 8 : 3 / 4;
    this.w = new Int32Array(MIN_CAP * this.stride);
  }

  /** The word index of `k`'s slot (>= 0) or `-1 - insertionIndex` (memoised: see `forget`). */
  protected abstract find(k: K): number;
  /** The word index of `k`'s home slot (where a probe for it starts). */
  protected abstract homeOfKey(k: K): number;
  /** Writes the key words and the length word (packed 0) of `k`, which `find` just looked up, at `i`. */
  protected abstract writeKey(i: number, k: K): void;
  /** The word index of the home slot of the entry at word `i` of `w` (current seed and capacity). */
  protected abstract homeAt(w: Int32Array, i: number): number;
  /** The key of the entry at word `i`. */
  protected abstract keyAt(i: number): K;
  /** Drops `find`'s memo (entries moved). */
  protected abstract forget(): void;
  /** Takes note of a new capacity (its hash shift). */
  protected abstract capacityChanged(cap: number): void;

  get size(): number {
    return this.count;
  }

  private valueAt(i: number): number {
    return this.withAux ? this.w[i + this.valAt]! : this.w[i + this.lp]! >>> this.lenBits;
  }

  get(k: K): number {
    const i = this.find(k);
    if (i < 0) {
      this.lastAux = -1;
      this.lastTag = -1;
      return -1;
    }
    if (this.withAux) this.lastAux = this.w[i + this.lp]! >>> this.lenBits;
    if (this.tagAt) this.lastTag = this.w[i + this.tagAt]!;
    return this.valueAt(i);
  }

  setTag(k: K, tag: number): void {
    const i = this.find(k);
    if (i >= 0 && this.tagAt) this.w[i + this.tagAt] = tag;
  }

  getAux(k: K): number {
    const i = this.find(k);
    return i >= 0 && this.withAux ? this.w[i + this.lp]! >>> this.lenBits : -1;
  }

  has(k: K): boolean {
    return this.find(k) >= 0;
  }

  touchAll(keys: ArrayLike<K>, n: number): number {
    let s = 0;
    for (let i = 0; i < n; i++) s ^= this.w[this.homeOfKey(keys[i]!) + this.lp]!;
    return s;
  }

  /** The slot of `k`, inserting it (value and aux 0) when absent; `fresh` tells which happened. */
  private slot(k: K): number {
    let i = this.find(k);
    this.fresh = i < 0;
    if (i < 0) {
      if (this.count + 1 > this.cap * this.maxLoad) {
        this.resize(this.cap * 2);
        i = this.find(k);
      }
      i = -1 - i;
      this.writeKey(i, k);
      if (this.withAux) this.w[i + this.valAt] = 0;
      if (this.tagAt) this.w[i + this.tagAt] = -1;
      this.count++;
      this.lastAt = i; // find's memo is k: now present at i
    }
    return i;
  }

  /** Writes the value (and aux) of slot `i` (checked by the caller: see `check`). */
  private write(i: number, v: number, aux: number): void {
    const w = this.w;
    const at = i + this.lp;
    const len = w[at]! & this.lenMask; // + 1
    if (this.withAux) {
      w[at] = len | (aux << this.lenBits);
      w[i + this.valAt] = v;
    } else w[at] = len | (v << this.lenBits);
  }

  /** Refuses, before anything changes, a packed value that does not fit. */
  private check(v: number, aux: number): void {
    const p = this.withAux ? aux : v;
    if (!(p >= 0 && p < this.limit)) throw new RangeError(`${this.name} ${this.withAux ? 'aux' : 'value'} ${p} is outside 0..${this.limit - 1}`);
  }

  set(k: K, v: number, aux = 0): void {
    this.check(v, aux);
    this.write(this.slot(k), v, aux);
  }

  put(k: K, v: number): number {
    if (!this.withAux) this.check(v, 0);
    const i = this.slot(k);
    const old = this.fresh ? -1 : this.valueAt(i);
    if (this.withAux) this.w[i + this.valAt] = v;
    else this.write(i, v, 0);
    return old;
  }

  putIfAbsent(k: K, v: number, aux = 0): boolean {
    this.check(v, aux);
    const i = this.slot(k);
    if (!this.fresh) return false;
    this.write(i, v, aux);
    return true;
  }

  delete(k: K): number {
    let i = this.find(k);
    if (i < 0) return -1;
    this.forget(); // entries move
    const old = this.valueAt(i);
    const w = this.w;
    const { stride, lp } = this;
    const end = w.length;
    // Backward-shift deletion keeps probe chains intact without tombstones.
    let j = i;
    for (;;) {
      j += stride;
      if (j === end) j = 0;
      if (w[j + lp] === 0) break;
      const home = this.homeAt(w, j);
      // Move the entry at j into the hole at i if its home is not cyclically in (i, j].
      if (i <= j ? home <= i || home > j : home <= i && home > j) {
        for (let x = 0; x < stride; x++) w[i + x] = w[j + x]!;
        i = j;
      }
    }
    w[i + lp] = 0;
    this.count--;
    if (this.count * 16 < this.cap && this.cap > MIN_CAP) this.resize(this.cap / 2);
    return old;
  }

  /** Rebuilds the table at `cap` slots (a shrink takes a new seed: see the header). */
  private resize(cap: number): void {
    this.forget();
    if (cap < this.cap) this.seed = newSeed();
    const old = this.w;
    const { stride, lp } = this;
    const w = new Int32Array(cap * stride);
    this.w = w;
    this.cap = cap;
    this.capacityChanged(cap);
    const end = w.length;
    // In slot order: homes only grow (see the header), so a doubling streams through the new array.
    for (let i = 0; i < old.length; i += stride) {
      if (old[i + lp] === 0) continue;
      let j = this.homeAt(old, i); // keys are distinct: probe for a free slot only
      while (w[j + lp] !== 0) {
        j += stride;
        if (j === end) j = 0;
      }
      for (let x = 0; x < stride; x++) w[j + x] = old[i + x]!;
    }
  }

  forEach(fn: (v: number, k: K, aux: number) => void): void {
    const w = this.w;
    for (let i = 0; i < w.length; i += this.stride) {
      const lw = w[i + this.lp]!;
      if (lw !== 0) fn(this.valueAt(i), this.keyAt(i), this.withAux ? lw >>> this.lenBits : -1);
    }
  }

  keys(): K[] {
    const out: K[] = [];
    const w = this.w;
    for (let i = 0; i < w.length; i += this.stride) if (w[i + this.lp] !== 0) out.push(this.keyAt(i));
    return out;
  }

  /** The mean number of occupied slots an insertion walks past, over all home slots (probe cost; for tests and diagnostics). */
  meanInsertProbe(): number {
    const w = this.w;
    let sum = 0;
    let run = 0;
    for (let pass = 0; pass < 2; pass++)
      for (let i = w.length - this.stride + this.lp; i >= 0; i -= this.stride) {
        run = w[i] === 0 ? 0 : run + 1; // from the end backwards: the run that starts here
        if (pass === 1) sum += run; // the first pass only carries a run that wraps around
      }
    return sum / this.cap;
  }

  /** The longest run of occupied slots (probe cost; for tests and diagnostics). */
  longestRun(): number {
    const w = this.w;
    let best = 0;
    let run = 0;
    for (let pass = 0; pass < 2; pass++)
      for (let i = this.lp; i < w.length; i += this.stride) {
        run = w[i] === 0 ? 0 : run + 1; // the second pass continues a run that wraps around
        if (run > best) best = Math.min(run, this.cap);
      }
    return best;
  }

  /** Empties the table (see `clearedCapacity`: batch tables are reused). */
  clear(): void {
    this.forget();
    const cap = clearedCapacity(this.count, this.cap, this.maxLoad);
    if (cap === this.cap) this.w.fill(0);
    else {
      this.cap = cap;
      this.capacityChanged(cap);
      this.w = new Int32Array(cap * this.stride);
    }
    this.count = 0;
  }
}
