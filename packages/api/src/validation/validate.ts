/**
 * validateResource: the one entry point that turns an untrusted document (parsed YAML/JSON)
 * into a typed resource with defaults, or throws one ValidationError listing every issue.
 *
 * Invariants of a returned resource: apiVersion is `tabby.dev/v1` (projectcalico.org/v3 input is
 * converted), kind is known, metadata.name is valid for the kind, namespaced kinds have a
 * namespace (default `default`) and cluster-scoped kinds none, labels are Kubernetes-valid, and
 * spec satisfies the kind's rules with defaults filled in. Unknown fields are errors (except in
 * FelixConfiguration, which keeps them); a top-level `status` is dropped.
 */
import { z } from 'zod';
import { API_VERSION, CALICO_API_VERSION, isNamespaced, type ObjectMeta } from '../resource.js';
import { KINDS, isKind, type AnyResource, type Kind } from '../kinds/index.js';
import { annotations, dnsSubdomainProblem, labels } from './fields.js';
import { describeValue, formatPath, fromZodIssue, ValidationError, type ValidationIssue } from './issues.js';
import { bgpConfigurationRules, bgpPeerRules, nodeRules } from './kinds-bgp.js';
import { blockAffinityRules, ipamBlockRules, ipamConfigurationRules, ipamHandleRules, ipPoolRules } from './kinds-ipam.js';
import { felixConfigurationRules, workloadEndpointRules } from './kinds-misc.js';
import { globalNetworkPolicyRules, networkPolicyRules, profileRules } from './kinds-policy.js';
import type { KindRules } from './rules.js';

/** Rules for every kind; the Record type makes a missing kind a compile error. */
const RULES: { [K in Kind]: KindRules<Extract<AnyResource, { kind: K }>['spec']> } = {
  IPPool: ipPoolRules,
  IPAMConfiguration: ipamConfigurationRules,
  IPAMBlock: ipamBlockRules,
  BlockAffinity: blockAffinityRules,
  IPAMHandle: ipamHandleRules,
  Node: nodeRules,
  BGPConfiguration: bgpConfigurationRules,
  BGPPeer: bgpPeerRules,
  WorkloadEndpoint: workloadEndpointRules,
  NetworkPolicy: networkPolicyRules,
  GlobalNetworkPolicy: globalNetworkPolicyRules,
  Profile: profileRules,
  FelixConfiguration: felixConfigurationRules,
};

/** apiVersions accepted on input. */
export const ACCEPTED_API_VERSIONS: readonly string[] = [API_VERSION, CALICO_API_VERSION];

const TOP_LEVEL = new Set(['apiVersion', 'kind', 'metadata', 'spec', 'status']);

const metadataSchema = z.object({
  name: z.unknown(),
  namespace: z.unknown(),
  labels: labels.optional(),
  annotations: annotations.optional(),
  resourceVersion: z.string().optional(),
  uid: z.string().optional(),
  creationTimestamp: z.union([z.string(), z.date().transform((d) => d.toISOString())]).optional(),
});

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** `IPPool "blue"`, `IPPool` or `resource`: how a document is named in messages. */
export function describeDocument(doc: unknown): string {
  if (!isObject(doc)) return 'resource';
  const kind = typeof doc.kind === 'string' && doc.kind !== '' ? doc.kind : 'resource';
  const name = isObject(doc.metadata) && typeof doc.metadata.name === 'string' ? doc.metadata.name : undefined;
  return name === undefined ? kind : `${kind} "${name}"`;
}

function checkHeader(doc: Record<string, unknown>, issues: ValidationIssue[]): Kind | undefined {
  for (const k of Object.keys(doc)) if (!TOP_LEVEL.has(k)) issues.push({ path: formatPath([k]), message: 'unknown field' });
  if (doc.apiVersion === undefined) issues.push({ path: 'apiVersion', message: `required field is missing (use ${API_VERSION} or ${CALICO_API_VERSION})` });
  else if (typeof doc.apiVersion !== 'string' || !ACCEPTED_API_VERSIONS.includes(doc.apiVersion)) {
    issues.push({ path: 'apiVersion', message: `${describeValue(doc.apiVersion)} is not ${API_VERSION} or ${CALICO_API_VERSION}` });
  }
  if (doc.kind === undefined) {
    issues.push({ path: 'kind', message: 'required field is missing' });
    return undefined;
  }
  if (!isKind(doc.kind)) {
    issues.push({ path: 'kind', message: `${describeValue(doc.kind)} is not a known kind (${KINDS.join(', ')})` });
    return undefined;
  }
  return doc.kind;
}

