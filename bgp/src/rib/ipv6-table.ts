/**
 * The IPv6 prefix table (see prefix-table.ts for the interface; the layout follows NumTable's):
 * an open-addressing hash with linear probing and backward-shift deletion over ONE Int32Array,
 * each slot a few adjacent words, so a probe touches one cache line for the key and its values:
 *
 *   words 0-3: the address (prefix bits, host bits zero), most significant word first
 *   word 4:    the length + 1 (8 bits) | packed << 8, or 0 for an empty slot
 *   word 5:    the value (tables with aux)      — `packed` is then the aux, else the value
 *   last:      the tag (tables with a tag column)
 *
 * So an Adj-RIB-In slot is 20 bytes and a Loc-RIB slot (value + aux) 24, where a Map entry plus
 * the key string took about 90. The packed column holds 0 .. 2^23-1 (an attribute-set id, twice
 * an id plus a stale bit, a peer index); `set` refuses more with a RangeError.
 *
 * The key strings (prefix-key.ts) are read, not stored: `keys` and `forEach` rebuild them.
 * Load factor between 1/16 and 3/4 (5/8 for tables with aux, as NumTable: the Loc-RIB and the
 * Adj-RIB-In it shadows double at different counts). The home slot is the TOP bits of the hash:
 * a doubling sends slot i to 2i or 2i+1, so a resize streams through both arrays (same seed
 * while growing; a shrink takes a new one, see NumTable.resize).
 */
import { clearedCapacity } from './num-table.js';
import type { PrefixTable } from './prefix-table.js';
import { v6Key, v6KeyLen, v6KeyWord } from './prefix-key.js';

const MIN_CAP = 16;
const LP = 4; // word offset of length + 1 | packed << 8
/** The packed column's exclusive upper bound. */
export const IPV6_PACKED_LIMIT = 1 << 23;

/** Every table hashes with its own seed: see NumTable's note on seeds. */
let seeds = 0;

function newSeed(): number {
  return Math.imul(++seeds, 0x2545f491);
}

function hash(w0: number, w1: number, w2: number, w3: number, len1: number, seed: number): number {
  let h = Math.imul(w0 ^ seed, 0x9e3779b1);
  h = Math.imul(h ^ (h >>> 15) ^ w1, 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13) ^ w2, 0xc2b2ae35);
  h = Math.imul(h ^ (h >>> 16) ^ w3 ^ (len1 << 24), 0x27d4eb2d);
  return h ^ (h >>> 15);
}

/** Open-addressing table for IPv6 keys. */
export class Ipv6Table implements PrefixTable<string> {
  private w: Int32Array;
  /** Words per slot. */
  private readonly stride: number;
  /** Word offset of the tag (0: none). */
  private readonly tagAt: number;
  private readonly maxLoad: number;
  private cap = MIN_CAP;
  /** 32 - log2(cap): the home slot is `hash >>> shift`. */
  private shift = 28;
  private count = 0;
  private seed = newSeed();
  private fresh = false;
  private lastKey: string | undefined;
  /** Word index of the last key's slot, or -1 - (word index where it would go). */
  private lastAt = 0;
  // The words of the last key `find` decoded (for the insertion that may follow).
  private k0 = 0;
  private k1 = 0;
  private k2 = 0;
  private k3 = 0;
  private kLen1 = 0;
  lastAux = -1;
  lastTag = -1;

  /** `withAux`: keep a second int32 per entry; `withTag`: and a third (new entries start at -1). */
  constructor(
    private readonly withAux = false,
    withTag = false,
  ) {
    this.tagAt = withTag ? (withAux ? 6 : 5) : 0;
    this.stride = 5 + (withAux ? 1 : 0) + (withTag ? 1 : 0);
    this.maxLoad = withAux ? 5 / 8 : 3 / 4;
    this.w = new Int32Array(MIN_CAP * this.stride);
  }

  get size(): number {
    return this.count;
  }

