/**
 * Helpers shared by the per-family codecs: encode-time validation errors and name ⇄ number
 * tables for route types, scopes and protocols.
 */
import { NetlinkError } from '../errors.js';
import type { IpFamily } from './ip.js';
import { AF_INET, AF_INET6 } from './constants.js';

/** Throws the encode-time error for a malformed field. */
export function invalid(field: string, value: unknown, why: string): never {
  throw new NetlinkError('NETLINK_INVALID_REQUEST', `${field} ${JSON.stringify(value)}: ${why}`, {});
}

/** AF_INET / AF_INET6 for 4 / 6. */
export function afOf(family: IpFamily): number {
  return family === 4 ? AF_INET : AF_INET6;
}

/** 4 / 6 for AF_INET / AF_INET6; undefined for other families. */
export function ipFamilyOf(af: number): IpFamily | undefined {
  return af === AF_INET ? 4 : af === AF_INET6 ? 6 : undefined;
}

/** Checks an interface name: 1..15 bytes, no '/', ':' or whitespace (IFNAMSIZ 16 with NUL). */
export function checkIfName(field: string, name: string): void {
  if (name.length === 0 || name.length > 15 || /[\s/:]/.test(name)) invalid(field, name, 'an interface name is 1-15 characters without "/", ":" or spaces');
}
