/**
 * Path attribute encoding (RFC 4271 §4.3, §5) for the attributes of types.ts.
 *
 * Invariants: well-known and known optional attributes carry their RFC flags; lengths above 255
 * use the Extended Length bit, others do not; unknown optional transitive attributes are passed
 * on with Partial set (RFC 4271 §5), unknown optional non-transitive ones are dropped. Towards a
 * 2-octet peer AS_PATH/AGGREGATOR use AS_TRANS only for ASNs above 65535 and AS4_PATH /
 * AS4_AGGREGATOR are added (RFC 6793 §4.2.2); between 4-octet peers AS4_* are never sent.
 * MP_REACH/MP_UNREACH are written by the UPDATE encoder, first (RFC 7606 §5.1).
 */
import { AS_TRANS, as4PathOf, hasFourOctetAsn, writeAsPath } from './as-path.js';
import { checkUint, encodeError } from './errors.js';
import { ByteWriter } from './writer.js';
import { AttrFlag, AttrType, type AsPathSegment, type CodecContext, type PathAttributes } from './types.js';

const WK = AttrFlag.Transitive;
const OPT = AttrFlag.Optional;
const OPT_T = AttrFlag.Optional | AttrFlag.Transitive;

/** Writes one attribute: header, then the value produced by `body`; picks the minimal length form. */
export function writeAttr(w: ByteWriter, flags: number, type: number, body: (w: ByteWriter) => void): void {
  const start = w.len;
  w.u8(flags | AttrFlag.ExtendedLength);
  w.u8(type);
  w.u16(0);
  body(w);
  const len = w.len - start - 4;
  if (len > 0xffff) throw encodeError(`attribute ${type} is ${len} octets long, above 65535`);
  if (len <= 255) {
    w.buf[start] = flags & ~AttrFlag.ExtendedLength;
    w.buf[start + 2] = len;
    w.buf.copyWithin(start + 3, start + 4, w.len);
    w.len -= 1;
  } else {
    w.patchU16(start + 2, len);
  }
}

function u32(v: number, field: string): (w: ByteWriter) => void {
  checkUint(v, 0xffffffff, field);
  return (w) => w.u32(v);
}

/** RFC 4271 §4.3 segment types 1-4; RFC 7607: AS 0 is never sent. */
function checkAsPath(segs: readonly AsPathSegment[], field: string): void {
  for (const s of segs) {
    checkUint(s.type, 4, `${field} segment type`, 1);
    for (const a of s.asns) checkUint(a, 0xffffffff, `${field} ASN`, 1);
  }
}

function writeAggregator(w: ByteWriter, type: number, agg: { asn: number; address: string }, asnSize: 2 | 4): void {
  checkUint(agg.asn, 0xffffffff, 'AGGREGATOR AS', 1);
  writeAttr(w, OPT_T, type, (w) => {
    if (asnSize === 4) w.u32(agg.asn);
    else w.u16(agg.asn > 0xffff ? AS_TRANS : agg.asn);
    w.ipv4(agg.address, 'AGGREGATOR address');
  });
}

