/**
 * Datastore changes → policy events (pure), for the node agent's feed and for tabbyctl's
 * `policy trace`, which must see the same model. Also stands in for Calico's kube-controllers
 * in the etcd datastore: every namespace that has a workload gets its `kns.<namespace>` profile
 * (allow all, the namespace's `pcns.` labels) unless a Profile of that name is stored, so a pod
 * with no policy is reachable, as in Calico.
 */
import type { AnyResource, IPPool, Node, Profile } from '@tabby/api';
import { namespaceProfile } from './labels.js';
import type { PolicyConfig, PolicyEvent } from './types.js';

/** One datastore change: a resource created or modified, or deleted. */
export interface ResourceChange {
  kind: string;
  resource: AnyResource;
  deleted: boolean;
}

function stripLen(a: string | undefined): string | undefined {
  return a?.split('/')[0];
}

function policyConfig(spec: Extract<AnyResource, { kind: 'FelixConfiguration' }>['spec']): Partial<PolicyConfig> {
  const out: Partial<PolicyConfig> = {};
  if (spec.defaultEndpointToHostAction) out.endpointToHostAction = spec.defaultEndpointToHostAction;
  if (spec.chainInsertMode) out.chainInsertMode = spec.chainInsertMode;
  if (spec.interfacePrefix) out.interfacePrefix = spec.interfacePrefix;
  if (spec.ipv6Support !== undefined) out.ipv6Support = spec.ipv6Support;
  return out;
}

/** Maps changes to policy events, keeping track of synthesized namespace profiles. */
export class PolicyFeed {
  /** Namespace → workloads in it. */
  private readonly workloads = new Map<string, Set<string>>();
  /** Profile names stored in the datastore. */
  private readonly stored = new Set<string>();

  constructor(private readonly nodeName: string) {}

  /** The policy events for a batch of changes. */
  events(changes: readonly ResourceChange[]): PolicyEvent[] {
    const out: PolicyEvent[] = [];
    for (const ch of changes) this.one(ch, out);
    return out;
  }

  private one({ resource: r, deleted }: ResourceChange, out: PolicyEvent[]): void {
    switch (r.kind) {
      case 'WorkloadEndpoint': {
        const ns = r.metadata.namespace ?? 'default';
        const key = r.metadata.name;
        let set = this.workloads.get(ns);
        if (deleted) {
          out.push({ type: 'endpoint-remove', namespace: ns, name: key });
          set?.delete(key);
          if (set?.size === 0) {
            this.workloads.delete(ns);
            if (!this.stored.has(`kns.${ns}`)) out.push({ type: 'profile-remove', name: `kns.${ns}` });
          }
          return;
        }
        if (!set) {
          this.workloads.set(ns, (set = new Set()));
          if (!this.stored.has(`kns.${ns}`)) out.push({ type: 'profile-update', profile: namespaceProfile(ns) });
        }
        set.add(key);
        out.push({ type: 'endpoint-update', endpoint: r });
        return;
      }
      case 'NetworkPolicy':
      case 'GlobalNetworkPolicy':
        out.push(deleted ? { type: 'policy-remove', kind: r.kind, namespace: r.metadata.namespace, name: r.metadata.name } : { type: 'policy-update', policy: r });
        return;
      case 'Profile':
        return this.profile(r, deleted, out);
      case 'IPPool':
        out.push(deleted ? { type: 'pool-remove', name: r.metadata.name } : { type: 'pool-update', pool: r as IPPool });
        return;
      case 'Node': {
        const n = r as Node;
        if (deleted) out.push({ type: 'host-remove', node: n.metadata.name });
        else {
          const addresses = [stripLen(n.spec.bgp?.ipv4Address), stripLen(n.spec.bgp?.ipv6Address)].filter((a): a is string => !!a);
          out.push({ type: 'host-update', node: n.metadata.name, addresses, vtep: n.spec.ipv4VXLANTunnelAddr });
        }
        return;
      }
      case 'FelixConfiguration':
        if (r.metadata.name === 'default' || r.metadata.name === `node.${this.nodeName}`) out.push({ type: 'config-update', config: deleted ? {} : policyConfig(r.spec) });
        return;
      default:
        return;
    }
  }

  private profile(p: Profile, deleted: boolean, out: PolicyEvent[]): void {
    const name = p.metadata.name;
    if (deleted) {
      this.stored.delete(name);
      const ns = name.startsWith('kns.') ? name.slice(4) : undefined;
      // A namespace with workloads falls back to the synthesized profile.
      if (ns !== undefined && this.workloads.has(ns)) out.push({ type: 'profile-update', profile: namespaceProfile(ns) });
      else out.push({ type: 'profile-remove', name });
      return;
    }
    this.stored.add(name);
    out.push({ type: 'profile-update', profile: p });
  }
}
