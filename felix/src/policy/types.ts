/**
 * The policy dataplane's data model: the events the calculator consumes, its configuration, the
 * normalised policy model the renderer and the evaluator share, and the desired state it emits.
 *
 * Invariants: everything here is plain data (no I/O, no clocks); the normalised model is built
 * once per resource update, so the renderer and the evaluator can never disagree on what a
 * resource means.
 */
import type { Cidr, GlobalNetworkPolicy, IPPool, NetworkPolicy, Profile, RuleAction, Selector, WorkloadEndpoint } from '@tabby/api';
import type { K8sNetworkPolicy } from './k8s.js';

/** IP family. */
export type PolicyFamily = 4 | 6;

/** Events, in the same stream as the routing graph's (upserts and removals). */
export type PolicyEvent =
  | { type: 'endpoint-update'; endpoint: WorkloadEndpoint }
  | { type: 'endpoint-remove'; namespace: string; name: string }
  | { type: 'policy-update'; policy: NetworkPolicy | GlobalNetworkPolicy }
  | { type: 'policy-remove'; kind: 'NetworkPolicy' | 'GlobalNetworkPolicy'; namespace?: string; name: string }
  | { type: 'k8s-policy-update'; policy: K8sNetworkPolicy }
  | { type: 'k8s-policy-remove'; namespace: string; name: string }
  | { type: 'profile-update'; profile: Profile }
  | { type: 'profile-remove'; name: string }
  | { type: 'tier-update'; name: string; order?: number }
  | { type: 'tier-remove'; name: string }
  | { type: 'pool-update'; pool: IPPool }
  | { type: 'pool-remove'; name: string }
  | { type: 'host-update'; node: string; addresses: string[]; vtep?: string }
  | { type: 'host-remove'; node: string }
  | { type: 'config-update'; config: Partial<PolicyConfig> };

/** The FelixConfiguration bits the policy dataplane honours, with Calico's defaults. */
export interface PolicyConfig {
  /** Accept mark bit [0x10000]. */
  markAccept: number;
  /** Pass mark bit [0x20000]. */
  markPass: number;
  /** What happens to workload → host traffic after egress policy [Drop]. */
  endpointToHostAction: 'Drop' | 'Accept' | 'Return';
  /** Workload interface prefix [cali]. */
  interfacePrefix: string;
  /** Insert the hook rules at the top of the kernel chains, or append [Insert]. */
  chainInsertMode: 'Insert' | 'Append';
  /** Render IPv6 tables and sets [true]. */
  ipv6Support: boolean;
  /** Allow IPIP from known hosts in cali-INPUT [false]. */
  ipipEnabled: boolean;
  /** Allow VXLAN from known VTEPs in cali-INPUT [false]. */
  vxlanEnabled: boolean;
  /** [4789] */
  vxlanPort: number;
  /** Split a dispatch chain into children once it has more interfaces than this [16]. */
  dispatchSplitThreshold: number;
}

/** Calico's defaults. */
export const DEFAULT_POLICY_CONFIG: PolicyConfig = {
  markAccept: 0x10000,
  markPass: 0x20000,
  endpointToHostAction: 'Drop',
  interfacePrefix: 'cali',
  chainInsertMode: 'Insert',
  ipv6Support: true,
  ipipEnabled: false,
  vxlanEnabled: false,
  vxlanPort: 4789,
  dispatchSplitThreshold: 16,
};

/** A port match: a range (a single port is lo === hi) or a named port. */
export type PortMatch = { kind: 'range'; lo: number; hi: number } | { kind: 'named'; name: string };

/**
 * Which endpoints a selector-like match picks: all of `selector` over the endpoint's labels,
 * `ns` over its namespace (`pcns.` labels) and `sa` over its service account (`pcsa.` labels).
 */
export interface EndpointMatch {
  selector: Selector;
  /** Namespace scope: a name (namespaced policy's own) or a selector over namespace labels. */
  ns?: { kind: 'name'; name: string } | { kind: 'selector'; selector: Selector };
  /** Service-account scope. */
  sa?: { names?: string[]; selector?: Selector };
  /** Canonical text; equal text means equal match (used to name ipsets). */
  id: string;
}

/** One side (source or destination) of a normalised rule. */
export interface EntityN {
  nets: Cidr[];
  notNets: Cidr[];
  match?: EndpointMatch;
  notMatch?: EndpointMatch;
  ports: PortMatch[];
  notPorts: PortMatch[];
}

/** A normalised rule. */
export interface RuleN {
  action: RuleAction;
  ipVersion?: PolicyFamily;
  protocol?: number;
  notProtocol?: number;
  icmp?: { type?: number; code?: number };
  notICMP?: { type?: number; code?: number };
  src: EntityN;
  dst: EntityN;
}

/** A normalised policy (NetworkPolicy, GlobalNetworkPolicy or translated Kubernetes policy). */
export interface PolicyN {
  /** `<tier>/<namespace>/<name>` or `<tier>/<name>`: the policy's identity. */
  id: string;
  kind: 'NetworkPolicy' | 'GlobalNetworkPolicy';
  namespace?: string;
  name: string;
  tier: string;
  /** Unset sorts last (Infinity). */
  order: number;
  /** Endpoints it applies to. */
  appliesTo: EndpointMatch;
  ingress?: RuleN[];
  egress?: RuleN[];
}

/** A normalised profile. */
export interface ProfileN {
  name: string;
  ingress: RuleN[];
  egress: RuleN[];
  labelsToApply: Record<string, string>;
}

/** A workload endpoint as the model sees it. */
export interface EndpointN {
  key: string;
  namespace: string;
  name: string;
  node: string;
  iface: string;
  v4: string[];
  v6: string[];
  /** Own labels plus projectcalico.org/namespace, /orchestrator, /serviceaccount. */
  labels: Record<string, string>;
  profiles: string[];
  ports: { name: string; protocol: number; port: number }[];
}

/** One rendered iptables rule: match text, target text, and its `cali:` hash. */
export interface IptRule {
  match: string;
  target: string;
  /** The rule's `cali:<hash>` comment id (16 characters). */
  hash: string;
  /** An extra human comment (e.g. "Drop if no policies passed packet"). */
  comment?: string;
}

/** One chain we own (`cali-…`). */
export interface Chain {
  name: string;
  rules: IptRule[];
}

/** One rule we insert into a kernel chain (INPUT, FORWARD, …). */
export interface HookRule {
  chain: string;
  rule: IptRule;
}

/** Tables we write. */
export type TableName = 'filter' | 'nat' | 'mangle' | 'raw';

/** Desired state of one table. */
export interface TableState {
  chains: ReadonlyMap<string, Chain>;
  hooks: HookRule[];
}

/** An ipset we own. */
export interface IpSetState {
  name: string;
  type: 'hash:ip' | 'hash:net' | 'hash:ip,port';
  family: PolicyFamily;
  members: ReadonlySet<string>;
}

/** The desired dataplane of one IP family. */
export interface FamilyState {
  family: PolicyFamily;
  tables: Partial<Record<TableName, TableState>>;
  ipsets: ReadonlyMap<string, IpSetState>;
}

/** Everything the policy dataplane wants in the kernel. */
export interface DesiredPolicyState {
  /** Increases whenever anything changed. */
  generation: number;
  v4: FamilyState;
  v6?: FamilyState;
}

/** A problem with one input (invalid selector, unknown protocol): the resource is skipped. */
export interface InputProblem {
  resource: string;
  message: string;
}
