/**
 * The rendered chains of the calculator, per family and table, with dirty tracking: policies,
 * profiles, endpoints, dispatch and the fixed chains are re-rendered only when marked, and
 * chains whose content did not change keep their object (drivers compare by reference first).
 */
import { sameChain } from './chain.js';
import { ChainName } from './names.js';
import { renderDispatch, renderEndpointChain, renderRulesChain, renderStaticFilter, renderStaticNat, type EndpointChainPlan } from './render-chains.js';
import type { SetRef } from './render-rule.js';
import type { PolicySets } from './sets.js';
import type { Chain, DesiredPolicyState, EndpointN, PolicyFamily, FamilyState, HookRule, PolicyConfig, PolicyN, ProfileN } from './types.js';

/** What `flush` needs from the calculator. */
export interface FlushContext {
  endpoints: ReadonlyMap<string, EndpointN>;
  profiles: ReadonlyMap<string, ProfileN>;
  policiesFor(key: string): { tier: string; policies: PolicyN[] }[];
}

interface FamilyChains {
  filter: Map<string, Chain>;
  nat: Map<string, Chain>;
  filterHooks: HookRule[];
  natHooks: HookRule[];
}

/** See the module header. */
export class ChainStore {
  staticDirty = true;
  private readonly fam: Record<PolicyFamily, FamilyChains> = { 4: emptyFamily(), 6: emptyFamily() };
  private readonly active = new Map<string, PolicyN>();
  private readonly dirtyPolicies = new Set<string>();
  private readonly dirtyProfiles = new Set<string>();
  private readonly profileUsers = new Map<string, Set<string>>();
  private readonly dirtyEps = new Set<string>();
  private readonly goneIfaces = new Set<string>();
  private readonly ifaces = new Map<string, string>();
  private readonly ownerChains = new Map<string, string[]>();
  private dispatchDirty = true;
  private dispatchNames: Record<PolicyFamily, string[]> = { 4: [], 6: [] };
  private readonly dispatchMemo: Record<PolicyFamily, Map<string, { key: string; chain: Chain }>> = { 4: new Map(), 6: new Map() };
  private generation = 0;
  private last: DesiredPolicyState | undefined;

  constructor(
    private cfg: PolicyConfig,
    private readonly sets: PolicySets,
  ) {}

  /** New configuration: everything re-renders. */
  setConfig(cfg: PolicyConfig): void {
    this.cfg = cfg;
    this.staticDirty = true;
    this.dispatchDirty = true;
  }

  endpointDirty(key: string): void {
    this.dirtyEps.add(key);
  }

  /** A local endpoint exists (new or changed). */
  endpointUp(ep: EndpointN): void {
    if (this.ifaces.get(ep.key) !== ep.iface) this.dispatchDirty = true;
    this.ifaces.set(ep.key, ep.iface);
    this.goneIfaces.delete(ep.iface);
    for (const [name, users] of this.profileUsers) if (users.delete(ep.key) && !ep.profiles.includes(name)) this.dirtyProfiles.add(name);
    for (const name of ep.profiles) {
      const users = this.profileUsers.get(name) ?? new Set<string>();
      if (users.size === 0) this.dirtyProfiles.add(name);
      users.add(ep.key);
      this.profileUsers.set(name, users);
    }
    this.dirtyEps.add(ep.key);
  }

  /** A local endpoint is gone (or moved away, or changed interface). */
  endpointGone(ep: EndpointN): void {
    this.ifaces.delete(ep.key);
    this.goneIfaces.add(ep.iface);
    this.dirtyEps.add(ep.key);
    this.dispatchDirty = true;
    for (const [name, users] of this.profileUsers) if (users.delete(ep.key) && users.size === 0) this.dirtyProfiles.add(name);
  }

  policyActive(p: PolicyN): void {
    if (this.active.get(p.id) === p) return;
    this.active.set(p.id, p);
    this.dirtyPolicies.add(p.id);
  }

  policyInactive(id: string): void {
    if (this.active.delete(id)) this.dirtyPolicies.add(id);
  }

