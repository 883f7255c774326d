/**
 * The speaker's session codec: the default one, except that UPDATEs are decoded with the
 * codec's lazy NLRI options — attributes and IPv4 withdrawals as usual, the IPv4 NLRI field and
 * the IPv6 unicast NLRI of MP_REACH_NLRI / MP_UNREACH_NLRI syntax-checked (RFC 7606 §5.3) but not
 * turned into Prefix objects. The message bytes stay attached to the outcome (`lazyNlri`), and
 * the speaker walks those fields as numbers straight into the RIB (`Rib.beginUpdate`, see
 * ingest.ts): no per-prefix objects or address text on the hot path.
 *
 * Invariants: errors keep the default mapping (session reset with the codec's NOTIFICATION);
 * an outcome from this codec always has `update.nlri` empty and its NLRI in `lazyNlri(outcome)`,
 * and, when accepted, empty IPv6 unicast MP lists (see DecodeOptions.lazyIpv6Nlri).
 */
import { MessageType, decodeUpdate, type UpdateOutcome } from '../codec/index.js';
import type { DecodeOptions } from '../codec/attributes-decode.js';
import type { RawDecodeContext } from '../rib/index.js';
import { defaultSessionCodec, type SessionCodec } from '../session/index.js';

/** The message bytes, kept on the outcome object itself (a WeakMap entry per UPDATE costs the GC dearly). */
const LAZY = Symbol('lazyNlri');
/** The codec context and decode options the outcome was decoded with (one object per session context). */
const HOW = Symbol('decodeContext');
type LazyOutcome = UpdateOutcome & { [LAZY]?: Uint8Array; [HOW]?: RawDecodeContext };

/** The whole UPDATE message behind an outcome decoded lazily by `fastSessionCodec`, if it was. */
export function lazyNlri(o: UpdateOutcome): Uint8Array | undefined {
  return (o as LazyOutcome)[LAZY];
}

/** How an outcome from `fastSessionCodec` was decoded (to decode its attribute octets again). */
export function lazyDecodeContext(o: UpdateOutcome): RawDecodeContext | undefined {
  return (o as LazyOutcome)[HOW];
}

/** The default session codec with lazily decoded IPv4 and IPv6 unicast NLRI. */
export function fastSessionCodec(base: SessionCodec = defaultSessionCodec()): SessionCodec {
  // The decode options with the lazy flags, made once per distinct options object (not per message).
  let lastIn: DecodeOptions | undefined;
  let lastOut: DecodeOptions = { lazyIpv4Nlri: true, lazyIpv6Nlri: true };
  let how: RawDecodeContext | undefined;
  return {
    newReader: () => base.newReader(),
    errorEvent: (e, conn) => base.errorEvent(e, conn),
    encode: (m, ctx) => base.encode(m, ctx),
    toEvent(message, conn, ctx, rawUpdates, decode) {
      if (rawUpdates || message[18] !== MessageType.Update) return base.toEvent(message, conn, ctx, rawUpdates, decode);
      if (decode !== lastIn || how === undefined || how.ctx !== ctx) {
        if (decode !== lastIn) lastOut = { ...decode, lazyIpv4Nlri: true, lazyIpv6Nlri: true };
        lastIn = decode;
        how = { ctx, opts: lastOut };
      }
      try {
        const outcome: LazyOutcome = decodeUpdate(message, ctx, lastOut);
        outcome[LAZY] = message;
        outcome[HOW] = how;
        return { type: 'update', conn, payload: { kind: 'decoded', outcome } };
      } catch (e: unknown) {
        return base.errorEvent(e, conn);
      }
    },
  };
}
