/**
 * PolicyCalculator: the pure policy calculation. Events in (`onEvent`), desired iptables chains
 * and ipsets out (`desired()`); no I/O and no clock.
 *
 * Invariants:
 * - The output depends only on the set of current inputs, never on their order (policies sort
 *   by tier order, order, name; dispatch by interface; set members are sets).
 * - Only active policies and profiles (applying to at least one local endpoint) have chains,
 *   and only sets referenced by some chain (plus the pool / host sets) exist.
 * - Work is incremental: an endpoint event re-evaluates that endpoint against policies and
 *   sets; a policy event re-evaluates that policy against local endpoints; `desired()` re-renders
 *   only what is dirty, and unchanged chains and sets keep their object identity so drivers can
 *   skip them by reference.
 * Left out: host endpoints, preDNAT / doNotTrack / applyOnForward, HTTP matches, services
 * matches (they are reported as problems only when they cannot be ignored safely: never here).
 */
import type { PolicyEvent, PolicyConfig, DesiredPolicyState, EndpointN, PolicyN, ProfileN, InputProblem, PolicyFamily } from './types.js';
import { DEFAULT_POLICY_CONFIG } from './types.js';
import { normaliseEndpoint, normalisePolicy, normaliseProfile, PolicyInputError } from './normalise.js';
import { labelViews, matchesEndpoint, type LabelViews } from './labels.js';
import { isTabbyError } from '@tabby/api';
import { translateK8sPolicy } from './k8s.js';
import { PolicySets } from './sets.js';
import { ChainStore } from './chain-store.js';

/** Calico's default tier order. */
export const DEFAULT_TIER_ORDER = 1_000_000;

/** Options of a calculator. */
export interface PolicyCalculatorInit {
  /** This node's name: endpoints with `spec.node` equal to it are local. */
  nodeName: string;
  config?: Partial<PolicyConfig>;
}

/** A read-only view of the model (for the evaluator and for tabbyctl). */
export interface PolicyModel {
  endpoints: ReadonlyMap<string, EndpointN>;
  views: ReadonlyMap<string, LabelViews>;
  /** Active tiers in order, each with its policies in order. */
  tiers: { name: string; order: number; policies: PolicyN[] }[];
  profiles: ReadonlyMap<string, ProfileN>;
}

/** The pure policy calculation (see the module header). */
export class PolicyCalculator {
  readonly nodeName: string;
  private cfg: PolicyConfig;
  private readonly endpoints = new Map<string, EndpointN>();
  private readonly views = new Map<string, LabelViews>();
  private readonly policies = new Map<string, PolicyN>();
  /** Resource key (kind/ns/name) → policy id. */
  private readonly policyKeys = new Map<string, string>();
  private readonly profiles = new Map<string, ProfileN>();
  private readonly tiers = new Map<string, number>([['default', DEFAULT_TIER_ORDER]]);
  /** Policy id → local endpoints it applies to. */
  private readonly applies = new Map<string, Set<string>>();
  private readonly problems = new Map<string, string>();
  private sortedCache: PolicyModel['tiers'] | undefined;
  readonly sets: PolicySets;
  private readonly store: ChainStore;

  constructor(init: PolicyCalculatorInit) {
    this.nodeName = init.nodeName;
    this.cfg = { ...DEFAULT_POLICY_CONFIG, ...init.config };
    this.sets = new PolicySets(this.cfg.ipv6Support);
    this.store = new ChainStore(this.cfg, this.sets);
  }

  /** Current configuration. */
  get config(): PolicyConfig {
    return this.cfg;
  }

  /** Inputs that were skipped, with why. */
  inputProblems(): InputProblem[] {
    return [...this.problems].map(([resource, message]) => ({ resource, message }));
  }

  /** Applies one event. Never throws on bad input: the resource is skipped and reported. */
  onEvent(ev: PolicyEvent): void {
    try {
      this.apply(ev);
    } catch (e: unknown) {
      if (!(e instanceof PolicyInputError) && !isTabbyError(e, 'Invalid')) throw e;
      this.problems.set(resourceKey(ev), e.message);
      this.removeFor(ev);
    }
  }