  policyDirty(id: string): void {
    this.dirtyPolicies.add(id);
  }

  profileDirty(name: string): void {
    this.dirtyProfiles.add(name);
  }

  /** A profile changed or was removed (`p` undefined). */
  profileUpdated(p: ProfileN | undefined, name = p?.name ?? ''): void {
    this.dirtyProfiles.add(name);
  }

  private families(): PolicyFamily[] {
    return this.cfg.ipv6Support ? [4, 6] : [4];
  }

  /** Replaces the chains an owner renders in every family; releases its old sets. */
  private own(owner: string, byFamily: Map<PolicyFamily, Chain[]>, refs: SetRef[]): void {
    const old = this.ownerChains.get(owner) ?? [];
    const names: string[] = [];
    for (const f of this.families()) {
      const tbl = this.fam[f].filter;
      const chains = byFamily.get(f) ?? [];
      for (const c of chains) {
        names.push(`${f}:${c.name}`);
        const prev = tbl.get(c.name);
        tbl.set(c.name, sameChain(prev, c) && prev ? prev : c);
      }
    }
    for (const n of old) {
      if (names.includes(n)) continue;
      const [f, name] = [Number(n.slice(0, 1)) as PolicyFamily, n.slice(2)];
      this.fam[f].filter.delete(name);
    }
    if (names.length) this.ownerChains.set(owner, names);
    else this.ownerChains.delete(owner);
    this.sets.retain(owner, refs);
  }

  private renderPolicy(id: string): void {
    const p = this.active.get(id);
    const byFamily = new Map<PolicyFamily, Chain[]>();
    const refs: SetRef[] = [];
    if (p) {
      for (const f of this.families()) {
        const chains: Chain[] = [];
        if (p.ingress) chains.push(renderRulesChain(ChainName.policyIn(p.id), p.ingress, f, this.cfg, refs));
        if (p.egress) chains.push(renderRulesChain(ChainName.policyOut(p.id), p.egress, f, this.cfg, refs));
        byFamily.set(f, chains);
      }
    }
    this.own(`policy:${id}`, byFamily, refs);
  }

  private renderProfile(name: string, profiles: ReadonlyMap<string, ProfileN>): void {
    const p = profiles.get(name);
    const used = (this.profileUsers.get(name)?.size ?? 0) > 0;
    const byFamily = new Map<PolicyFamily, Chain[]>();
    const refs: SetRef[] = [];
    if (p && used) {
      for (const f of this.families()) {
        byFamily.set(f, [renderRulesChain(ChainName.profileIn(name), p.ingress, f, this.cfg, refs), renderRulesChain(ChainName.profileOut(name), p.egress, f, this.cfg, refs)]);
      }
    }
    this.own(`profile:${name}`, byFamily, refs);
    if (!used) this.profileUsers.delete(name);
  }

  private renderEndpoint(ep: EndpointN, ctx: FlushContext): void {
    const tiers = ctx.policiesFor(ep.key);
    const profiles = ep.profiles.filter((p) => ctx.profiles.has(p));
    const plan = (dir: 'in' | 'out'): EndpointChainPlan => ({
      tiers: tiers
        .map((t) => ({ tier: t.tier, chains: t.policies.filter((p) => (dir === 'in' ? p.ingress : p.egress)).map((p) => (dir === 'in' ? ChainName.policyIn(p.id) : ChainName.policyOut(p.id))) }))
        .filter((t) => t.chains.length > 0),
      profiles: profiles.map((p) => (dir === 'in' ? ChainName.profileIn(p) : ChainName.profileOut(p))),
    });
    const byFamily = new Map<PolicyFamily, Chain[]>();
    const pin = plan('in');
    const pout = plan('out');
    for (const f of this.families()) {
      byFamily.set(f, [renderEndpointChain(ChainName.toWorkload(ep.iface), 'to', pin, f, this.cfg), renderEndpointChain(ChainName.fromWorkload(ep.iface), 'from', pout, f, this.cfg)]);
    }
    this.own(`endpoint:${ep.key}`, byFamily, []);
  }

