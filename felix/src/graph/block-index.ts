/**
 * IPAM blocks indexed for containment: "which block holds this address?" in O(number of
 * distinct block sizes) (normally one per family), not O(blocks). Keys are canonical CIDRs.
 */
import { makeCidr, parseCidrOrIp, type Cidr } from '@tabby/api';
import type { BlockInfo } from './events.js';

/** Blocks by canonical CIDR, with a per-prefix-length index for containment lookups. */
export class BlockIndex {
  private readonly byCidr = new Map<string, BlockInfo>();
  /** `${family}/${len}` → count of blocks of that size. */
  private readonly sizes = new Map<string, { family: 4 | 6; len: number; count: number }>();

  get(cidr: string): BlockInfo | undefined {
    return this.byCidr.get(cidr);
  }

  keys(): IterableIterator<string> {
    return this.byCidr.keys();
  }

  get size(): number {
    return this.byCidr.size;
  }

  set(cidr: Cidr, block: BlockInfo): void {
    if (!this.byCidr.has(cidr.text)) {
      const k = `${cidr.family}/${cidr.prefixLen}`;
      const s = this.sizes.get(k);
      if (s) s.count++;
      else this.sizes.set(k, { family: cidr.family, len: cidr.prefixLen, count: 1 });
    }
    this.byCidr.set(cidr.text, block);
  }

  delete(cidr: Cidr): void {
    if (!this.byCidr.delete(cidr.text)) return;
    const k = `${cidr.family}/${cidr.prefixLen}`;
    const s = this.sizes.get(k);
    if (s && --s.count === 0) this.sizes.delete(k);
  }

  /** The CIDR of the block containing `dst` (an address or CIDR at least as long), if any. */
  containing(dst: string): string | undefined {
    if (this.byCidr.size === 0) return undefined;
    const d = parseCidrOrIp(dst);
    for (const s of this.sizes.values()) {
      if (s.family !== d.family || s.len > d.prefixLen) continue;
      const net = makeCidr(d.family, d.addr, s.len).text;
      if (this.byCidr.has(net)) return net;
    }
    return undefined;
  }
}
