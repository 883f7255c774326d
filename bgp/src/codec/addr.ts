/**
 * Address text helpers for the codec. They live in @tabby/api (net/ip-bytes.ts) so that the
 * codec, the netlink codec and the resource model share one parser and one formatter.
 */
export { OCTET_TEXT, formatIpv4, formatIpv4Number, formatIpv6, parseIpv4, writeIpv4, writeIpv6 } from '@tabby/api';