  /** The word index of `k`'s slot (>= 0) or `-1 - insertionIndex`; memoised until the next structural change. */
  private find(k: string): number {
    if (k === this.lastKey) return this.lastAt;
    const w0 = (this.k0 = v6KeyWord(k, 0));
    const w1 = (this.k1 = v6KeyWord(k, 1));
    const w2 = (this.k2 = v6KeyWord(k, 2));
    const w3 = (this.k3 = v6KeyWord(k, 3));
    const len1 = (this.kLen1 = v6KeyLen(k) + 1);
    const w = this.w;
    const stride = this.stride;
    const end = w.length;
    let i = (hash(w0, w1, w2, w3, len1, this.seed) >>> this.shift) * stride;
    for (;;) {
      const lp = w[i + LP]!;
      if (lp === 0) {
        i = -1 - i;
        break;
      }
      if ((lp & 255) === len1 && w[i] === w0 && w[i + 1] === w1 && w[i + 2] === w2 && w[i + 3] === w3) break;
      i += stride;
      if (i === end) i = 0;
    }
    this.lastKey = k;
    this.lastAt = i;
    return i;
  }

  private valueAt(i: number): number {
    return this.withAux ? this.w[i + 5]! : this.w[i + LP]! >>> 8;
  }

  get(k: string): number {
    const i = this.find(k);
    if (i < 0) {
      this.lastAux = -1;
      this.lastTag = -1;
      return -1;
    }
    if (this.withAux) this.lastAux = this.w[i + LP]! >>> 8;
    if (this.tagAt) this.lastTag = this.w[i + this.tagAt]!;
    return this.valueAt(i);
  }

  setTag(k: string, tag: number): void {
    const i = this.find(k);
    if (i >= 0 && this.tagAt) this.w[i + this.tagAt] = tag;
  }

  getAux(k: string): number {
    const i = this.find(k);
    return i >= 0 && this.withAux ? this.w[i + LP]! >>> 8 : -1;
  }

  has(k: string): boolean {
    return this.find(k) >= 0;
  }

  /** The slot of `k`, inserting it (value and aux 0) when absent; `fresh` tells which happened. */
  private slot(k: string): number {
    let i = this.find(k);
    this.fresh = i < 0;
    if (i < 0) {
      if (this.count + 1 > this.cap * this.maxLoad) {
        this.resize(this.cap * 2);
        i = this.find(k); // decodes k again: the words below are k's
      }
      i = -1 - i;
      const w = this.w;
      w[i] = this.k0;
      w[i + 1] = this.k1;
      w[i + 2] = this.k2;
      w[i + 3] = this.k3;
      w[i + LP] = this.kLen1;
      if (this.withAux) w[i + 5] = 0;
      if (this.tagAt) w[i + this.tagAt] = -1;
      this.count++;
      this.lastAt = i; // lastKey is k: now present at i
    }
    return i;
  }

  /** Writes the value (and aux) of slot `i` (checked by the caller: see `check`). */
  private write(i: number, v: number, aux: number): void {
    const w = this.w;
    const len1 = w[i + LP]! & 255;
    if (this.withAux) {
      w[i + LP] = len1 | (aux << 8);
      w[i + 5] = v;
    } else w[i + LP] = len1 | (v << 8);
  }

  /** Refuses, before anything changes, a packed value that does not fit. */
  private check(v: number, aux: number): void {
    const p = this.withAux ? aux : v;
    if (!(p >= 0 && p < IPV6_PACKED_LIMIT)) throw new RangeError(`Ipv6Table ${this.withAux ? 'aux' : 'value'} ${p} is outside 0..${IPV6_PACKED_LIMIT - 1}`);
  }

  set(k: string, v: number, aux = 0): void {
    this.check(v, aux);
    this.write(this.slot(k), v, aux);
  }

  put(k: string, v: number): number {
    if (!this.withAux) this.check(v, 0);
    const i = this.slot(k);
    const old = this.fresh ? -1 : this.valueAt(i);
    if (this.withAux) this.w[i + 5] = v;
    else this.write(i, v, 0);
    return old;
  }

