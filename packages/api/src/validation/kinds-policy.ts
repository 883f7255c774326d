/**
 * Validation of NetworkPolicy, GlobalNetworkPolicy and Profile and the Rule they share. Ports
 * need a protocol that has ports (TCP, UDP, SCTP, UDPLite); ICMP matches need ICMP or ICMPv6
 * and agree with ipVersion and with the family of `nets`. Policy `types` default as Calico does:
 * Ingress, plus Egress when there are egress rules (Egress alone when only egress rules exist).
 */
import { z } from 'zod';
import { tryParseCidr, tryParseIp } from '../net/cidr.js';
import type { GlobalNetworkPolicySpec, NetworkPolicySpec, PolicyType, ProfileSpec } from '../kinds/index.js';
import { bool, cidr, field, intIn, labels, nonEmpty, oneOf, port, protocol, selector, str } from './fields.js';
import { describeValue } from './issues.js';
import { arrayAt, objectAt, type AddIssue, type KindRules } from './rules.js';

const entityRule = z
  .object({
    nets: z.array(cidr({ allowIp: true })).optional(),
    notNets: z.array(cidr({ allowIp: true })).optional(),
    selector: selector.optional(),
    notSelector: selector.optional(),
    namespaceSelector: selector.optional(),
    ports: z.array(port).optional(),
    notPorts: z.array(port).optional(),
    serviceAccounts: z.object({ names: z.array(nonEmpty).optional(), selector: selector.optional() }).strict().optional(),
    services: z.object({ name: str.optional(), namespace: str.optional() }).strict().optional(),
  })
  .strict();

const icmp = z.object({ type: intIn(0, 254).optional(), code: intIn(0, 255).optional() }).strict();

const ipVersion = field<4 | 6>((v) => (v === 4 || v === 6 ? { value: v } : { error: `${describeValue(v)} is not 4 or 6` }), { type: 'integer', enum: [4, 6] });

/** Schema of one rule. */
export const ruleSchema = z
  .object({
    action: oneOf(['Allow', 'Deny', 'Log', 'Pass'] as const),
    ipVersion: ipVersion.optional(),
    protocol: protocol.optional(),
    notProtocol: protocol.optional(),
    icmp: icmp.optional(),
    notICMP: icmp.optional(),
    source: entityRule.optional(),
    destination: entityRule.optional(),
    http: z.object({ methods: z.array(str).optional(), paths: z.array(z.record(z.string(), z.string())).optional() }).strict().optional(),
    metadata: z.object({ annotations: z.record(z.string(), z.string()).optional() }).strict().optional(),
  })
  .strict();

const PORT_PROTOCOLS = new Set(['tcp', 'udp', 'sctp', 'udplite', '6', '17', '132', '136']);
const ICMP_PROTOCOLS: Record<string, 4 | 6> = { icmp: 4, '1': 4, icmpv6: 6, '58': 6 };

const isNamedPort = (p: unknown): boolean => typeof p === 'string' && /[a-z]/.test(p);

/** Port checks: ports need a protocol with ports; without a protocol only named ports are allowed. */
function checkPorts(e: Readonly<Record<string, unknown>> | undefined, proto: string | undefined, protoText: string, at: (string | number)[], add: AddIssue): void {
  for (const k of ['ports', 'notPorts'] as const) {
    const ports = arrayAt(e, k);
    if (!ports?.length) continue;
    if (proto === undefined && !ports.every(isNamedPort)) {
      add([...at, k], 'numeric ports need protocol TCP, UDP, SCTP or UDPLite (no protocol is set; only named ports may go without)');
    } else if (proto !== undefined && !PORT_PROTOCOLS.has(proto)) {
      add([...at, k], `ports need protocol TCP, UDP, SCTP or UDPLite (${protoText})`);
    }
  }
}

