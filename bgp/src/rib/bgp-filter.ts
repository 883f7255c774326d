/**
 * Calico's BGPFilter (projectcalico.org/v3), evaluated as RIB route filters: per family an
 * ordered list of import and export rules, each matching on `cidr` with `matchOperator`
 * (Equal, NotEqual, In, NotIn), `prefixLength` (min/max, for In/NotIn), `source`
 * (RemotePeers: routes learned over BGP, export only) and `interface` — with an `action`
 * (Accept / Reject). The filters of a peer are taken in order and the first matching rule
 * decides; a route no rule matches is accepted (Calico's default).
 *
 * Pure. `interface` rules match routes by outgoing interface, which the speaker does not know
 * for BGP routes: such a rule never matches here (documented in the daemon README).
 */
import type { Family } from '../codec/types.js';
import type { FilterResult, RouteFilter } from './peer.js';

/** One rule of a BGPFilter. */
export interface BgpFilterRule {
  action: 'Accept' | 'Reject';
  cidr?: string;
  matchOperator?: 'Equal' | 'NotEqual' | 'In' | 'NotIn';
  prefixLength?: { min?: number; max?: number };
  source?: 'RemotePeers';
  interface?: string;
}

/** A BGPFilter's spec, with its name. */
export interface BgpFilterSpec {
  name: string;
  exportV4?: BgpFilterRule[];
  importV4?: BgpFilterRule[];
  exportV6?: BgpFilterRule[];
  importV6?: BgpFilterRule[];
}

/** Bits of an address as a bigint (IPv4 or IPv6 text). */
function bits(addr: string, v6: boolean): bigint {
  if (!v6) return addr.split('.').reduce((a, o) => (a << 8n) | BigInt(Number(o)), 0n);
  const [head = '', tail = ''] = addr.split('::');
  const h = head ? head.split(':') : [];
  const t = addr.includes('::') ? (tail ? tail.split(':') : []) : [];
  const groups = addr.includes('::') ? [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t] : h;
  return groups.reduce((a, g) => (a << 16n) | BigInt(parseInt(g || '0', 16)), 0n);
}

function within(addr: string, len: number, cidr: string, v6: boolean): { inside: boolean; equal: boolean } {
  const [net = '', l = '0'] = cidr.split('/');
  const cl = Number(l);
  const width = v6 ? 128 : 32;
  const mask = (n: number): bigint => (n === 0 ? 0n : ((1n << BigInt(n)) - 1n) << BigInt(width - n));
  const sameNet = (bits(addr, v6) & mask(cl)) === (bits(net, v6) & mask(cl));
  return { inside: len >= cl && sameNet, equal: len === cl && sameNet };
}

/** Whether `rule` matches a route (prefix `addr/len`, learned from a peer when `fromPeer`). */
export function ruleMatches(rule: BgpFilterRule, addr: string, len: number, v6: boolean, fromPeer: boolean, exporting: boolean): boolean {
  if (rule.interface !== undefined) return false; // no interface for BGP routes (see the header)
  if (rule.source === 'RemotePeers' && !(exporting && fromPeer)) return false;
  if (rule.cidr !== undefined) {
    const w = within(addr, len, rule.cidr, v6);
    switch (rule.matchOperator ?? 'Equal') {
      case 'Equal':
        if (!w.equal) return false;
        break;
      case 'NotEqual':
        if (w.equal) return false;
        break;
      case 'In':
        if (!w.inside) return false;
        break;
      case 'NotIn':
        if (w.inside) return false;
        break;
    }
  }
  const pl = rule.prefixLength;
  if (pl && ((pl.min !== undefined && len < pl.min) || (pl.max !== undefined && len > pl.max))) return false;
  return true;
}

function rulesFor(f: BgpFilterSpec, family: Family, dir: 'import' | 'export'): BgpFilterRule[] {
  const v6 = family === 'ipv6-unicast';
  return (dir === 'import' ? (v6 ? f.importV6 : f.importV4) : v6 ? f.exportV6 : f.exportV4) ?? [];
}

/** The RIB filter for one direction of `filters` (undefined when they have no rule for it). */
export function compileFilters(filters: readonly BgpFilterSpec[], dir: 'import' | 'export'): RouteFilter | undefined {
  if (!filters.some((f) => rulesFor(f, 'ipv4-unicast', dir).length > 0 || rulesFor(f, 'ipv6-unicast', dir).length > 0)) return undefined;
  const ACCEPT: FilterResult = { action: 'accept' };
  const REJECT: FilterResult = { action: 'reject' };
  return (r) => {
    const v6 = r.family === 'ipv6-unicast';
    const fromPeer = dir === 'export' && r.from !== undefined && r.from !== 'local';
    for (const f of filters)
      for (const rule of rulesFor(f, r.family, dir)) {
        if (ruleMatches(rule, r.prefix.addr, r.prefix.len, v6, fromPeer, dir === 'export')) return rule.action === 'Accept' ? ACCEPT : REJECT;
      }
    return ACCEPT;
  };
}

/** A stable text of the import rules (a change means the Adj-RIB-In must be re-evaluated). */
export function importRulesKey(filters: readonly BgpFilterSpec[]): string {
  return JSON.stringify({ v4: filters.flatMap((f) => f.importV4 ?? []), v6: filters.flatMap((f) => f.importV6 ?? []) });
}
