/**
 * The ipsets of the policy dataplane and their members, kept incrementally: selector sets
 * (`cali40s:`, hash:ip of matching endpoints' addresses), named-port sets (`cali40n:`,
 * hash:ip,port `ip,proto:port` of matching endpoints' named ports), nets sets (hash:net, fixed
 * members), the pool sets `all-ipam-pools` / `masq-ipam-pools` and the host sets
 * `all-hosts-net` / `all-vxlan-net`. Sets are reference-counted by owner (a policy or profile
 * chain); a set no owner references disappears. Unchanged sets keep their state object.
 */
import { parseCidr } from '@tabby/api';
import { matchesEndpoint, type LabelViews } from './labels.js';
import { HOST_SET_ALL, HOST_SET_VXLAN, POOL_SET_ALL, POOL_SET_MASQ, ipsetName } from './names.js';
import { PORT_PROTOCOLS, ipsetProtocolName } from './protocol.js';
import type { SetRef } from './render-rule.js';
import type { EndpointN, PolicyFamily, IpSetState } from './types.js';

interface Entry {
  ref: SetRef;
  owners: Set<string>;
}

/** See the module header. */
export class PolicySets {
  private readonly refs = new Map<string, Entry>();
  private readonly byOwner = new Map<string, Set<string>>();
  private readonly counts = new Map<string, Map<string, number>>();
  private readonly contrib = new Map<string, Map<string, string[]>>();
  private readonly eps = new Map<string, { ep: EndpointN; v: LabelViews }>();
  private readonly pools = new Map<string, { cidr: string; masq: boolean }>();
  private readonly hosts = new Map<string, { addresses: string[]; vtep?: string }>();
  private readonly dirty = new Set<string>();
  private readonly cache = new Map<string, IpSetState>();
  private staticDirty = true;

  constructor(private readonly ipv6: boolean) {}

  /** Sets `owner`'s references (replacing its previous ones). */
  retain(owner: string, refs: SetRef[]): void {
    const prev = this.byOwner.get(owner) ?? new Set<string>();
    const next = new Set(refs.map((r) => r.name));
    for (const r of refs) {
      let e = this.refs.get(r.name);
      if (!e) {
        e = { ref: r, owners: new Set() };
        this.refs.set(r.name, e);
        this.fill(r);
      }
      e.owners.add(owner);
    }
    for (const n of prev) {
      if (next.has(n)) continue;
      const e = this.refs.get(n);
      e?.owners.delete(owner);
      if (e && e.owners.size === 0) this.drop(n);
    }
    if (next.size) this.byOwner.set(owner, next);
    else this.byOwner.delete(owner);
  }

  private drop(name: string): void {
    this.refs.delete(name);
    this.counts.delete(name);
    for (const m of this.contrib.values()) m.delete(name);
    this.cache.delete(name);
    this.dirty.delete(name);
  }

  private fill(r: SetRef): void {
    this.counts.set(r.name, new Map());
    this.dirty.add(r.name);
    if (r.kind === 'nets') {
      for (const c of r.cidrs) this.counts.get(r.name)?.set(c, 1);
      return;
    }
    for (const [key, { ep, v }] of this.eps) this.setContribution(key, r.name, membersOf(r, ep, v));
  }

  private setContribution(key: string, set: string, members: string[]): void {
    let mine = this.contrib.get(key);
    const old = mine?.get(set) ?? [];
    if (old.length === members.length && old.every((m, i) => m === members[i])) return;
    const counts = this.counts.get(set);
    if (!counts) return;
    for (const m of old) {
      const c = (counts.get(m) ?? 1) - 1;
      if (c <= 0) counts.delete(m);
      else counts.set(m, c);
    }
    for (const m of members) counts.set(m, (counts.get(m) ?? 0) + 1);
    if (!mine) {
      mine = new Map();
      this.contrib.set(key, mine);
    }
    if (members.length) mine.set(set, members);
    else mine.delete(set);
    this.dirty.add(set);
  }

  /** An endpoint was added or changed (labels, addresses, ports). */
  updateEndpoint(ep: EndpointN, v: LabelViews): void {
    this.eps.set(ep.key, { ep, v });
    for (const [name, e] of this.refs) if (e.ref.kind !== 'nets') this.setContribution(ep.key, name, membersOf(e.ref, ep, v));
  }