  /** Re-renders what is dirty and returns the desired state. */
  flush(ctx: FlushContext): DesiredPolicyState {
    const changed = this.dirtyPolicies.size + this.dirtyProfiles.size + this.dirtyEps.size + this.goneIfaces.size > 0 || this.dispatchDirty || this.staticDirty;
    // Nothing changed: the last state (maps are copies, never mutated afterwards) still holds.
    if (!changed && !this.sets.isDirty() && this.last) return this.last;
    for (const id of this.dirtyPolicies) this.renderPolicy(id);
    this.dirtyPolicies.clear();
    for (const name of this.dirtyProfiles) this.renderProfile(name, ctx.profiles);
    this.dirtyProfiles.clear();
    for (const key of this.dirtyEps) {
      const ep = ctx.endpoints.get(key);
      if (!ep || !this.ifaces.has(key)) this.own(`endpoint:${key}`, new Map(), []);
    }
    this.goneIfaces.clear();
    for (const key of this.dirtyEps) {
      const ep = ctx.endpoints.get(key);
      if (ep && this.ifaces.has(key)) this.renderEndpoint(ep, ctx);
    }
    this.dirtyEps.clear();
    if (this.dispatchDirty) this.renderDispatchChains();
    if (this.staticDirty) this.renderStatic();
    const out: Partial<Record<PolicyFamily, FamilyState>> = {};
    for (const f of this.families()) {
      const fc = this.fam[f];
      out[f] = {
        family: f,
        tables: { filter: { chains: new Map(fc.filter), hooks: fc.filterHooks }, nat: { chains: new Map(fc.nat), hooks: fc.natHooks } },
        ipsets: this.sets.snapshot(f),
      };
    }
    const bump = changed || this.sets.isDirty();
    this.sets.clean();
    if (bump) this.generation++;
    const state: DesiredPolicyState = { generation: this.generation, v4: out[4] as FamilyState };
    if (out[6]) state.v6 = out[6];
    this.last = state;
    return state;
  }

  private renderDispatchChains(): void {
    const names = [...new Set(this.ifaces.values())].sort();
    for (const f of this.families()) {
      const tbl = this.fam[f].filter;
      const chains = [
        ...renderDispatch(ChainName.fromWlDispatch, 'from', names, this.cfg.interfacePrefix, this.cfg.dispatchSplitThreshold, this.dispatchMemo[f]),
        ...renderDispatch(ChainName.toWlDispatch, 'to', names, this.cfg.interfacePrefix, this.cfg.dispatchSplitThreshold, this.dispatchMemo[f]),
      ];
      const keep = new Set(chains.map((c) => c.name));
      for (const n of this.dispatchNames[f]) {
        if (keep.has(n)) continue;
        tbl.delete(n);
        this.dispatchMemo[f].delete(n);
      }
      for (const c of chains) {
        const prev = tbl.get(c.name);
        tbl.set(c.name, prev && sameChain(prev, c) ? prev : c);
      }
      this.dispatchNames[f] = [...keep];
    }
    this.dispatchDirty = false;
  }

  private renderStatic(): void {
    for (const f of this.families()) {
      const fc = this.fam[f];
      const filter = renderStaticFilter(f, this.cfg);
      for (const c of filter.chains) fc.filter.set(c.name, sameChain(fc.filter.get(c.name), c) ? (fc.filter.get(c.name) ?? c) : c);
      fc.filterHooks = filter.hooks;
      const nat = renderStaticNat(f, this.sets.anyMasq());
      fc.nat = new Map(nat.chains.map((c) => [c.name, sameChain(fc.nat.get(c.name), c) ? (fc.nat.get(c.name) ?? c) : c]));
      fc.natHooks = nat.hooks;
    }
    this.staticDirty = false;
  }
}

function emptyFamily(): FamilyChains {
  return { filter: new Map(), nat: new Map(), filterHooks: [], natHooks: [] };
}
