/**
 * The IPv6 prefix table (see prefix-table.ts for the interface and its invariants).
 *
 * Invariants:
 * - Open addressing with linear probing and backward-shift deletion (no tombstones), load
 *   factor between 1/16 and 3/4, like NumTable; the home slot is the TOP bits of the hash, so a
 *   doubling sends slot i to 2i or 2i+1 and the resize streams through both arrays (the same
 *   seed while growing; a shrink takes a new one, see NumTable.resize).
 * - A slot is one run of int32 in a single typed array: the key's four address words, its
 *   length + 1 (0 = empty slot), the value, then the aux and tag columns when the table has
 *   them. A probe touches one or two cache lines; no per-entry object or string is kept
 *   (24-32 bytes per slot, against a Map entry plus the key string before).
 * - The key strings (prefix-key.ts) are read, not stored: `keys` and `forEach` rebuild them.
 */
import type { PrefixTable } from './prefix-table.js';
import { v6Key, v6KeyLen, v6KeyWord } from './prefix-key.js';

const MIN_CAP = 16;
const LEN = 4; // slot offset of length + 1
const VAL = 5; // slot offset of the value

/** Every table hashes with its own seed: see NumTable's note on seeds. */
let seeds = 0;

function newSeed(): number {
  return Math.imul(++seeds, 0x2545f491);
}

function hash(w0: number, w1: number, w2: number, w3: number, len: number, seed: number): number {
  let h = Math.imul(w0 ^ seed, 0x9e3779b1);
  h = Math.imul(h ^ (h >>> 15) ^ w1, 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13) ^ w2, 0xc2b2ae35);
  h = Math.imul(h ^ (h >>> 16) ^ w3 ^ (len << 24), 0x27d4eb2d);
  return h ^ (h >>> 15);
}

/** Open-addressing table for IPv6 keys. */
export class Ipv6Table implements PrefixTable<string> {
  private readonly stride: number;
  private readonly auxAt: number;
  private readonly tagAt: number;
  private s: Int32Array;
  private mask = MIN_CAP - 1;
  /** 32 - log2(capacity): the home slot is `hash >>> shift`. */
  private shift = 32 - Math.log2(MIN_CAP);
  private count = 0;
  private seed = newSeed();
  private fresh = false;
  private lastKey: string | undefined;
  private lastIdx = 0;
  // The words of the key being looked up (set by `find`).
  private w0 = 0;
  private w1 = 0;
  private w2 = 0;
  private w3 = 0;
  private len1 = 0;
  lastAux = -1;
  lastTag = -1;

  /** `withAux`: keep a second int32 per entry; `withTag`: and a third (new entries start at -1). */
  constructor(withAux = false, withTag = false) {
    this.auxAt = withAux ? VAL + 1 : -1;
    this.tagAt = withTag ? VAL + (withAux ? 2 : 1) : -1;
    this.stride = VAL + 1 + (withAux ? 1 : 0) + (withTag ? 1 : 0);
    this.s = new Int32Array(MIN_CAP * this.stride);
  }

  get size(): number {
    return this.count;
  }

  /** The slot index of `k` (>= 0) or `-1 - insertionIndex`; memoised until the next structural change. */
  private find(k: string): number {
    if (k === this.lastKey) return this.lastIdx;
    const w0 = v6KeyWord(k, 0);
    const w1 = v6KeyWord(k, 1);
    const w2 = v6KeyWord(k, 2);
    const w3 = v6KeyWord(k, 3);
    const len1 = v6KeyLen(k) + 1;
    this.w0 = w0;
    this.w1 = w1;
    this.w2 = w2;
    this.w3 = w3;
    this.len1 = len1;
    const s = this.s;
    const st = this.stride;
    const mask = this.mask;
    let i = hash(w0, w1, w2, w3, len1, this.seed) >>> this.shift;
    for (;;) {
      const o = i * st;
      const l = s[o + LEN]!;
      if (l === 0) {
        i = -1 - i;
        break;
      }
      if (l === len1 && s[o] === w0 && s[o + 1] === w1 && s[o + 2] === w2 && s[o + 3] === w3) break;
      i = (i + 1) & mask;
    }
    this.lastKey = k;
    this.lastIdx = i;
    return i;
  }

  get(k: string): number {
    const i = this.find(k);
    if (i < 0) {
      this.lastAux = -1;
      this.lastTag = -1;
      return -1;
    }
    const o = i * this.stride;
    if (this.auxAt > 0) this.lastAux = this.s[o + this.auxAt]!;
    if (this.tagAt > 0) this.lastTag = this.s[o + this.tagAt]!;
    return this.s[o + VAL]!;
  }

  setTag(k: string, tag: number): void {
    const i = this.find(k);
    if (i >= 0 && this.tagAt > 0) this.s[i * this.stride + this.tagAt] = tag;
  }

  getAux(k: string): number {
    const i = this.find(k);
    return i >= 0 && this.auxAt > 0 ? this.s[i * this.stride + this.auxAt]! : -1;
  }

  has(k: string): boolean {
    return this.find(k) >= 0;
  }

