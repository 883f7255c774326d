/**
 * Flat prefix → int tables: the storage under every RIB (Adj-RIB-In, Loc-RIB, Adj-RIB-Out).
 *
 * Invariants:
 * - Values are non-negative int32 (an interned attribute-set id, a path ref, ...); `get`
 *   returns -1 for "absent", so no per-entry object is ever allocated.
 * - `NumTable` (IPv4 keys, see prefix-key.ts) is an open-addressing hash with linear probing and
 *   backward-shift deletion over typed arrays: 8 bytes of key + 4 of value (+4 of aux) per slot,
 *   load factor between 1/16 and 3/4 (about 16-48 bytes per entry at steady state) instead
 *   of a Map entry plus a boxed key (~80 bytes).
 * - `StrTable` (IPv6 keys) maps the key string to a row of typed columns (one Map per table).
 * - Do not mutate a table inside its own `forEach`: collect keys first (`keys()`).
 */
import type { PrefixKey } from './prefix-key.js';
import { StrTable } from './str-table.js';

export { StrTable } from './str-table.js';

/** A prefix → non-negative int32 table with an optional second int32 per entry (`aux`). */
export interface PrefixTable<K extends PrefixKey = PrefixKey> {
  readonly size: number;
  /** The aux value of the entry the last `get` found (-1 if none): a second column, no second probe. */
  readonly lastAux: number;
  /** The tag of the entry the last `get` found (-1 if none, or no tag column): a third column. */
  readonly lastTag: number;
  /** Sets the tag of an existing entry (no-op when absent or without a tag column). */
  setTag(k: K, tag: number): void;
  /** The value, or -1 when absent. */
  get(k: K): number;
  /** The aux value, or -1 when absent. */
  getAux(k: K): number;
  has(k: K): boolean;
  set(k: K, v: number, aux?: number): void;
  /** Sets the value and returns the previous one (-1 if absent): one probe instead of two. */
  put(k: K, v: number): number;
  /** Inserts only if absent; returns true when inserted. */
  putIfAbsent(k: K, v: number, aux?: number): boolean;
  /** Removes the entry; returns its old value or -1. */
  delete(k: K): number;
  forEach(fn: (v: number, k: K, aux: number) => void): void;
  /** A snapshot of the keys (safe to mutate the table while walking it). */
  keys(): K[];
  clear(): void;
}

const EMPTY = -1;
const MIN_CAP = 16;

/**
 * Home slot of an IPv4 key in a table of 2^(35 - gshift) slots. The prefix bits `p` (the top
 * `len` bits of the address) are split into aligned groups of 8 consecutive prefixes: the group
 * is hashed (spreading any structure in the input), the position inside the group is kept, so
 * the 8 neighbours share a cache line of the key array. BGP peers send prefixes mostly in
 * address order, so a run of 800 consecutive /32s costs ~100 cache misses per table instead of
 * 800. The group's slot is the TOP bits of its hash: doubling the table sends slot i to 2i or
 * 2i+1, so a resize reads the old table and writes the new one in order (streaming, not a cache
 * miss per entry).
 */
