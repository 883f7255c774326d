/**
 * One received UPDATE into the RIB. Outcomes from `fastSessionCodec` carry their IPv4 NLRI as
 * raw bytes: those go through `Rib.beginUpdate` as numbers (the allocation-free path); the rest
 * of the message (withdrawn routes, MP_REACH / MP_UNREACH, End-of-RIB) through `Rib.ingest`.
 *
 * Invariant: the RIB sees withdrawals before announcements of the same UPDATE, and a
 * treat-as-withdraw outcome withdraws every NLRI of the message (RFC 7606 §2).
 */
import type { UpdateOutcome } from '../codec/types.js';
import type { IngestResult, Rib } from '../rib/index.js';
import { hasIpv4Nlri, ipv4NlriPrefixes, lazyNlri, walkIpv4Nlri } from './fast-codec.js';

/** Applies `o` from peer `id`; `addPath`: IPv4 NLRI carry path identifiers (RFC 7911). */
export function ingestOutcome(rib: Rib, id: string, o: UpdateOutcome, addPath: boolean): IngestResult {
  const bytes = lazyNlri(o);
  if (!bytes || !hasIpv4Nlri(bytes)) return rib.ingest(id, o);
  if (o.action === 'treat-as-withdraw') {
    // RFC 7606 §2: the NLRI of the malformed UPDATE are withdrawn as well.
    const update = { ...o.update, withdrawn: [...o.update.withdrawn, ...ipv4NlriPrefixes(bytes, addPath)] };
    return rib.ingest(id, { ...o, update });
  }
  const a = o.update.attributes;
  const first = o.update.withdrawn.length > 0 || a.mpReach || a.mpUnreach ? rib.ingest(id, o) : undefined;
  const sink = rib.beginUpdate(id, a);
  walkIpv4Nlri(bytes, addPath, sink.announce4);
  const r = sink.end();
  if (!first) return r;
  return {
    announced: first.announced + r.announced,
    withdrawn: first.withdrawn + r.withdrawn,
    rejected: first.rejected + r.rejected,
    rejection: r.rejection ?? first.rejection,
    exceeded: first.exceeded || r.exceeded,
  };
}