  /** The slot offset of `k`, inserting it (value 0) when absent; `fresh` tells which happened. */
  private slot(k: string): number {
    let i = this.find(k);
    this.fresh = i < 0;
    if (i < 0) {
      if ((this.count + 1) * 4 > (this.mask + 1) * 3) {
        this.resize((this.mask + 1) * 2);
        i = this.find(k);
      }
      i = -1 - i;
      const s = this.s;
      const o = i * this.stride;
      s[o] = this.w0;
      s[o + 1] = this.w1;
      s[o + 2] = this.w2;
      s[o + 3] = this.w3;
      s[o + LEN] = this.len1;
      s[o + VAL] = 0;
      if (this.auxAt > 0) s[o + this.auxAt] = 0;
      if (this.tagAt > 0) s[o + this.tagAt] = -1;
      this.count++;
      this.lastIdx = i; // lastKey is k: now present at i
    }
    return i * this.stride;
  }

  set(k: string, v: number, aux = 0): void {
    const o = this.slot(k);
    this.s[o + VAL] = v;
    if (this.auxAt > 0) this.s[o + this.auxAt] = aux;
  }

  put(k: string, v: number): number {
    const o = this.slot(k);
    const old = this.fresh ? -1 : this.s[o + VAL]!;
    this.s[o + VAL] = v;
    return old;
  }

  putIfAbsent(k: string, v: number, aux = 0): boolean {
    const o = this.slot(k);
    if (!this.fresh) return false;
    this.s[o + VAL] = v;
    if (this.auxAt > 0) this.s[o + this.auxAt] = aux;
    return true;
  }

  private homeAt(o: number): number {
    const s = this.s;
    return hash(s[o]!, s[o + 1]!, s[o + 2]!, s[o + 3]!, s[o + LEN]!, this.seed) >>> this.shift;
  }

  delete(k: string): number {
    let i = this.find(k);
    if (i < 0) return -1;
    this.lastKey = undefined; // entries move
    const s = this.s;
    const st = this.stride;
    const mask = this.mask;
    const old = s[i * st + VAL]!;
    // Backward-shift deletion keeps probe chains intact without tombstones.
    let j = i;
    for (;;) {
      j = (j + 1) & mask;
      if (s[j * st + LEN] === 0) break;
      const home = this.homeAt(j * st);
      // Move the entry at j into the hole at i if its home is not cyclically in (i, j].
      if (i <= j ? home <= i || home > j : home <= i && home > j) {
        for (let c = 0; c < st; c++) s[i * st + c] = s[j * st + c]!;
        i = j;
      }
    }
    s[i * st + LEN] = 0;
    this.count--;
    if (this.count * 16 < this.mask + 1 && this.mask + 1 > MIN_CAP) this.resize((this.mask + 1) / 2);
    return old;
  }

  private resize(cap: number): void {
    this.lastKey = undefined;
    if (cap < this.mask + 1) this.seed = newSeed();
    const old = this.s;
    const st = this.stride;
    const s = new Int32Array(cap * st);
    this.s = s;
    this.mask = cap - 1;
    this.shift = 32 - Math.log2(cap);
    const mask = this.mask;
    const shift = this.shift;
    // In slot order: when growing, homes only grow (see the header), so the writes stream.
    for (let o = 0; o < old.length; o += st) {
      if (old[o + LEN] === 0) continue;
      let j = hash(old[o]!, old[o + 1]!, old[o + 2]!, old[o + 3]!, old[o + LEN]!, this.seed) >>> shift;
      while (s[j * st + LEN] !== 0) j = (j + 1) & mask; // keys are distinct: probe for a free slot only
      const d = j * st;
      for (let c = 0; c < st; c++) s[d + c] = old[o + c]!;
    }
  }

  private keyAt(o: number): string {
    const s = this.s;
    return v6Key(s[o]! >>> 0, s[o + 1]! >>> 0, s[o + 2]! >>> 0, s[o + 3]! >>> 0, s[o + LEN]! - 1);
  }

  forEach(fn: (v: number, k: string, aux: number) => void): void {
    const s = this.s;
    const st = this.stride;
    for (let o = 0; o < s.length; o += st) {
      if (s[o + LEN] !== 0) fn(s[o + VAL]!, this.keyAt(o), this.auxAt > 0 ? s[o + this.auxAt]! : -1);
    }
  }

  /** The longest run of occupied slots (probe cost; for tests and diagnostics). */
  longestRun(): number {
    const s = this.s;
    const cap = this.mask + 1;
    let best = 0;
    let run = 0;
    for (let pass = 0; pass < 2; pass++)
      for (let i = 0; i < cap; i++) {
        run = s[i * this.stride + LEN] === 0 ? 0 : run + 1; // the second pass continues a run that wraps around
        if (run > best) best = Math.min(run, cap);
      }
    return best;
  }

  keys(): string[] {
    const out: string[] = [];
    const s = this.s;
    for (let o = 0; o < s.length; o += this.stride) if (s[o + LEN] !== 0) out.push(this.keyAt(o));
    return out;
  }

  /** Empties the table; keeps the capacity while it is modest (batch tables are reused). */
  clear(): void {
    this.lastKey = undefined;
    this.count = 0;
    if (this.mask + 1 <= 1 << 16) this.s.fill(0);
    else {
      this.s = new Int32Array(MIN_CAP * this.stride);
      this.mask = MIN_CAP - 1;
      this.shift = 32 - Math.log2(MIN_CAP);
    }
  }
}
