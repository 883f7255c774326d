/**
 * The IPv6 prefix table (see prefix-table.ts for the interface and its invariants): IPv6 keys
 * are strings, so a Map finds the row and the values live in typed columns.
 */
import type { PrefixTable } from './prefix-table.js';

const MIN_CAP = 16;

/**
 * Table for IPv6 keys: one Map from key to a row number, the values in typed columns (rows of
 * deleted keys are reused). One Map operation per access, however many columns, and the last
 * key's row is memoised like NumTable's slot.
 */
export class StrTable implements PrefixTable<string> {
  private readonly rows = new Map<string, number>();
  private vals = new Int32Array(MIN_CAP);
  private auxArr: Int32Array | undefined;
  private tags: Int32Array | undefined;
  private readonly free: number[] = [];
  private top = 0;
  private lastKey: string | undefined;
  private lastRow = -1;
  lastAux = -1;
  lastTag = -1;

  constructor(withAux = false, withTag = false) {
    this.auxArr = withAux ? new Int32Array(MIN_CAP) : undefined;
    this.tags = withTag ? new Int32Array(MIN_CAP) : undefined;
  }

  get size(): number {
    return this.rows.size;
  }

  private row(k: string): number {
    if (k === this.lastKey) return this.lastRow;
    const r = this.rows.get(k);
    this.lastKey = k;
    this.lastRow = r === undefined ? -1 : r;
    return this.lastRow;
  }

  private insert(k: string): number {
    let r = this.free.pop();
    if (r === undefined) {
      r = this.top++;
      if (r === this.vals.length) this.grow(r * 2);
    }
    this.rows.set(k, r);
    if (this.auxArr) this.auxArr[r] = 0;
    if (this.tags) this.tags[r] = -1;
    this.lastKey = k;
    this.lastRow = r;
    return r;
  }

  private grow(cap: number): void {
    const v = new Int32Array(cap);
    v.set(this.vals);
    this.vals = v;
    if (this.auxArr) {
      const a = new Int32Array(cap);
      a.set(this.auxArr);
      this.auxArr = a;
    }
    if (this.tags) {
      const t = new Int32Array(cap);
      t.set(this.tags);
      this.tags = t;
    }
  }

  get(k: string): number {
    const r = this.row(k);
    this.lastAux = r >= 0 && this.auxArr ? this.auxArr[r]! : -1;
    this.lastTag = r >= 0 && this.tags ? this.tags[r]! : -1;
    return r >= 0 ? this.vals[r]! : -1;
  }
  getAux(k: string): number {
    const r = this.row(k);
    return r >= 0 && this.auxArr ? this.auxArr[r]! : -1;
  }
  setTag(k: string, tag: number): void {
    const r = this.row(k);
    if (r >= 0 && this.tags) this.tags[r] = tag;
  }
  has(k: string): boolean {
    return this.row(k) >= 0;
  }
  set(k: string, v: number, aux = 0): void {
    let r = this.row(k);
    if (r < 0) r = this.insert(k);
    this.vals[r] = v;
    if (this.auxArr) this.auxArr[r] = aux;
  }
  put(k: string, v: number): number {
    let r = this.row(k);
    const old = r >= 0 ? this.vals[r]! : -1;
    if (r < 0) r = this.insert(k);
    this.vals[r] = v;
    return old;
  }
  putIfAbsent(k: string, v: number, aux = 0): boolean {
    if (this.row(k) >= 0) return false;
    this.set(k, v, aux);
    return true;
  }
  delete(k: string): number {
    const r = this.row(k);
    if (r < 0) return -1;
    this.rows.delete(k);
    this.free.push(r);
    this.lastKey = undefined;
    return this.vals[r]!;
  }
  forEach(fn: (v: number, k: string, aux: number) => void): void {
    for (const [k, r] of this.rows) fn(this.vals[r]!, k, this.auxArr ? this.auxArr[r]! : -1);
  }
  keys(): string[] {
    return [...this.rows.keys()];
  }
  clear(): void {
    this.rows.clear();
    this.free.length = 0;
    this.top = 0;
    this.lastKey = undefined;
    if (this.vals.length > 1 << 16) {
      this.vals = new Int32Array(MIN_CAP);
      if (this.auxArr) this.auxArr = new Int32Array(MIN_CAP);
      if (this.tags) this.tags = new Int32Array(MIN_CAP);
    }
  }
}