function homeOf(k: number, seed: number, gshift: number): number {
  const addr = Math.floor(k / 64); // not `k % 64`: fmod on a double is several times slower
  const len = k - addr * 64;
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

/** Open-addressing table for IPv4 keys (non-negative doubles below 2^53). */
export class NumTable implements PrefixTable<number> {
  private keysArr: Float64Array;
  private vals: Int32Array;
  private auxArr: Int32Array | undefined;
  private tags: Int32Array | undefined;
  private mask: number;
  private gshift: number;
  private count = 0;
  private fresh = false;
  private lastKey = -2;
  private lastIdx = 0;
  lastAux = -1;
  lastTag = -1;
  private seed = newSeed();

  /** `withAux`: keep a second int32 per entry; `withTag`: and a third (new entries start at -1). */
  constructor(
    private readonly withAux = false,
    private readonly withTag = false,
  ) {
    this.keysArr = new Float64Array(MIN_CAP).fill(EMPTY);
    this.vals = new Int32Array(MIN_CAP);
    this.auxArr = withAux ? new Int32Array(MIN_CAP) : undefined;
    this.tags = withTag ? new Int32Array(MIN_CAP) : undefined;
    this.mask = MIN_CAP - 1;
    this.gshift = groupShift(MIN_CAP);
  }

  get size(): number {
    return this.count;
  }

  /**
   * The slot of `k` (>= 0) or `-1 - insertionSlot`. The last answer is memoised until the next
   * structural change, so the usual get-then-set on one key probes once.
   */
  private find(k: number): number {
    if (k === this.lastKey) return this.lastIdx;
    const keys = this.keysArr;
    const mask = this.mask;
    let i = homeOf(k, this.seed, this.gshift);
    for (;;) {
      const s = keys[i]!;
      if (s === k) break;
      if (s === EMPTY) {
        i = -1 - i;
        break;
      }
      i = (i + 1) & mask;
    }
    this.lastKey = k;
    this.lastIdx = i;
    return i;
  }

  get(k: number): number {
    const i = this.find(k);
    if (i < 0) {
      this.lastAux = -1;
      this.lastTag = -1;
      return -1;
    }
    if (this.auxArr) this.lastAux = this.auxArr[i]!;
    if (this.tags) this.lastTag = this.tags[i]!;
    return this.vals[i]!;
  }

  setTag(k: number, tag: number): void {
    const i = this.find(k);
    if (i >= 0 && this.tags) this.tags[i] = tag;
  }

  getAux(k: number): number {
    const i = this.find(k);
    return i >= 0 && this.auxArr ? this.auxArr[i]! : -1;
  }

  has(k: number): boolean {
    return this.find(k) >= 0;
  }

  /** The slot of `k`, inserting it (value 0) when absent; `fresh` tells which happened. */
  private slot(k: number): number {
    let i = this.find(k);
    this.fresh = i < 0;
    if (i < 0) {
      if ((this.count + 1) * 4 > this.keysArr.length * 3) {
        this.resize(this.keysArr.length * 2);
        i = this.find(k);
      }
      i = -1 - i;
      this.keysArr[i] = k;
      this.vals[i] = 0;
      if (this.auxArr) this.auxArr[i] = 0;
      if (this.tags) this.tags[i] = -1;
      this.count++;
      this.lastIdx = i; // lastKey is k: now present at i
    }
    return i;
  }

  set(k: number, v: number, aux = 0): void {
    const i = this.slot(k);
    this.vals[i] = v;
    if (this.auxArr) this.auxArr[i] = aux;
  }

  put(k: number, v: number): number {
    const i = this.slot(k);
    const old = this.fresh ? -1 : this.vals[i]!;
    this.vals[i] = v;
    return old;
  }

  putIfAbsent(k: number, v: number, aux = 0): boolean {
    const i = this.slot(k);
    if (!this.fresh) return false;
    this.vals[i] = v;
    if (this.auxArr) this.auxArr[i] = aux;
    return true;
  }

  delete(k: number): number {
    let i = this.find(k);
    if (i < 0) return -1;
    this.lastKey = -2; // entries move
    const old = this.vals[i]!;
    const keys = this.keysArr;
    const mask = this.mask;
    // Backward-shift deletion keeps probe chains intact without tombstones.
    let j = i;
    for (;;) {
      j = (j + 1) & mask;
      const kj = keys[j]!;
      if (kj === EMPTY) break;
      const home = homeOf(kj, this.seed, this.gshift);
      // Move kj into the hole at i if its home is not cyclically in (i, j].
      if (i <= j ? home <= i || home > j : home <= i && home > j) {
        keys[i] = kj;
        this.vals[i] = this.vals[j]!;
        if (this.auxArr) this.auxArr[i] = this.auxArr[j]!;
        if (this.tags) this.tags[i] = this.tags[j]!;
        i = j;
      }
    }
    keys[i] = EMPTY;
    this.count--;
    if (this.count * 4 < keys.length / 4 && keys.length > MIN_CAP) this.resize(keys.length / 2);
    return old;
  }

  /**
   * Rebuilds the table at `cap` slots. Shrinking also takes a new seed: the survivors of a
   * removal that followed the slot order (a peer's table emptied through `keys()`) sit in one end
   * of the hash range, and the same seed would pack them into one run as long as the table.
   */
  private resize(cap: number): void {
    this.lastKey = -2;
    if (cap < this.keysArr.length) this.seed = newSeed();
    const oldKeys = this.keysArr;
    const oldVals = this.vals;
    const oldAux = this.auxArr;
    const oldTags = this.tags;
    this.keysArr = new Float64Array(cap).fill(EMPTY);
    this.vals = new Int32Array(cap);
    this.auxArr = oldAux ? new Int32Array(cap) : undefined;
    this.tags = oldTags ? new Int32Array(cap) : undefined;
    const tags = this.tags;
    this.mask = cap - 1;
    this.gshift = groupShift(cap);
    const gshift = this.gshift;
    const seed = this.seed;
    const keys = this.keysArr;
    const vals = this.vals;
    const aux = this.auxArr;
    const mask = this.mask;
    // In slot order: homes only grow (see homeOf), so the writes stream through the new arrays.
    for (let i = 0; i < oldKeys.length; i++) {
      const k = oldKeys[i]!;
      if (k === EMPTY) continue;
      let j = homeOf(k, seed, gshift); // keys are distinct: probe for a free slot only
      while (keys[j]! !== EMPTY) j = (j + 1) & mask;
      keys[j] = k;
      vals[j] = oldVals[i]!;
      if (oldAux && aux) aux[j] = oldAux[i]!;
      if (oldTags && tags) tags[j] = oldTags[i]!;
    }
  }

  forEach(fn: (v: number, k: number, aux: number) => void): void {
    const keys = this.keysArr;
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i]!;
      if (k !== EMPTY) fn(this.vals[i]!, k, this.auxArr ? this.auxArr[i]! : -1);
    }
  }

  /** The longest run of occupied slots (probe cost; for tests and diagnostics). */
  longestRun(): number {
    const keys = this.keysArr;
    let best = 0;
    let run = 0;
    for (let pass = 0; pass < 2; pass++)
      for (let i = 0; i < keys.length; i++) {
        run = keys[i]! === EMPTY ? 0 : run + 1; // the second pass continues a run that wraps around
        if (run > best) best = Math.min(run, keys.length);
      }
    return best;
  }

  keys(): number[] {
    const out: number[] = [];
    const keys = this.keysArr;
    for (let i = 0; i < keys.length; i++) if (keys[i]! !== EMPTY) out.push(keys[i]!);
    return out;
  }

  /** Empties the table; keeps the capacity while it is modest (batch tables are reused). */
  clear(): void {
    this.lastKey = -2;
    if (this.keysArr.length <= 1 << 16) this.keysArr.fill(EMPTY);
    else {
      this.keysArr = new Float64Array(MIN_CAP).fill(EMPTY);
      this.vals = new Int32Array(MIN_CAP);
      this.auxArr = this.withAux ? new Int32Array(MIN_CAP) : undefined;
      this.tags = this.withTag ? new Int32Array(MIN_CAP) : undefined;
      this.mask = MIN_CAP - 1;
      this.gshift = groupShift(MIN_CAP);
    }
    this.count = 0;
  }
}

/** A table for the family's key type: NumTable for IPv4, StrTable for IPv6. */
export function makeTable(family: 'ipv4-unicast' | 'ipv6-unicast', withAux = false, withTag = false): PrefixTable {
  return (family === 'ipv4-unicast' ? new NumTable(withAux, withTag) : new StrTable(withAux, withTag)) as PrefixTable;
}