/** Checks an entity rule (source or destination) at `at`. */
function checkEntity(e: Readonly<Record<string, unknown>> | undefined, at: (string | number)[], add: AddIssue): void {
  if (!e) return;
  for (const k of ['selector', 'notSelector'] as const) {
    if (typeof e[k] === 'string' && (e[k] as string).includes('global(')) add([...at, k], 'global() can only be used in namespaceSelector');
  }
  const ns = e.namespaceSelector;
  if (typeof ns === 'string' && ns.includes('global(') && ns.trim() !== 'global()') add([...at, 'namespaceSelector'], 'global() must be the whole namespaceSelector');
  const svc = objectAt(e, 'services');
  if (svc) {
    if (!svc.name) add([...at, 'services', 'name'], 'required: the service to match');
    if (e.selector !== undefined || e.notSelector !== undefined) add([...at, 'services'], 'cannot be combined with selector or notSelector');
    if (e.nets !== undefined || e.notNets !== undefined) add([...at, 'services'], 'cannot be combined with nets or notNets');
  }
}

/** Nets checks: families agree with ipVersion and with each other; no catch-all in notNets. */
function checkNets(r: Readonly<Record<string, unknown>>, base: (string | number)[], add: AddIssue): void {
  const families = new Set<number>();
  for (const side of ['source', 'destination'] as const) {
    for (const k of ['nets', 'notNets'] as const) {
      arrayAt(objectAt(r, side), k)?.forEach((n, i) => {
        const c = typeof n === 'string' ? (n.includes('/') ? tryParseCidr(n) : tryParseIp(n)) : undefined;
        if (!c) return;
        families.add(c.family);
        if (r.ipVersion !== undefined && c.family !== r.ipVersion) {
          add([...base, side, k, i], `${describeValue(n)} is IPv${c.family} but the rule has ipVersion ${String(r.ipVersion)}`);
        }
        if (k === 'notNets' && 'prefixLen' in c && c.prefixLen === 0) add([...base, side, k, i], `${describeValue(n)} in notNets matches nothing`);
      });
    }
  }
  if (families.size > 1 && r.ipVersion === undefined) add(base, 'mixes IPv4 and IPv6 nets in one rule; split it into one rule per family');
}

/** Cross-field checks of one rule at `base` (e.g. ['ingress', 0]). */
export function checkRule(rule: unknown, base: (string | number)[], add: AddIssue): void {
  const r = objectAt({ r: rule }, 'r');
  if (!r) return;
  const proto = r.protocol === undefined ? undefined : String(r.protocol).toLowerCase();
  const protoText = r.protocol === undefined ? 'no protocol is set' : `protocol is ${String(r.protocol)}`;
  for (const side of ['source', 'destination'] as const) {
    checkPorts(objectAt(r, side), proto, protoText, [...base, side], add);
    checkEntity(objectAt(r, side), [...base, side], add);
  }
  // Calico: services match the peer, so only in an ingress source or an egress destination.
  const wrongSide = base[0] === 'ingress' ? 'destination' : 'source';
  if (objectAt(objectAt(r, wrongSide), 'services')) add([...base, wrongSide, 'services'], `not allowed in the ${wrongSide} of an ${String(base[0])} rule`);
  checkNets(r, base, add);
  const icmpFamily = proto === undefined ? undefined : ICMP_PROTOCOLS[proto];
  for (const k of ['icmp', 'notICMP'] as const) {
    const m = objectAt(r, k);
    if (!m) continue;
    if (icmpFamily === undefined) add([...base, k], `ICMP matches need protocol ICMP or ICMPv6 (${protoText})`);
    if (m.code !== undefined && m.type === undefined) add([...base, k, 'code'], 'an ICMP code needs an ICMP type');
  }
  if (icmpFamily !== undefined && r.ipVersion !== undefined && r.ipVersion !== icmpFamily) {
    add([...base, 'ipVersion'], `protocol ${String(r.protocol)} needs ipVersion ${icmpFamily}`);
  }
}

function checkRules(raw: Readonly<Record<string, unknown>>, add: AddIssue): void {
  for (const dir of ['ingress', 'egress'] as const) arrayAt(raw, dir)?.forEach((rule, i) => checkRule(rule, [dir, i], add));
}

