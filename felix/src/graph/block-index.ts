/**
 * IPAM blocks indexed for containment: "which block holds this address?" in O(number of
 * distinct block sizes) (normally one per family), not O(blocks). Keys are canonical CIDRs.
 */
import type { BlockInfo } from './events.js';
import { networkAt, parsePrefix, type Prefix } from './prefix.js';

/** Blocks by canonical CIDR, with a per-prefix-length index for containment lookups. */
export class BlockIndex {
  private readonly byCidr = new Map<string, BlockInfo>();
  /** `${v4}/${len}` → count of blocks of that size. */
  private readonly sizes = new Map<string, { v4: boolean; len: number; count: number }>();

  get(cidr: string): BlockInfo | undefined {
    return this.byCidr.get(cidr);
  }

  keys(): IterableIterator<string> {
    return this.byCidr.keys();
  }

  get size(): number {
    return this.byCidr.size;
  }

  set(cidr: Prefix, block: BlockInfo): void {
    if (!this.byCidr.has(cidr.text)) {
      const k = `${cidr.v4}/${cidr.len}`;
      const s = this.sizes.get(k);
      if (s) s.count++;
      else this.sizes.set(k, { v4: cidr.v4, len: cidr.len, count: 1 });
    }
    this.byCidr.set(cidr.text, block);
  }

  delete(cidr: Prefix): void {
    if (!this.byCidr.delete(cidr.text)) return;
    const k = `${cidr.v4}/${cidr.len}`;
    const s = this.sizes.get(k);
    if (s && --s.count === 0) this.sizes.delete(k);
  }

  /** The CIDR of the block containing `dst` (an address or CIDR at least as long), if any. */
  containing(dst: string): string | undefined {
    if (this.byCidr.size === 0) return undefined;
    const d = parsePrefix(dst);
    if (!d) return undefined;
    for (const s of this.sizes.values()) {
      if (s.v4 !== d.v4 || s.len > d.len) continue;
      const net = networkAt(d, s.len);
      if (this.byCidr.has(net)) return net;
    }
    return undefined;
  }
}