  private apply(ev: PolicyEvent): void {
    switch (ev.type) {
      case 'endpoint-update': {
        const ep = normaliseEndpoint(ev.endpoint);
        this.problems.delete(resourceKey(ev));
        this.upsertEndpoint(ep);
        return;
      }
      case 'endpoint-remove':
        this.problems.delete(resourceKey(ev));
        this.removeEndpoint(`${ev.namespace}/${ev.name}`);
        return;
      case 'policy-update':
        this.upsertPolicy(resourceKey(ev), normalisePolicy(ev.policy));
        return;
      case 'k8s-policy-update': {
        // As Calico: a rule that cannot be converted is dropped (reported), the rest applies.
        const dropped: string[] = [];
        this.upsertPolicy(resourceKey(ev), normalisePolicy(translateK8sPolicy(ev.policy, { onBadRule: (i) => dropped.push(i.message) })));
        if (dropped.length) this.problems.set(resourceKey(ev), dropped.join('; '));
        else this.problems.delete(resourceKey(ev));
        return;
      }
      case 'policy-remove':
      case 'k8s-policy-remove':
        this.removePolicy(resourceKey(ev));
        return;
      case 'profile-update':
        this.upsertProfile(normaliseProfile(ev.profile));
        this.problems.delete(resourceKey(ev));
        return;
      case 'profile-remove':
        this.problems.delete(resourceKey(ev));
        this.removeProfile(ev.name);
        return;
      case 'tier-update':
        this.tiers.set(ev.name, ev.order ?? DEFAULT_TIER_ORDER);
        this.tiersChanged();
        return;
      case 'tier-remove':
        if (ev.name !== 'default') this.tiers.delete(ev.name);
        this.tiersChanged();
        return;
      case 'pool-update':
        this.sets.setPool(ev.pool.metadata.name, ev.pool.spec.cidr, ev.pool.spec.natOutgoing && !ev.pool.spec.disabled);
        this.store.staticDirty = true;
        return;
      case 'pool-remove':
        this.sets.setPool(ev.name, undefined, false);
        this.store.staticDirty = true;
        return;
      case 'host-update':
        this.sets.setHost(ev.node, ev.addresses, ev.vtep);
        return;
      case 'host-remove':
        this.sets.setHost(ev.node, [], undefined);
        return;
      case 'config-update':
        this.cfg = { ...this.cfg, ...ev.config };
        this.store.setConfig(this.cfg);
        for (const k of this.endpoints.keys()) if (this.isLocal(k)) this.store.endpointDirty(k);
        for (const id of this.applies.keys()) this.store.policyDirty(id);
        for (const p of this.profiles.keys()) this.store.profileDirty(p);
        return;
    }
  }

  private removeFor(ev: PolicyEvent): void {
    if (ev.type === 'policy-update' || ev.type === 'k8s-policy-update') this.removePolicy(resourceKey(ev));
    if (ev.type === 'endpoint-update') this.removeEndpoint(`${ev.endpoint.metadata.namespace ?? 'default'}/${ev.endpoint.metadata.name}`);
    if (ev.type === 'profile-update') this.removeProfile(ev.profile.metadata.name);
  }

  private isLocal(key: string): boolean {
    return this.endpoints.get(key)?.node === this.nodeName;
  }

  private upsertEndpoint(ep: EndpointN): void {
    const old = this.endpoints.get(ep.key);
    if (old && old.node === this.nodeName && (ep.node !== this.nodeName || old.iface !== ep.iface)) this.store.endpointGone(old);
    this.endpoints.set(ep.key, ep);
    this.refreshEndpoint(ep);
    if (ep.node === this.nodeName) this.store.endpointUp(ep);
  }

  /** Re-evaluates one endpoint's label views, set memberships and applying policies. */
  private refreshEndpoint(ep: EndpointN): void {
    const v = labelViews(ep, this.profiles);
    this.views.set(ep.key, v);
    this.sets.updateEndpoint(ep, v);
    const local = ep.node === this.nodeName;
    for (const [id, p] of this.policies) {
      const set = this.applies.get(id) ?? new Set<string>();
      const now = local && this.tiers.has(p.tier) && matchesEndpoint(p.appliesTo, v);
      if (now === set.has(ep.key)) continue;
      if (now) set.add(ep.key);
      else set.delete(ep.key);
      this.applies.set(id, set);
      this.activity(id, set);
    }
    if (local) this.store.endpointDirty(ep.key);
  }

  private removeEndpoint(key: string): void {
    const old = this.endpoints.get(key);
    if (!old) return;
    this.endpoints.delete(key);
    this.views.delete(key);
    this.sets.removeEndpoint(key);
    for (const [id, set] of this.applies) if (set.delete(key)) this.activity(id, set);
    if (old.node === this.nodeName) this.store.endpointGone(old);
  }

  /** A policy became active or inactive. */
  private activity(id: string, set: Set<string>): void {
    const p = this.policies.get(id);
    if (set.size > 0 && p) this.store.policyActive(p);
    else this.store.policyInactive(id);
  }

  private upsertPolicy(key: string, p: PolicyN): void {
    this.problems.delete(key);
    const oldId = this.policyKeys.get(key);
    if (oldId !== undefined && oldId !== p.id) this.removePolicy(key);
    this.policyKeys.set(key, p.id);
    const prev = this.applies.get(p.id) ?? new Set<string>();
    const old = this.policies.get(p.id);
    this.policies.set(p.id, p);
    this.sortedCache = undefined;
    const next = new Set<string>();
    if (this.tiers.has(p.tier)) {
      for (const [k, ep] of this.endpoints) {
        const v = this.views.get(k);
        if (ep.node === this.nodeName && v && matchesEndpoint(p.appliesTo, v)) next.add(k);
      }
    }
    this.applies.set(p.id, next);
    const orderChanged = !old || old.order !== p.order || old.tier !== p.tier || !!old.ingress !== !!p.ingress || !!old.egress !== !!p.egress;
    for (const k of prev) if (!next.has(k) || orderChanged) this.store.endpointDirty(k);
    for (const k of next) if (!prev.has(k) || orderChanged) this.store.endpointDirty(k);
    this.store.policyInactive(p.id);
    if (next.size) this.store.policyActive(p);
  }