  putIfAbsent(k: string, v: number, aux = 0): boolean {
    this.check(v, aux);
    const i = this.slot(k);
    if (!this.fresh) return false;
    this.write(i, v, aux);
    return true;
  }

  private homeAt(w: Int32Array, i: number, seed: number, shift: number): number {
    return (hash(w[i]!, w[i + 1]!, w[i + 2]!, w[i + 3]!, w[i + LP]! & 255, seed) >>> shift) * this.stride;
  }

  delete(k: string): number {
    let i = this.find(k);
    if (i < 0) return -1;
    this.lastKey = undefined; // entries move
    const old = this.valueAt(i);
    const w = this.w;
    const stride = this.stride;
    const end = w.length;
    // Backward-shift deletion keeps probe chains intact without tombstones.
    let j = i;
    for (;;) {
      j += stride;
      if (j === end) j = 0;
      if (w[j + LP] === 0) break;
      const home = this.homeAt(w, j, this.seed, this.shift);
      // Move the entry at j into the hole at i if its home is not cyclically in (i, j].
      if (i <= j ? home <= i || home > j : home <= i && home > j) {
        for (let x = 0; x < stride; x++) w[i + x] = w[j + x]!;
        i = j;
      }
    }
    w[i + LP] = 0;
    this.count--;
    if (this.count * 16 < this.cap && this.cap > MIN_CAP) this.resize(this.cap / 2);
    return old;
  }

  /** Rebuilds the table at `cap` slots (a shrink takes a new seed: see NumTable.resize). */
  private resize(cap: number): void {
    this.lastKey = undefined;
    if (cap < this.cap) this.seed = newSeed();
    const old = this.w;
    const stride = this.stride;
    const w = new Int32Array(cap * stride);
    this.w = w;
    this.cap = cap;
    this.shift = 32 - Math.log2(cap);
    const shift = this.shift;
    const seed = this.seed;
    const end = w.length;
    // In slot order: homes only grow (see the header), so a doubling streams through the new array.
    for (let i = 0; i < old.length; i += stride) {
      if (old[i + LP] === 0) continue;
      let j = this.homeAt(old, i, seed, shift); // keys are distinct: probe for a free slot only
      while (w[j + LP] !== 0) {
        j += stride;
        if (j === end) j = 0;
      }
      for (let x = 0; x < stride; x++) w[j + x] = old[i + x]!;
    }
  }

  private keyAt(i: number): string {
    const w = this.w;
    return v6Key(w[i]!, w[i + 1]!, w[i + 2]!, w[i + 3]!, (w[i + LP]! & 255) - 1);
  }

  forEach(fn: (v: number, k: string, aux: number) => void): void {
    const w = this.w;
    for (let i = 0; i < w.length; i += this.stride) {
      if (w[i + LP] !== 0) fn(this.valueAt(i), this.keyAt(i), this.withAux ? w[i + LP]! >>> 8 : -1);
    }
  }

  /** The longest run of occupied slots (probe cost; for tests and diagnostics). */
  longestRun(): number {
    const w = this.w;
    let best = 0;
    let run = 0;
    for (let pass = 0; pass < 2; pass++)
      for (let i = LP; i < w.length; i += this.stride) {
        run = w[i] === 0 ? 0 : run + 1; // the second pass continues a run that wraps around
        if (run > best) best = Math.min(run, this.cap);
      }
    return best;
  }

  keys(): string[] {
    const out: string[] = [];
    const w = this.w;
    for (let i = 0; i < w.length; i += this.stride) if (w[i + LP] !== 0) out.push(this.keyAt(i));
    return out;
  }

  /** Empties the table (see `clearedCapacity`: batch tables are reused). */
  clear(): void {
    this.lastKey = undefined;
    const cap = clearedCapacity(this.count, this.cap, this.maxLoad);
    if (cap === this.cap) this.w.fill(0);
    else {
      this.cap = cap;
      this.shift = 32 - Math.log2(cap);
      this.w = new Int32Array(cap * this.stride);
    }
    this.count = 0;
  }
}
