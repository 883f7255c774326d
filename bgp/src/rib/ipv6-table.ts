/**
 * The IPv6 prefix table (see prefix-table.ts for the interface, slot-table.ts for the layout):
 *
 *   words 0-3: the address (prefix bits, host bits zero), most significant word first
 *   word 4:    the length + 1 (8 bits) | packed << 8, or 0 for an empty slot
 *   word 5:    the value (tables with aux)
 *
 * So an Adj-RIB-In slot is 20 bytes and a Loc-RIB slot (value + aux) 24, where a Map entry plus
 * the key string took about 90; the packed column holds 0 .. 2^23-1. The key strings
 * (prefix-key.ts) are read, not stored: `keys` and `forEach` rebuild them. The home slot is the
 * TOP bits of the hash, so a doubling streams (see slot-table.ts).
 */
import { v6Key, v6KeyLen, v6KeyWord } from './prefix-key.js';
import { SlotTable } from './slot-table.js';

const LP = 4; // word offset of length + 1 | packed << 8
/** The packed column's exclusive upper bound. */
export const IPV6_PACKED_LIMIT = 1 << 23;

function hash(w0: number, w1: number, w2: number, w3: number, len1: number, seed: number): number {
  let h = Math.imul(w0 ^ seed, 0x9e3779b1);
  h = Math.imul(h ^ (h >>> 15) ^ w1, 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13) ^ w2, 0xc2b2ae35);
  h = Math.imul(h ^ (h >>> 16) ^ w3 ^ (len1 << 24), 0x27d4eb2d);
  return h ^ (h >>> 15);
}

/** Open-addressing table for IPv6 keys. */
export class Ipv6Table extends SlotTable<string> {
  /** 32 - log2(cap): the home slot is `hash >>> shift`. */
  private shift = 28;
  private lastKey: string | undefined;
  // The words of the last key `find` decoded (for the insertion that may follow).
  private k0 = 0;
  private k1 = 0;
  private k2 = 0;
  private k3 = 0;
  private kLen1 = 0;

  /** `withAux`: keep a second int32 per entry; `withTag`: and a third (new entries start at -1). */
  constructor(withAux = false, withTag = false) {
    super(LP, 8, withAux, withTag, 'Ipv6Table');
  }

  protected find(k: string): number {
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

  protected homeOfKey(k: string): number {
    const h = hash(v6KeyWord(k, 0), v6KeyWord(k, 1), v6KeyWord(k, 2), v6KeyWord(k, 3), v6KeyLen(k) + 1, this.seed);
    return (h >>> this.shift) * this.stride;
  }

  /** `find` just decoded k: its words are at hand. */
  protected writeKey(i: number): void {
    const w = this.w;
    w[i] = this.k0;
    w[i + 1] = this.k1;
    w[i + 2] = this.k2;
    w[i + 3] = this.k3;
    w[i + LP] = this.kLen1;
  }

  protected homeAt(w: Int32Array, i: number): number {
    return (hash(w[i]!, w[i + 1]!, w[i + 2]!, w[i + 3]!, w[i + LP]! & 255, this.seed) >>> this.shift) * this.stride;
  }

  protected keyAt(i: number): string {
    const w = this.w;
    return v6Key(w[i]!, w[i + 1]!, w[i + 2]!, w[i + 3]!, (w[i + LP]! & 255) - 1);
  }

  protected forget(): void {
    this.lastKey = undefined;
  }

  protected capacityChanged(cap: number): void {
    this.shift = 32 - Math.log2(cap);
  }
}