const policyFields = {
  tier: nonEmpty.optional(),
  order: field<number>((v) => (typeof v === 'number' && Number.isFinite(v) ? { value: v } : { error: `expected a number, got ${describeValue(v)}` }), { type: 'number' }).optional(),
  selector: selector.default(''),
  types: z.array(oneOf(['Ingress', 'Egress'] as const)).optional(),
  ingress: z.array(ruleSchema).default(() => []),
  egress: z.array(ruleSchema).default(() => []),
  serviceAccountSelector: selector.optional(),
};

function checkTypes(raw: Readonly<Record<string, unknown>>, add: AddIssue): void {
  for (const k of ['selector', 'serviceAccountSelector'] as const) {
    if (typeof raw[k] === 'string' && (raw[k] as string).includes('global(')) add([k], 'global() can only be used in a rule\'s namespaceSelector');
  }
  const types = arrayAt(raw, 'types');
  if (!types) return;
  if (new Set(types).size !== types.length) add(['types'], 'lists a type twice');
  for (const [dir, type] of [['ingress', 'Ingress'], ['egress', 'Egress']] as const) {
    if (arrayAt(raw, dir)?.length && !types.includes(type)) add([dir], `${dir} rules are present but types does not include ${type}`);
  }
}

/** Calico's default for `types`. */
function defaultTypes<S extends NetworkPolicySpec>(spec: S): S {
  if (spec.types !== undefined) return spec;
  const types: PolicyType[] = [];
  if (spec.ingress.length > 0 || spec.egress.length === 0) types.push('Ingress');
  if (spec.egress.length > 0) types.push('Egress');
  return { ...spec, types };
}

/** Calico: policy names are DNS labels, optionally prefixed by a tier (`tier.name`) or `knp.default.`. */
function policyNameProblem(name: string): string | undefined {
  const label = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';
  if (name.length <= 253 && new RegExp(`^(knp\\.default\\.|${label}\\.)?${label}$`).test(name)) return undefined;
  return `${describeValue(name)} must be lowercase letters, digits and "-" (optionally prefixed by "<tier>."), at most 253 characters`;
}

/** NetworkPolicy. */
export const networkPolicyRules: KindRules<NetworkPolicySpec> = {
  spec: z.object(policyFields).strict() as z.ZodType<NetworkPolicySpec, z.ZodTypeDef, unknown>,
  check(raw, add) {
    checkTypes(raw, add);
    checkRules(raw, add);
  },
  finish: defaultTypes,
  nameProblem: policyNameProblem,
};

/** GlobalNetworkPolicy. */
export const globalNetworkPolicyRules: KindRules<GlobalNetworkPolicySpec> = {
  spec: z
    .object({
      ...policyFields,
      namespaceSelector: selector.optional(),
      doNotTrack: bool.optional(),
      preDNAT: bool.optional(),
      applyOnForward: bool.optional(),
    })
    .strict() as z.ZodType<GlobalNetworkPolicySpec, z.ZodTypeDef, unknown>,
  check(raw, add) {
    checkTypes(raw, add);
    checkRules(raw, add);
    if (raw.doNotTrack === true && raw.preDNAT === true) add(['preDNAT'], 'cannot be true together with doNotTrack');
    if (raw.preDNAT === true && arrayAt(raw, 'egress')?.length) add(['egress'], 'a preDNAT policy cannot have egress rules');
    for (const k of ['doNotTrack', 'preDNAT'] as const) {
      if (raw[k] === true && raw.applyOnForward !== true) add(['applyOnForward'], `must be true when ${k} is true`);
    }
  },
  finish: defaultTypes,
  nameProblem: policyNameProblem,
};

/** Profile. */
export const profileRules: KindRules<ProfileSpec> = {
  spec: z
    .object({
      ingress: z.array(ruleSchema).optional(),
      egress: z.array(ruleSchema).optional(),
      labelsToApply: labels.optional(),
    })
    .strict() as z.ZodType<ProfileSpec, z.ZodTypeDef, unknown>,
  check: checkRules,
  // Calico profile names include kns.<ns> and ksa.<ns>.<sa>; allow upper case and "_" as Calico does.
  nameProblem: (name) =>
    /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/.test(name) && name.length <= 253
      ? undefined
      : `${describeValue(name)} must be at most 253 letters, digits, "-", "_" and ".", starting and ending with a letter or digit`,
};