function checkMetadata(kind: Kind, raw: unknown, issues: ValidationIssue[]): ObjectMeta | undefined {
  if (!isObject(raw)) {
    issues.push({ path: 'metadata', message: raw === undefined ? 'required field is missing' : `expected an object, got ${describeValue(raw)}` });
    return undefined;
  }
  const parsed = metadataSchema.safeParse(raw);
  if (!parsed.success) issues.push(...parsed.error.issues.flatMap((i) => fromZodIssue(i, raw, ['metadata'])));
  const name = raw.name;
  if (name === undefined) issues.push({ path: 'metadata.name', message: 'required field is missing' });
  else if (typeof name !== 'string') issues.push({ path: 'metadata.name', message: `expected a string, got ${describeValue(name)}` });
  else {
    const problem = (RULES[kind].nameProblem ?? dnsSubdomainProblem)(name);
    if (problem) issues.push({ path: 'metadata.name', message: problem });
  }
  let namespace = raw.namespace;
  if (isNamespaced(kind)) {
    namespace ??= 'default';
    const problem = typeof namespace === 'string' ? dnsSubdomainProblem(namespace) : `expected a string, got ${describeValue(namespace)}`;
    if (problem) issues.push({ path: 'metadata.namespace', message: problem });
  } else if (namespace !== undefined) {
    issues.push({ path: 'metadata.namespace', message: `${kind} is cluster-scoped; remove the namespace` });
  }
  if (!parsed.success || typeof name !== 'string') return undefined;
  const meta: ObjectMeta = { name, ...(typeof namespace === 'string' ? { namespace } : {}) };
  for (const k of ['labels', 'annotations', 'resourceVersion', 'uid', 'creationTimestamp'] as const) {
    const v = parsed.data[k];
    if (v !== undefined) (meta as unknown as Record<string, unknown>)[k] = v;
  }
  return meta;
}

function checkSpec(kind: Kind, raw: unknown, name: string, issues: ValidationIssue[]): unknown {
  const rules = RULES[kind] as KindRules<unknown>;
  const spec = raw ?? {};
  if (!isObject(spec)) {
    issues.push({ path: 'spec', message: `expected an object, got ${describeValue(spec)}` });
    return undefined;
  }
  const parsed = rules.spec.safeParse(spec);
  const own = parsed.success ? [] : parsed.error.issues.flatMap((i) => fromZodIssue(i, spec, ['spec']));
  const cross: ValidationIssue[] = [];
  rules.check?.(spec, (path, message) => cross.push({ path: formatPath(['spec', ...path]), message }), { name });
  // A cross-field issue on a field that already failed on its own would only repeat it.
  const covered = (p: string): boolean => own.some((o) => p === o.path || p.startsWith(`${o.path}.`) || p.startsWith(`${o.path}[`));
  issues.push(...own, ...cross.filter((c) => !covered(c.path)));
  if (!parsed.success || cross.length > 0) return undefined;
  const done = rules.finish ? rules.finish(parsed.data, { name }) : parsed.data;
  return inSchemaOrder(rules.spec, done);
}

/**
 * Orders an object's keys as the schema declares them (unknown passthrough keys last), so
 * defaults added by `finish` land in the same place as when given: output is then identical
 * whether a default was filled in or written out, and format∘parse is stable.
 */
function inSchemaOrder(schema: z.ZodTypeAny, value: unknown): unknown {
  if (!(schema instanceof z.ZodObject) || !isObject(value)) return value;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(schema.shape as Record<string, unknown>)) if (k in value) out[k] = value[k];
  for (const [k, v] of Object.entries(value)) if (!(k in out)) out[k] = v;
  return out;
}

