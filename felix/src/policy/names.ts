/**
 * Names of the kernel objects the policy dataplane owns, as Calico spells them: chains
 * `cali-…` of at most 28 characters (iptables allows 28 + NUL), long ones hashed with
 * Calico's length-limited-ID scheme (`prefix_` + hash); ipsets `cali40…` / `cali60…` of at most
 * 31 characters; every rule commented `cali:<16-char hash>` chained over the previous rule's hash
 * so a rule's hash changes when anything before it in its chain changes (read-back compares
 * hashes, not iptables-save's re-spelled rule text).
 */
import { hash } from 'node:crypto';
import type { PolicyFamily } from './types.js';

/** iptables' chain name limit. */
export const MAX_CHAIN_NAME = 28;
/** ipset's set name limit. */
export const MAX_IPSET_NAME = 31;

function b64(text: string): string {
  return hash('sha224', text, 'base64url');
}

/** `prefix + id`, or `prefix + '_' + hash(id)` when that would exceed `max`. */
export function lengthLimitedName(prefix: string, id: string, max = MAX_CHAIN_NAME): string {
  if (prefix.length + id.length <= max) return prefix + id;
  return prefix + '_' + b64(id).slice(0, max - prefix.length - 1);
}

/** Chain names. */
export const ChainName = {
  input: 'cali-INPUT',
  forward: 'cali-FORWARD',
  output: 'cali-OUTPUT',
  fromWlDispatch: 'cali-from-wl-dispatch',
  toWlDispatch: 'cali-to-wl-dispatch',
  wlToHost: 'cali-wl-to-host',
  natPostrouting: 'cali-POSTROUTING',
  natOutgoing: 'cali-nat-outgoing',
  toWorkload: (iface: string): string => lengthLimitedName('cali-tw-', iface),
  fromWorkload: (iface: string): string => lengthLimitedName('cali-fw-', iface),
  policyIn: (id: string): string => lengthLimitedName('cali-pi-', id),
  policyOut: (id: string): string => lengthLimitedName('cali-po-', id),
  profileIn: (name: string): string => lengthLimitedName('cali-pri-', name),
  profileOut: (name: string): string => lengthLimitedName('cali-pro-', name),
} as const;

/** The `cali:` hash of a rule at its place in a chain. */
export function ruleHash(chain: string, prevHash: string, text: string): string {
  // One-shot SHA-1 (crypto.hash) is several times cheaper than a Hash object per rule, and
  // a full sync hashes every rule (~40,000 at 1,000 endpoints).
  return hash('sha1', `${chain}\u0000${prevHash}\u0000${text}`, 'base64url').slice(0, 16);
}

/** Id of a selector set (`s:` + 23 chars) from its match's canonical id. */
export function selectorSetId(matchId: string): string {
  return 's:' + b64('sel:' + matchId).slice(0, 23);
}

/** Id of a named-port set (`n:` + 23 chars). */
export function namedPortSetId(matchId: string, port: string): string {
  return 'n:' + b64(`np:${matchId}\u0000${port}`).slice(0, 23);
}

/** Id of a nets set (`s:` + 23 chars) for several CIDRs of one family. */
export function netsSetId(cidrs: string[]): string {
  return 's:' + b64('nets:' + [...cidrs].sort().join(',')).slice(0, 23);
}

/** The ipset name of a set id in a family: `cali40<id>` / `cali60<id>`. */
export function ipsetName(family: PolicyFamily, id: string): string {
  return `cali${family === 4 ? 4 : 6}0${id}`;
}

/** All pool CIDRs, and pools with natOutgoing. */
export const POOL_SET_ALL = 'all-ipam-pools';
export const POOL_SET_MASQ = 'masq-ipam-pools';
/** Addresses of every known host (IPIP allowlist) and VTEPs (VXLAN allowlist). */
export const HOST_SET_ALL = 'all-hosts-net';
export const HOST_SET_VXLAN = 'all-vxlan-net';
