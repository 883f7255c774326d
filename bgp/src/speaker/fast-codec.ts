/**
 * The speaker's session codec: the default one, except that UPDATEs are decoded with the
 * codec's lazy IPv4 NLRI option — attributes, withdrawals and MP attributes as usual, the IPv4
 * NLRI field syntax-checked (RFC 7606 §5.3) but not turned into Prefix objects. The message
 * bytes stay attached to the outcome (`lazyNlri`), and the speaker walks that field as numbers
 * straight into the RIB (`Rib.beginUpdate`): no per-prefix objects or strings on the hot path.
 *
 * Invariants: errors keep the default mapping (session reset with the codec's NOTIFICATION);
 * an outcome from this codec always has `update.nlri` empty and its NLRI in `lazyNlri(outcome)`.
 */
import { MessageType, decodeNlri, decodeUpdate, forEachIpv4Nlri, locateUpdateFields, type Prefix, type UpdateOutcome } from '../codec/index.js';
import type { DecodeOptions } from '../codec/attributes-decode.js';
import { defaultSessionCodec, type SessionCodec } from '../session/index.js';

/** The message bytes, kept on the outcome object itself (a WeakMap entry per UPDATE costs the GC dearly). */
const LAZY = Symbol('lazyIpv4Nlri');
type LazyOutcome = UpdateOutcome & { [LAZY]?: Uint8Array };

/** The whole UPDATE message behind an outcome decoded lazily by `fastSessionCodec`, if it was. */
export function lazyNlri(o: UpdateOutcome): Uint8Array | undefined {
  return (o as LazyOutcome)[LAZY];
}

/** The default session codec with lazily decoded IPv4 NLRI. */
export function fastSessionCodec(base: SessionCodec = defaultSessionCodec()): SessionCodec {
  // The decode options with `lazyIpv4Nlri`, made once per distinct options object (not per message).
  let lastIn: DecodeOptions | undefined;
  let lastOut: DecodeOptions = { lazyIpv4Nlri: true };
  return {
    newReader: () => base.newReader(),
    errorEvent: (e, conn) => base.errorEvent(e, conn),
    encode: (m, ctx) => base.encode(m, ctx),
    toEvent(message, conn, ctx, rawUpdates, decode) {
      if (rawUpdates || message[18] !== MessageType.Update) return base.toEvent(message, conn, ctx, rawUpdates, decode);
      if (decode !== lastIn) {
        lastIn = decode;
        lastOut = { ...decode, lazyIpv4Nlri: true };
      }
      try {
        const outcome: LazyOutcome = decodeUpdate(message, ctx, lastOut);
        outcome[LAZY] = message;
        return { type: 'update', conn, payload: { kind: 'decoded', outcome } };
      } catch (e: unknown) {
        return base.errorEvent(e, conn);
      }
    },
  };
}

/** Calls `cb` for each IPv4 NLRI of a lazily decoded UPDATE (address as a 32-bit number). */
export function walkIpv4Nlri(bytes: Uint8Array, addPath: boolean, cb: (addr: number, len: number, pathId: number) => void): void {
  const f = locateUpdateFields(bytes);
  forEachIpv4Nlri(bytes, f.nlri[0], f.nlri[1], addPath, cb);
}

/** The IPv4 NLRI of a lazily decoded UPDATE as Prefix objects (rare paths: treat-as-withdraw). */
export function ipv4NlriPrefixes(bytes: Uint8Array, addPath: boolean): Prefix[] {
  const f = locateUpdateFields(bytes);
  return decodeNlri(bytes, f.nlri[0], f.nlri[1], 1, addPath, []);
}

/** True when the UPDATE carries IPv4 NLRI (its NLRI field is non-empty). */
export function hasIpv4Nlri(bytes: Uint8Array): boolean {
  const f = locateUpdateFields(bytes);
  return f.nlri[1] > f.nlri[0];
}