const TOP_ORDER = ['apiVersion', 'kind', 'metadata', 'spec'];

/** Orders issues by field: apiVersion, kind, metadata, spec; then by path with numeric indexes. */
function sortIssues(issues: ValidationIssue[]): ValidationIssue[] {
  const rank = (p: string): number => {
    const i = TOP_ORDER.findIndex((t) => p === t || p.startsWith(`${t}.`) || p.startsWith(`${t}[`));
    return i < 0 ? TOP_ORDER.length : i;
  };
  return [...issues].sort((a, b) => rank(a.path) - rank(b.path) || a.path.localeCompare(b.path, 'en', { numeric: true }));
}

/**
 * Validates a document (e.g. parsed from YAML) and returns the typed resource with defaults.
 * Throws ValidationError (code 'Invalid') listing every issue; its message has one line per issue,
 * `<where>: <path>: <reason>`, where `where` defaults to `<Kind> "<name>"`.
 */
export function validateResource(doc: unknown, where?: string): AnyResource {
  const at = where ?? describeDocument(doc);
  const issues: ValidationIssue[] = [];
  if (!isObject(doc)) throw new ValidationError(at, [{ path: '', message: `expected an object with apiVersion, kind, metadata and spec, got ${describeValue(doc)}` }]);
  const kind = checkHeader(doc, issues);
  if (kind === undefined) throw new ValidationError(at, sortIssues(issues));
  const metadata = checkMetadata(kind, doc.metadata, issues);
  const spec = checkSpec(kind, doc.spec, metadata?.name ?? '', issues);
  if (issues.length > 0 || metadata === undefined) throw new ValidationError(at, sortIssues(issues));
  return { apiVersion: API_VERSION, kind, metadata, spec } as AnyResource;
}

/** Fields that cannot change on update, per kind (Calico: a pool's CIDR and block size are fixed). */
const IMMUTABLE: Partial<Record<Kind, readonly string[]>> = {
  IPPool: ['cidr', 'blockSize'],
  IPAMBlock: ['cidr'],
  BlockAffinity: ['cidr', 'node'],
  IPAMHandle: ['handleID'],
};

/**
 * Validates `next` as an update of the stored `old`: `next` must be valid, keep the kind, name
 * and namespace, and leave immutable fields (IPPool cidr/blockSize, ...) unchanged. Returns
 * the validated `next`; throws ValidationError.
 */
export function validateUpdate(old: AnyResource, next: unknown, where?: string): AnyResource {
  const res = validateResource(next, where);
  const at = where ?? describeDocument(res);
  const issues: ValidationIssue[] = [];
  if (res.kind !== old.kind) issues.push({ path: 'kind', message: `cannot change from ${old.kind} to ${res.kind}` });
  if (res.metadata.name !== old.metadata.name) issues.push({ path: 'metadata.name', message: `cannot change from ${describeValue(old.metadata.name)} to ${describeValue(res.metadata.name)}` });
  if (res.metadata.namespace !== old.metadata.namespace) {
    issues.push({ path: 'metadata.namespace', message: `cannot change from ${describeValue(old.metadata.namespace)} to ${describeValue(res.metadata.namespace)}` });
  }
  if (res.kind === old.kind) {
    const before = old.spec as unknown as Record<string, unknown>;
    const after = res.spec as unknown as Record<string, unknown>;
    for (const f of IMMUTABLE[res.kind] ?? []) {
      if (before[f] !== after[f]) {
        issues.push({ path: `spec.${f}`, message: `cannot be changed (from ${describeValue(before[f])} to ${describeValue(after[f])}); create a new ${res.kind} instead` });
      }
    }
  }
  if (issues.length > 0) throw new ValidationError(at, issues);
  return res;
}

/** The zod schema of a kind's spec (the model crd-schema.ts turns into the CRDs' OpenAPI schema). */
export function specSchemaOf(kind: Kind): z.ZodTypeAny {
  return RULES[kind].spec;
}
