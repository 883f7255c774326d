/**
 * Attribute sets kept as the path attribute octets they were received as (raw-bytes interning
 * on the IPv4 fast path): a set interned from octets stores them as a one-byte string (about
 * 16 + n bytes) instead of a tree of frozen objects (~300 bytes), and decodes them again only
 * when something reads its `attrs` (an import filter, the exporter, a status dump).
 *
 * Invariants:
 * - `RawAttrDecoder.decode(octets)` gives exactly the attributes the set was interned with:
 *   the codec's decoding of the same octets with the same context and options (deterministic,
 *   `decodeAcceptedAttributes`), then the same `normaliseImport`.
 * - One decoder per distinct set of decoding facts (4-octet AS, iBGP/eBGP, the peer's AS,
 *   AS4 reconciliation, the source kind), shared by every peer with those facts: equal octets
 *   under one decoder are one attribute set, so the store can compare octets, not objects.
 * - Only UPDATEs without MP_REACH / MP_UNREACH take this path (their octets would carry NLRI).
 */
import type { DecodeOptions } from '../codec/attributes-decode.js';
import type { CodecContext, PathAttributes } from '../codec/types.js';
import { decodeAcceptedAttributes } from '../codec/update-decode.js';
import type { SourceKind } from './decision.js';
import { normaliseImport } from './policy.js';

/** How an UPDATE's octets were decoded: the session's codec context and decode options. */
export interface RawDecodeContext {
  ctx: CodecContext;
  opts: DecodeOptions;
}

/** The path attribute field `bytes[start..end)` of an accepted UPDATE, and how it was decoded. */
export interface RawAttrs {
  bytes: Uint8Array;
  start: number;
  end: number;
  how: RawDecodeContext;
}

/** Octets (as a one-byte string) → the attribute set's attributes, for one set of decoding facts. */
export class RawAttrDecoder {
  constructor(
    private readonly how: RawDecodeContext,
    private readonly kind: SourceKind,
  ) {}

  /** The (normalised, unfrozen) attributes of stored octets. */
  decode(raw: string): Readonly<PathAttributes> {
    const b = new Uint8Array(raw.length);
    for (let i = 0; i < raw.length; i++) b[i] = raw.charCodeAt(i);
    return normaliseImport(decodeAcceptedAttributes(b, 0, b.length, this.how.ctx, this.how.opts), this.kind);
  }
}

/** The shared decoders, by decoding facts (a handful per RIB; never dropped). */
export class RawDecoders {
  private readonly byFacts = new Map<string, RawAttrDecoder>();
  private lastHow: RawDecodeContext | undefined;
  private lastKind: SourceKind | undefined;
  private last: RawAttrDecoder | undefined;

  /** The decoder for octets decoded with `how` from a peer of `kind`. */
  get(how: RawDecodeContext, kind: SourceKind): RawAttrDecoder {
    if (how === this.lastHow && kind === this.lastKind && this.last) return this.last;
    const o = how.opts;
    // Everything attribute decoding reads (decodeAttributes, reconcileAs4) and normaliseImport's input.
    const facts = `${how.ctx.fourOctetAs}|${o.ibgp}|${o.peerAs}|${o.reconcileAs4}|${kind}`;
    let d = this.byFacts.get(facts);
    if (!d) this.byFacts.set(facts, (d = new RawAttrDecoder(how, kind)));
    this.lastHow = how;
    this.lastKind = kind;
    this.last = d;
    return d;
  }
}

/**
 * Reused argument lists for `String.fromCharCode`, one per length up to 256 (at most ~260 KB):
 * filled by index, so building a set's string allocates nothing but the string.
 */
const codesByLength: number[][] = [];

function chunkString(b: Uint8Array, start: number, end: number): string {
  const n = end - start;
  if (n > 256) return String.fromCharCode.apply(null, b.subarray(start, end) as unknown as number[]);
  let codes = codesByLength[n];
  if (!codes) codesByLength[n] = codes = new Array<number>(n).fill(0);
  for (let i = 0; i < n; i++) codes[i] = b[start + i]!;
  return String.fromCharCode.apply(null, codes);
}

/** `b[start..end)` as a one-byte string (one char per octet). */
export function octetString(b: Uint8Array, start: number, end: number): string {
  let s = '';
  for (let p = start; p < end; p += 4096) s += chunkString(b, p, Math.min(end, p + 4096));
  return s;
}

/** True when the one-byte string `raw` holds exactly the octets `b[start..end)`. */
export function sameOctets(raw: string, b: Uint8Array, start: number, end: number): boolean {
  if (raw.length !== end - start) return false;
  for (let i = 0; i < raw.length; i++) if (raw.charCodeAt(i) !== b[start + i]) return false;
  return true;
}
