/**
 * End-of-RIB markers (RFC 4724 §2) as fixed octets: they contain no NLRI, so they are the same
 * under every codec context (ADD-PATH, 4-octet AS, extended messages) and can be sent without
 * encoding. A test checks them against the codec's `encodeEndOfRib`.
 */
import type { Family } from '../codec/types.js';

const MARKER = new Array<number>(16).fill(0xff);

/** The End-of-RIB UPDATE per family, header included. */
export const END_OF_RIB: Readonly<Record<Family, Uint8Array>> = {
  // IPv4 unicast: an UPDATE with no withdrawn routes, no attributes and no NLRI (23 octets).
  'ipv4-unicast': Uint8Array.of(...MARKER, 0, 23, 2, 0, 0, 0, 0),
  // IPv6 unicast: an UPDATE with only an empty MP_UNREACH_NLRI (flags 0x80, type 15, length 3, AFI 2, SAFI 1).
  'ipv6-unicast': Uint8Array.of(...MARKER, 0, 29, 2, 0, 0, 0, 6, 0x80, 15, 3, 0, 2, 1),
};