/** Appends every attribute of `a` except MP_REACH/MP_UNREACH, in type-code order. */
export function writeAttributes(w: ByteWriter, a: PathAttributes, ctx: CodecContext): void {
  const asnSize = ctx.fourOctetAs ? 4 : 2;
  if (a.origin !== undefined) writeAttr(w, WK, AttrType.Origin, (w) => w.u8(checkUint(a.origin!, 2, 'ORIGIN')));
  if (a.asPath !== undefined) {
    checkAsPath(a.asPath, 'AS_PATH');
    writeAttr(w, WK, AttrType.AsPath, (w) => writeAsPath(a.asPath!, asnSize, w));
  }
  if (a.nextHop !== undefined) writeAttr(w, WK, AttrType.NextHop, (w) => w.ipv4(a.nextHop!, 'NEXT_HOP'));
  if (a.med !== undefined) writeAttr(w, OPT, AttrType.MultiExitDisc, u32(a.med, 'MULTI_EXIT_DISC'));
  if (a.localPref !== undefined) writeAttr(w, WK, AttrType.LocalPref, u32(a.localPref, 'LOCAL_PREF'));
  if (a.atomicAggregate) writeAttr(w, WK, AttrType.AtomicAggregate, () => undefined);
  if (a.aggregator !== undefined) writeAggregator(w, AttrType.Aggregator, a.aggregator, asnSize);
  if (a.communities !== undefined && a.communities.length > 0) {
    writeAttr(w, OPT_T, AttrType.Communities, (w) => a.communities!.forEach((c) => w.u32(checkUint(c, 0xffffffff, 'COMMUNITIES'))));
  }
  if (a.originatorId !== undefined) writeAttr(w, OPT, AttrType.OriginatorId, (w) => w.ipv4(a.originatorId!, 'ORIGINATOR_ID'));
  if (a.clusterList !== undefined && a.clusterList.length > 0) {
    writeAttr(w, OPT, AttrType.ClusterList, (w) => a.clusterList!.forEach((c) => w.ipv4(c, 'CLUSTER_LIST')));
  }
  if (a.extendedCommunities !== undefined && a.extendedCommunities.length > 0) {
    writeAttr(w, OPT_T, AttrType.ExtendedCommunities, (w) =>
      a.extendedCommunities!.forEach((c) => {
        if (c.length !== 8) throw encodeError(`extended community of ${c.length} octets, expected 8`);
        w.bytes(c);
      }),
    );
  }
  writeAs4(w, a, ctx);
  if (a.largeCommunities !== undefined && a.largeCommunities.length > 0) {
    writeAttr(w, OPT_T, AttrType.LargeCommunities, (w) => {
      for (const [g, l1, l2] of a.largeCommunities!) {
        w.u32(checkUint(g, 0xffffffff, 'LARGE_COMMUNITIES'));
        w.u32(checkUint(l1, 0xffffffff, 'LARGE_COMMUNITIES'));
        w.u32(checkUint(l2, 0xffffffff, 'LARGE_COMMUNITIES'));
      }
    });
  }
  for (const u of a.unknown ?? []) {
    checkUint(u.type, 255, 'attribute type');
    // RFC 4271 §5: pass on unrecognised optional transitive attributes with Partial set; drop the rest.
    if ((u.flags & OPT_T) !== OPT_T) continue;
    if (u.type === AttrType.MpReachNlri || u.type === AttrType.MpUnreachNlri) continue;
    writeAttr(w, (u.flags & 0xe0) | AttrFlag.Partial, u.type, (w) => w.bytes(u.value));
  }
}

/** RFC 6793 §4.2.2: AS4_PATH / AS4_AGGREGATOR towards a 2-octet peer only. */
function writeAs4(w: ByteWriter, a: PathAttributes, ctx: CodecContext): void {
  if (ctx.fourOctetAs) return;
  if (a.asPath !== undefined && hasFourOctetAsn(a.asPath)) {
    const p4 = as4PathOf(a.asPath);
    writeAttr(w, OPT_T, AttrType.As4Path, (w) => writeAsPath(p4, 4, w));
  } else if (a.as4Path !== undefined) {
    // Received from a 2-octet peer and not reconciled: passed on as is.
    checkAsPath(a.as4Path, 'AS4_PATH');
    writeAttr(w, OPT_T, AttrType.As4Path, (w) => writeAsPath(a.as4Path!, 4, w));
  }
  if (a.aggregator !== undefined && a.aggregator.asn > 0xffff) {
    writeAggregator(w, AttrType.As4Aggregator, a.aggregator, 4);
  } else if (a.as4Aggregator !== undefined && a.aggregator?.asn === AS_TRANS) {
    writeAggregator(w, AttrType.As4Aggregator, a.as4Aggregator, 4);
  }
}

/** The encoded attribute field for `a` (without MP attributes). */
export function encodeAttributes(a: PathAttributes, ctx: CodecContext): Uint8Array {
  const w = new ByteWriter(128);
  writeAttributes(w, a, ctx);
  return w.finish();
}