  /** An endpoint is gone. */
  removeEndpoint(key: string): void {
    this.eps.delete(key);
    for (const name of [...(this.contrib.get(key)?.keys() ?? [])]) this.setContribution(key, name, []);
    this.contrib.delete(key);
  }

  /** A pool (cidr undefined: removed). */
  setPool(name: string, cidr: string | undefined, masq: boolean): void {
    if (cidr === undefined) this.pools.delete(name);
    else this.pools.set(name, { cidr, masq });
    this.staticDirty = true;
  }

  /** True when some pool masquerades. */
  anyMasq(): boolean {
    return [...this.pools.values()].some((p) => p.masq);
  }

  /** A host's addresses (empty: removed). */
  setHost(node: string, addresses: string[], vtep: string | undefined): void {
    if (!addresses.length && vtep === undefined) this.hosts.delete(node);
    else this.hosts.set(node, vtep === undefined ? { addresses } : { addresses, vtep });
    this.staticDirty = true;
  }

  private staticSets(family: PolicyFamily): IpSetState[] {
    const fam = (c: string): boolean => parseCidr(c.includes('/') ? c : `${c}/${c.includes(':') ? 128 : 32}`).family === family;
    const pools = [...this.pools.values()].filter((p) => fam(p.cidr));
    const hosts = [...this.hosts.values()];
    const out: IpSetState[] = [
      { name: ipsetName(family, POOL_SET_ALL), type: 'hash:net', family, members: new Set(pools.map((p) => p.cidr)) },
      { name: ipsetName(family, POOL_SET_MASQ), type: 'hash:net', family, members: new Set(pools.filter((p) => p.masq).map((p) => p.cidr)) },
      { name: ipsetName(family, HOST_SET_VXLAN), type: 'hash:net', family, members: new Set(hosts.flatMap((h) => (h.vtep ? [h.vtep] : h.addresses)).filter(fam)) },
    ];
    if (family === 4) out.push({ name: ipsetName(4, HOST_SET_ALL), type: 'hash:net', family, members: new Set(hosts.flatMap((h) => h.addresses).filter(fam)) });
    return out;
  }

  /** Desired sets of one family; unchanged sets keep their object. */
  snapshot(family: PolicyFamily): Map<string, IpSetState> {
    const out = new Map<string, IpSetState>();
    if (family === 6 && !this.ipv6) return out;
    for (const name of this.dirty) {
      const e = this.refs.get(name);
      if (!e) continue;
      this.cache.set(name, { name, type: e.ref.type, family: e.ref.family, members: new Set(this.counts.get(name)?.keys() ?? []) });
    }
    for (const [name, e] of this.refs) {
      if (e.ref.family !== family) continue;
      const s = this.cache.get(name);
      if (s) out.set(name, s);
    }
    if (this.staticDirty) for (const f of [4, 6] as const) for (const s of this.staticSets(f)) this.cache.set(s.name, sameSet(this.cache.get(s.name), s) ?? s);
    for (const s of this.staticSets(family)) out.set(s.name, this.cache.get(s.name) ?? s);
    return out;
  }

  /** True when some set changed since the last `clean()`. */
  isDirty(): boolean {
    return this.dirty.size > 0 || this.staticDirty;
  }

  /** Marks the snapshot as consumed (dirty sets cleared); call after both families' snapshots. */
  clean(): void {
    this.dirty.clear();
    this.staticDirty = false;
  }
}

function sameSet(a: IpSetState | undefined, b: IpSetState): IpSetState | undefined {
  if (!a || a.type !== b.type || a.members.size !== b.members.size) return undefined;
  for (const m of b.members) if (!a.members.has(m)) return undefined;
  return a;
}

/** The members one endpoint contributes to a selector or named-port set. */
export function membersOf(r: SetRef, ep: EndpointN, v: LabelViews): string[] {
  const ips = r.family === 4 ? ep.v4 : ep.v6;
  if (!ips.length) return [];
  if (r.kind === 'selector') return matchesEndpoint(r.match, v) ? ips : [];
  if (r.kind === 'named-port') {
    if (r.match && !matchesEndpoint(r.match, v)) return [];
    const out: string[] = [];
    for (const p of ep.ports) if (p.name === r.port && PORT_PROTOCOLS.has(p.protocol)) for (const ip of ips) out.push(`${ip},${ipsetProtocolName(p.protocol)}:${p.port}`);
    return out;
  }
  return [];
}
