/**
 * @tabby/bgp codec: BGP-4 messages as pure functions over Uint8Array (RFC 4271 §4 and the
 * extensions in types.ts). Framing: `MessageReader`; decoding: `decodeMessage` (UPDATEs come back
 * as RFC 7606 outcomes); encoding: `encodeMessage`, `encodeUpdates` (packer), End-of-RIB helpers.
 * Errors are `BgpCodecError` carrying the NOTIFICATION to send.
 */
export * from './types.js';
export * from './errors.js';
export { copyBytes } from './writer.js';
export { OCTET_TEXT, formatIpv4, formatIpv4Number, formatIpv6, parseIpv4, writeIpv4, writeIpv6 } from './addr.js';
export { HEADER_LEN, MAX_MESSAGE_LEN, MAX_EXTENDED_MESSAGE_LEN, MessageReader, maxMessageLength, readMessageHeader, type MessageHeader } from './header.js';
export { CapabilityCode, decodeCapabilities, encodeCapability } from './capabilities.js';
export { PARAM_CAPABILITIES, decodeOpen, encodeOpen, type OpenEncodeOptions } from './open.js';
export { KEEPALIVE, RouteRefreshSubtype, decodeNotification, decodeRouteRefresh, encodeKeepalive, encodeNotification, encodeRouteRefresh } from './control.js';
export { checkNlri, forEachIpv4Nlri, forEachIpv6Nlri, forEachNlri, decodeNlri, nlriSize, writeNlri, prefixFamily, type Ipv4NlriCallback, type Ipv6NlriCallback, type NlriCallback } from './nlri.js';
export { AS_TRANS, asPathCount, reconcileAs4 } from './as-path.js';
export { attrName, type AttrAction, type AttributesResult, type DecodeOptions } from './attributes-decode.js';
export { encodeAttributes } from './attributes-encode.js';
export { decodeAcceptedAttributes, decodeAttributes, decodeUpdate, locateMpNlri, locateUpdateFields, type MpNlriField, type UpdateFields } from './update-decode.js';
export { encodeUpdate, encodeUpdates, endOfRib, encodeEndOfRib, isEndOfRib, familyAfiSafi } from './update-encode.js';
export { decodeMessage, encodeMessage, type DecodedMessage, type DecodedUpdate } from './message.js';
