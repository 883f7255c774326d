/**
 * AS_PATH / AS4_PATH segments (RFC 4271 §4.3, RFC 6793) and the AS4 reconciliation of
 * RFC 6793 §4.2.3.
 *
 * Invariants: decoding returns either the segments or the reason they are malformed
 * (RFC 7606 §7.2: unknown segment type, zero-length segment, overrun or one-octet underrun;
 * RFC 7607: AS 0). Encoding never emits a segment longer than 255 ASNs and, towards a 2-octet
 * peer, substitutes AS_TRANS only for ASNs above 65535 (RFC 6793 §4.2.2).
 */
import type { ByteWriter } from './writer.js';
import { AsPathSegmentType, type AsPathSegment, type PathAttributes } from './types.js';

/** RFC 6793 §9: the AS number standing in for a 4-octet ASN towards 2-octet speakers. */
export const AS_TRANS = 23456;

/** Decodes segments in `b[p..end)` with `asnSize` (2 or 4) octets per ASN, or returns why they are malformed. */
export function decodeAsPath(b: Uint8Array, p: number, end: number, asnSize: 2 | 4): AsPathSegment[] | string {
  const segs: AsPathSegment[] = [];
  while (p < end) {
    if (end - p < 2) return 'one octet left after the last segment'; // RFC 7606 §7.2 underrun
    const type = b[p]!;
    const n = b[p + 1]!;
    if (type < 1 || type > 4) return `unknown segment type ${type}`;
    if (n === 0) return 'segment of length zero'; // RFC 7606 §7.2
    p += 2;
    if (p + n * asnSize > end) return 'segment overruns the attribute'; // RFC 7606 §7.2 overrun
    const asns = new Array<number>(n);
    for (let i = 0; i < n; i++, p += asnSize) {
      const asn = asnSize === 2 ? (b[p]! << 8) | b[p + 1]! : ((b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!) >>> 0;
      if (asn === 0) return 'AS 0 in the path'; // RFC 7607 §2
      asns[i] = asn;
    }
    segs.push({ type: type as AsPathSegment['type'], asns });
  }
  return segs;
}

/** Writes segments with 2- or 4-octet ASNs (AS_TRANS for ASNs > 65535 in 2-octet form), splitting at 255. */
export function writeAsPath(segs: readonly AsPathSegment[], asnSize: 2 | 4, w: ByteWriter): void {
  for (const s of segs) {
    for (let i = 0; i < s.asns.length; i += 255) {
      const part = s.asns.slice(i, i + 255);
      w.u8(s.type);
      w.u8(part.length);
      for (const a of part) {
        if (asnSize === 4) w.u32(a);
        else w.u16(a > 0xffff ? AS_TRANS : a);
      }
    }
  }
}

/** True when any ASN in the segments needs 4 octets. */
export function hasFourOctetAsn(segs: readonly AsPathSegment[]): boolean {
  for (const s of segs) for (const a of s.asns) if (a > 0xffff) return true;
  return false;
}

/** RFC 6793 §4.2.2: the AS4_PATH to send with a 2-octet AS_PATH — the path without confederation segments. */
export function as4PathOf(segs: readonly AsPathSegment[]): AsPathSegment[] {
  return segs.filter((s) => s.type === AsPathSegmentType.AsSequence || s.type === AsPathSegmentType.AsSet);
}

/** RFC 6793 §4.2.3 path length: AS_SET counts 1, confederation segments 0. */
export function asPathCount(segs: readonly AsPathSegment[]): number {
  let n = 0;
  for (const s of segs) {
    if (s.type === AsPathSegmentType.AsSequence) n += s.asns.length;
    else if (s.type === AsPathSegmentType.AsSet) n += 1;
  }
  return n;
}

/**
 * RFC 6793 §4.2.3: merges AS4_PATH / AS4_AGGREGATOR received from a 2-octet-only peer into
 * AS_PATH / AGGREGATOR and removes them. Returns a new object; `attrs` is not changed.
 */
export function reconcileAs4(attrs: PathAttributes): PathAttributes {
  if (attrs.as4Path === undefined && attrs.as4Aggregator === undefined) return attrs;
  const out: PathAttributes = { ...attrs };
  delete out.as4Path;
  delete out.as4Aggregator;
  // RFC 6793 §4.2.3: an AGGREGATOR not carrying AS_TRANS means AS4_AGGREGATOR and AS4_PATH are stale.
  if (attrs.aggregator && attrs.aggregator.asn !== AS_TRANS) return out;
  if (attrs.as4Aggregator && attrs.aggregator) out.aggregator = { ...attrs.as4Aggregator };
  if (!attrs.as4Path || !attrs.asPath) return out;
  const n2 = asPathCount(attrs.asPath);
  const n4 = asPathCount(attrs.as4Path);
  // RFC 6793 §4.2.3: an AS4_PATH longer than AS_PATH is ignored.
  if (n2 < n4) return out;
  let need = n2 - n4;
  const merged: AsPathSegment[] = [];
  for (const s of attrs.asPath) {
    if (s.type === AsPathSegmentType.ConfedSequence || s.type === AsPathSegmentType.ConfedSet) {
      if (need > 0) merged.push({ type: s.type, asns: [...s.asns] });
      continue;
    }
    if (need === 0) break;
    if (s.type === AsPathSegmentType.AsSet) {
      merged.push({ type: s.type, asns: [...s.asns] });
      need -= 1;
    } else {
      const take = Math.min(need, s.asns.length);
      merged.push({ type: s.type, asns: s.asns.slice(0, take) });
      need -= take;
    }
  }
  attrs.as4Path.forEach((s, i) => {
    const last = merged[merged.length - 1];
    // Join the AS_PATH prefix and AS4_PATH into one sequence where they meet.
    if (i === 0 && last && last.type === AsPathSegmentType.AsSequence && s.type === AsPathSegmentType.AsSequence) last.asns.push(...s.asns);
    else merged.push({ type: s.type, asns: [...s.asns] });
  });
  out.asPath = merged;
  return out;
}
