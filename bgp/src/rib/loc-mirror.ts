/**
 * A Loc-RIB that is a view of one peer's Adj-RIB-In, for the commonest large ingest: a single
 * peer feeding a route reflector or a receiver that nobody else reads from yet.
 *
 * While every path of a family comes from one peer P (path id 0), every next hop counts as
 * reachable and nothing consumes change records (RibCore.quiet: P alone in the only export
 * group, no best-path events), the Loc-RIB holds exactly P's paths: value `pathRef(0, P)`, aux
 * the attribute set id that P's table holds (its value >> 1, the low bit being the stale mark).
 * Writing that a second time cost half of the ingest (a cache miss per route in a second table,
 * and that table's growth). RibCore swaps a real table in (`materialize`) before the first change
 * that breaks the condition; the view refuses writes, so a missed case fails loudly.
 */
import type { PrefixKey } from './prefix-key.js';
import type { PrefixTable } from './prefix-table.js';

/** The Loc-RIB as a read-only view of one Adj-RIB-In table (see the module header). */
export class LocMirror implements PrefixTable {
  lastAux = -1;
  readonly lastTag = -1;

  /** `src`: the peer's Adj-RIB-In (path id 0); `ref`: its path reference. */
  constructor(
    readonly src: PrefixTable,
    readonly ref: number,
  ) {}

  get size(): number {
    return this.src.size;
  }

  get(k: PrefixKey): number {
    const v = this.src.get(k);
    if (v < 0) {
      this.lastAux = -1;
      return -1;
    }
    this.lastAux = v >> 1;
    return this.ref;
  }

  getAux(k: PrefixKey): number {
    const v = this.src.get(k);
    return v < 0 ? -1 : v >> 1;
  }

  has(k: PrefixKey): boolean {
    return this.src.has(k);
  }

  forEach(fn: (v: number, k: PrefixKey, aux: number) => void): void {
    this.src.forEach((v, k) => fn(this.ref, k, v >> 1));
  }

  keys(): PrefixKey[] {
    return this.src.keys();
  }

  touchAll(keys: ArrayLike<PrefixKey>, n: number): number {
    return this.src.touchAll(keys, n);
  }

  setTag(): void {
    refuse();
  }
  set(): void {
    refuse();
  }
  put(): number {
    return refuse();
  }
  putIfAbsent(): boolean {
    return refuse();
  }
  delete(): number {
    return refuse();
  }
  clear(): void {
    refuse();
  }
}

function refuse(): never {
  throw new Error('internal: write to a mirrored Loc-RIB (RibCore must materialize it first)');
}
