/**
 * Flat prefix → int tables: the storage under every RIB (Adj-RIB-In, Loc-RIB, Adj-RIB-Out).
 *
 * Invariants:
 * - Values are non-negative int32 (an interned attribute-set id, a path ref, ...); `get`
 *   returns -1 for "absent", so no per-entry object is ever allocated.
 * - `NumTable` (IPv4 keys, see prefix-key.ts and num-table.ts) is an open-addressing hash over
 *   one Int32Array: 8 bytes per slot with a value, 12 with value and aux, load factor between
 *   1/16 and 3/4 (about 11-32 bytes per entry at steady state) instead of a Map entry plus a
 *   boxed key (~80 bytes).
 * - `Ipv6Table` (IPv6 keys, ipv6-table.ts) is the same kind of hash over the key's address
 *   words, all columns of a slot side by side in one Int32Array.
 * - Do not mutate a table inside its own `forEach`: collect keys first (`keys()`).
 */
import type { PrefixKey } from './prefix-key.js';
import { NumTable } from './num-table.js';
import { Ipv6Table } from './ipv6-table.js';

export { NumTable } from './num-table.js';
export { Ipv6Table } from './ipv6-table.js';

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
  /**
   * Loads the first word a lookup of each of `keys[0..n)` will probe (returns them folded, so
   * the loads are kept). Issued before the lookups of a batch of random keys (UpdateSink), the
   * cache misses overlap instead of waiting one after another.
   */
  touchAll(keys: ArrayLike<K>, n: number): number;
  forEach(fn: (v: number, k: K, aux: number) => void): void;
  /** A snapshot of the keys (safe to mutate the table while walking it). */
  keys(): K[];
  clear(): void;
}

/** A table for the family's key type: NumTable for IPv4, Ipv6Table for IPv6. */
export function makeTable(family: 'ipv4-unicast' | 'ipv6-unicast', withAux = false, withTag = false): PrefixTable {
  return (family === 'ipv4-unicast' ? new NumTable(withAux, withTag) : new Ipv6Table(withAux, withTag)) as PrefixTable;
}
