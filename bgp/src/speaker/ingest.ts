/**
 * One received UPDATE into the RIB. Outcomes from `fastSessionCodec` carry their IPv4 NLRI and
 * their IPv6 unicast MP_REACH / MP_UNREACH NLRI as raw bytes: those go through
 * `Rib.beginUpdate` as numbers (the allocation-free path); the rest of the message (IPv4
 * withdrawn routes, MP NLRI of other families, End-of-RIB) through `Rib.ingest`.
 *
 * Invariants: the RIB sees withdrawals before announcements of the same UPDATE; a
 * treat-as-withdraw outcome withdraws every NLRI of the message (RFC 7606 §2); an outcome whose
 * raw fields are all empty goes to `Rib.ingest` whole, which decides End-of-RIB (RFC 4724 §2) —
 * never one with a non-empty raw MP_UNREACH field, whose decoded list is empty.
 */
import { AttrType, decodeNlri, forEachIpv4Nlri, forEachIpv6Nlri, locateMpNlri, locateUpdateFields, type Family, type MpNlriField, type UpdateOutcome } from '../codec/index.js';
import type { IngestResult, Rib } from '../rib/index.js';
import { lazyDecodeContext, lazyNlri } from './fast-codec.js';

/** The IPv6 unicast NLRI field of the MP attribute `type` in `b`, when present and non-empty. */
function v6Field(b: Uint8Array, attrs: [number, number], type: 14 | 15): MpNlriField | undefined {
  const f = locateMpNlri(b, attrs[0], attrs[1], type);
  return f && f.afi === 2 && f.safi === 1 && f.end > f.start ? f : undefined;
}

function sum(a: IngestResult | undefined, b: IngestResult): IngestResult {
  if (!a) return b;
  const r: IngestResult = {
    announced: a.announced + b.announced,
    withdrawn: a.withdrawn + b.withdrawn,
    rejected: a.rejected + b.rejected,
    exceeded: a.exceeded || b.exceeded,
  };
  const rejection = b.rejection ?? a.rejection;
  if (rejection) r.rejection = rejection;
  if (a.filterErrors || b.filterErrors) {
    r.filterErrors = (a.filterErrors ?? 0) + (b.filterErrors ?? 0);
    r.filterError = a.filterError ?? b.filterError;
  }
  return r;
}

/** Applies `o` from peer `id`; `addPath`: the families whose NLRI carry path identifiers (RFC 7911). */
export function ingestOutcome(rib: Rib, id: string, o: UpdateOutcome, addPath: ReadonlySet<Family>): IngestResult {
  const bytes = lazyNlri(o);
  if (!bytes) return rib.ingest(id, o);
  const f = locateUpdateFields(bytes);
  const v4 = f.nlri[1] > f.nlri[0];
  const add4 = addPath.has('ipv4-unicast');
  if (o.action === 'treat-as-withdraw') {
    if (!v4) return rib.ingest(id, o); // the codec listed the MP NLRI itself
    // RFC 7606 §2: the NLRI of the malformed UPDATE are withdrawn as well.
    const update = { ...o.update, withdrawn: decodeNlri(bytes, f.nlri[0], f.nlri[1], 1, add4, [...o.update.withdrawn]) };
    return rib.ingest(id, { ...o, update });
  }
  const a = o.update.attributes;
  const reach = a.mpReach ? v6Field(bytes, f.attributes, AttrType.MpReachNlri) : undefined;
  const unreach = a.mpUnreach ? v6Field(bytes, f.attributes, AttrType.MpUnreachNlri) : undefined;
  if (!v4 && !reach && !unreach) return rib.ingest(id, o);
  // The object path keeps the decoded lists: IPv4 withdrawals, MP NLRI of other families.
  const decoded = o.update.withdrawn.length > 0 || (a.mpReach?.nlri.length ?? 0) > 0 || (a.mpUnreach?.withdrawn.length ?? 0) > 0;
  let r = decoded ? rib.ingest(id, o) : undefined;
  const add6 = addPath.has('ipv6-unicast');
  if (unreach) {
    const sink = rib.beginUpdate(id);
    forEachIpv6Nlri(bytes, unreach.start, unreach.end, add6, sink.withdraw6);
    r = sum(r, sink.end());
  }
  if (v4) {
    // Without MP attributes the attribute octets are the set itself: new sets keep them (raw-attrs.ts).
    const how = a.mpReach || a.mpUnreach ? undefined : lazyDecodeContext(o);
    const sink = rib.beginUpdate(id, a, 'ipv4-unicast', how && { bytes, start: f.attributes[0], end: f.attributes[1], how });
    forEachIpv4Nlri(bytes, f.nlri[0], f.nlri[1], add4, sink.announce4);
    r = sum(r, sink.end());
  }
  if (reach) {
    const sink = rib.beginUpdate(id, a, 'ipv6-unicast');
    forEachIpv6Nlri(bytes, reach.start, reach.end, add6, sink.announce6);
    r = sum(r, sink.end());
  }
  return r!;
}