  private removePolicy(key: string): void {
    const id = this.policyKeys.get(key);
    if (id === undefined) return;
    this.policyKeys.delete(key);
    this.policies.delete(id);
    this.sortedCache = undefined;
    for (const k of this.applies.get(id) ?? []) this.store.endpointDirty(k);
    this.applies.delete(id);
    this.store.policyInactive(id);
  }

  private upsertProfile(p: ProfileN): void {
    const old = this.profiles.get(p.name);
    this.profiles.set(p.name, p);
    this.store.profileUpdated(p);
    const labelsChanged = JSON.stringify(old?.labelsToApply ?? null) !== JSON.stringify(p.labelsToApply);
    for (const ep of this.endpoints.values()) {
      if (!ep.profiles.includes(p.name)) continue;
      if (labelsChanged) this.refreshEndpoint(ep);
      else if (!old && ep.node === this.nodeName) this.store.endpointDirty(ep.key);
    }
  }

  private removeProfile(name: string): void {
    if (!this.profiles.delete(name)) return;
    this.store.profileUpdated(undefined, name);
    for (const ep of this.endpoints.values()) if (ep.profiles.includes(name)) this.refreshEndpoint(ep);
  }

  private tiersChanged(): void {
    this.sortedCache = undefined;
    for (const [key, id] of [...this.policyKeys]) {
      const p = this.policies.get(id);
      if (p) this.upsertPolicy(key, p);
    }
  }

  /** Active tiers (known tier resources) with their policies, in evaluation order. */
  private sorted(): PolicyModel['tiers'] {
    if (this.sortedCache) return this.sortedCache;
    const byTier = new Map<string, PolicyN[]>();
    for (const p of this.policies.values()) {
      if (!this.tiers.has(p.tier)) continue;
      const l = byTier.get(p.tier) ?? [];
      l.push(p);
      byTier.set(p.tier, l);
    }
    const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
    const tiers = [...byTier].map(([name, policies]) => ({
      name,
      order: this.tiers.get(name) ?? DEFAULT_TIER_ORDER,
      policies: policies.sort((a, b) => (a.order !== b.order ? (a.order < b.order ? -1 : 1) : cmp(a.id, b.id))),
    }));
    tiers.sort((a, b) => (a.order !== b.order ? a.order - b.order : cmp(a.name, b.name)));
    this.sortedCache = tiers;
    return tiers;
  }

  /** The model as it stands (for `evaluate`). */
  model(): PolicyModel {
    return { endpoints: this.endpoints, views: this.views, tiers: this.sorted(), profiles: this.profiles };
  }

  /** Policy ids applying to a local endpoint, in order, by tier (for tests and tabbyctl). */
  policiesFor(key: string): { tier: string; policies: PolicyN[] }[] {
    return this.sorted()
      .map((t) => ({ tier: t.name, policies: t.policies.filter((p) => this.applies.get(p.id)?.has(key)) }))
      .filter((t) => t.policies.length > 0);
  }

  /** The desired kernel state; re-renders only what changed since the last call. */
  desired(): DesiredPolicyState {
    return this.store.flush({
      endpoints: this.endpoints,
      profiles: this.profiles,
      policiesFor: (k) => this.policiesFor(k),
    });
  }

  /** The families rendered. */
  families(): PolicyFamily[] {
    return this.cfg.ipv6Support ? [4, 6] : [4];
  }
}

function resourceKey(ev: PolicyEvent): string {
  switch (ev.type) {
    case 'endpoint-update':
      return `WorkloadEndpoint/${ev.endpoint.metadata.namespace ?? 'default'}/${ev.endpoint.metadata.name}`;
    case 'endpoint-remove':
      return `WorkloadEndpoint/${ev.namespace}/${ev.name}`;
    case 'policy-update':
      return `${ev.policy.kind}/${ev.policy.kind === 'NetworkPolicy' ? (ev.policy.metadata.namespace ?? 'default') + '/' : ''}${ev.policy.metadata.name}`;
    case 'policy-remove':
      return `${ev.kind}/${ev.kind === 'NetworkPolicy' ? (ev.namespace ?? 'default') + '/' : ''}${ev.name}`;
    case 'k8s-policy-update':
      return `KubernetesNetworkPolicy/${ev.policy.metadata.namespace ?? 'default'}/${ev.policy.metadata.name}`;
    case 'k8s-policy-remove':
      return `KubernetesNetworkPolicy/${ev.namespace}/${ev.name}`;
    case 'profile-update':
      return `Profile/${ev.profile.metadata.name}`;
    case 'profile-remove':
      return `Profile/${ev.name}`;
    default:
      return ev.type;
  }
}
