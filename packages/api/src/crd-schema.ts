/**
 * The OpenAPI v3 schema of each kind for its CustomResourceDefinition, generated from the zod
 * model the validator uses (validation/*.ts), so what the API server checks and what tabbyctl
 * checks cannot drift apart. Also the `kubectl get` columns of each kind. Pure.
 *
 * Invariant: the result is structural as Kubernetes defines it (apiextensions.k8s.io/v1): every
 * node has a `type` (or is int-or-string / preserve-unknown-fields), objects list their
 * properties or give `additionalProperties`, arrays give `items`. A validator field with no
 * recorded OpenAPI shape is an error naming its path, never a silently open schema.
 */
import { z } from 'zod';
import { TabbyError } from './errors.js';
import type { Kind } from './kinds/index.js';
import { specSchemaOf } from './validation/validate.js';
import { openApiHint, type OpenApiSchema } from './validation/openapi-hints.js';

export type { OpenApiSchema } from './validation/openapi-hints.js';

/** A CRD `additionalPrinterColumns` entry. */
export interface PrinterColumn {
  name: string;
  type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  jsonPath: string;
  priority?: number;
}

/** What each kind is, for `kubectl explain`. */
const KIND_DESCRIPTIONS: Record<Kind, string> = {
  IPPool: 'A range of pod addresses: its block size, encapsulation (IPIP / VXLAN), outgoing NAT and the nodes that use it.',
  IPAMConfiguration: 'Cluster-wide IPAM settings (only the one named "default").',
  IPAMBlock: 'A block of a pool: which node it is affine to and which of its addresses are allocated.',
  BlockAffinity: 'A claim of a block by a node.',
  IPAMHandle: 'The addresses allocated under one handle (a pod or a tunnel), per block.',
  Node: 'A node (stored as the core/v1 Node in Kubernetes mode).',
  BGPConfiguration: 'BGP settings: cluster-wide when named "default", else per node ("node.<name>").',
  BGPPeer: 'A BGP peering: which nodes peer with which address or which nodes.',
  WorkloadEndpoint: 'A pod interface: its node, addresses, profiles and interface name.',
  NetworkPolicy: 'An ordered set of rules for the endpoints its selector matches in its namespace.',
  GlobalNetworkPolicy: 'An ordered set of rules for the endpoints its selector matches in all namespaces.',
  Profile: 'Labels and rules applied to endpoints (namespaces and service accounts become profiles).',
  FelixConfiguration: 'Dataplane settings (unmodelled Calico fields are kept).',
};

const col = (name: string, jsonPath: string, type: PrinterColumn['type'] = 'string', priority?: number): PrinterColumn => ({ name, type, jsonPath, ...(priority !== undefined ? { priority } : {}) });
const AGE = col('Age', '.metadata.creationTimestamp', 'date');

/** The `kubectl get` columns of each kind (Age last, as kubectl's default). */
const COLUMNS: Record<Kind, PrinterColumn[]> = {
  IPPool: [col('CIDR', '.spec.cidr'), col('VXLAN', '.spec.vxlanMode'), col('IPIP', '.spec.ipipMode'), col('NAT', '.spec.natOutgoing', 'boolean'), col('Disabled', '.spec.disabled', 'boolean'), col('Selector', '.spec.nodeSelector', 'string', 1), AGE],
  IPAMConfiguration: [col('Strict affinity', '.spec.strictAffinity', 'boolean'), col('Max blocks per host', '.spec.maxBlocksPerHost', 'integer'), AGE],
  IPAMBlock: [col('CIDR', '.spec.cidr'), col('Affinity', '.spec.affinity'), AGE],
  BlockAffinity: [col('Node', '.spec.node'), col('CIDR', '.spec.cidr'), col('State', '.spec.state'), AGE],
  IPAMHandle: [col('Handle', '.spec.handleID'), AGE],
  Node: [],
  BGPConfiguration: [col('AS', '.spec.asNumber', 'integer'), col('Mesh', '.spec.nodeToNodeMeshEnabled', 'boolean'), col('Port', '.spec.listenPort', 'integer'), AGE],
  BGPPeer: [col('Peer IP', '.spec.peerIP'), col('AS', '.spec.asNumber', 'integer'), col('Node', '.spec.node'), col('Node selector', '.spec.nodeSelector'), col('Peer selector', '.spec.peerSelector'), AGE],
  WorkloadEndpoint: [col('Node', '.spec.node'), col('Pod', '.spec.pod'), col('Interface', '.spec.interfaceName'), col('Networks', '.spec.ipNetworks'), AGE],
  NetworkPolicy: [col('Order', '.spec.order', 'number'), col('Selector', '.spec.selector'), col('Types', '.spec.types', 'string', 1), AGE],
  GlobalNetworkPolicy: [col('Order', '.spec.order', 'number'), col('Selector', '.spec.selector'), col('Types', '.spec.types', 'string', 1), AGE],
  Profile: [AGE],
  FelixConfiguration: [col('VXLAN', '.spec.vxlanEnabled', 'boolean'), col('IPIP', '.spec.ipipEnabled', 'boolean'), AGE],
};

function schemaError(path: string, why: string): TabbyError {
  return new TabbyError('NoOpenApiSchema', `crd-schema: ${path}: ${why}`, { path });
}

/** A default value as a short description suffix, when it is worth showing. */
function defaultNote(value: unknown): string {
  if (value === '' || (Array.isArray(value) && value.length === 0) || (typeof value === 'object' && value !== null && Object.keys(value).length === 0)) return '';
  return ` Default: ${Array.isArray(value) ? value.join(', ') : String(value)}.`;
}

function describe(s: OpenApiSchema, extra: string): OpenApiSchema {
  if (!extra) return s;
  return { ...s, description: `${s.description ?? ''}${extra}`.trim() };
}

/** Descriptions by field path (`spec.bgp.asNumber`, `spec.ingress[].action`), e.g. from doc comments. */
export type FieldDocs = ReadonlyMap<string, string>;

/**
 * The OpenAPI schema of one zod node; `path` names it in errors and looks up its description in
 * `docs` (which wins over the field's generic one).
 */
export function openApiOf(schema: z.ZodTypeAny, path: string, docs?: FieldDocs): OpenApiSchema {
  const s = nodeOf(schema, path, docs);
  const doc = docs?.get(path);
  return doc ? { ...s, description: doc } : s;
}

function nodeOf(schema: z.ZodTypeAny, path: string, docs: FieldDocs | undefined): OpenApiSchema {
  const hint = openApiHint(schema);
  if (hint) return structuredClone(hint);
  if (schema instanceof z.ZodOptional || schema instanceof z.ZodNullable) return nodeOf(schema.unwrap() as z.ZodTypeAny, path, docs);
  if (schema instanceof z.ZodDefault) {
    const inner = nodeOf(schema.removeDefault() as z.ZodTypeAny, path, docs);
    return describe(inner, defaultNote(schema._def.defaultValue()));
  }
  if (schema instanceof z.ZodEffects) return nodeOf(schema.innerType() as z.ZodTypeAny, path, docs);
  if (schema instanceof z.ZodString) return { type: 'string' };
  if (schema instanceof z.ZodNumber) return { type: schema.isInt ? 'integer' : 'number' };
  if (schema instanceof z.ZodBoolean) return { type: 'boolean' };
  if (schema instanceof z.ZodArray) return { type: 'array', items: openApiOf(schema.element as z.ZodTypeAny, `${path}[]`, docs) };
  if (schema instanceof z.ZodRecord) return { type: 'object', additionalProperties: openApiOf(schema.valueSchema as z.ZodTypeAny, `${path}{}`, docs) };
  if (schema instanceof z.ZodObject) return objectOf(schema, path, docs);
  throw schemaError(path, `${(schema._def as { typeName?: string }).typeName ?? 'this schema'} has no OpenAPI form; give the field one with withOpenApi()`);
}

function isOptional(s: z.ZodTypeAny): boolean {
  return s instanceof z.ZodOptional || s instanceof z.ZodDefault;
}

function objectOf(schema: z.AnyZodObject, path: string, docs: FieldDocs | undefined): OpenApiSchema {
  const properties: Record<string, OpenApiSchema> = {};
  const required: string[] = [];
  for (const [k, v] of Object.entries(schema.shape as Record<string, z.ZodTypeAny>)) {
    properties[k] = openApiOf(v, path ? `${path}.${k}` : k, docs);
    if (!isOptional(v)) required.push(k);
  }
  const out: OpenApiSchema = { type: 'object', properties };
  if (required.length > 0) out.required = required;
  // A passthrough object keeps fields it does not model (FelixConfiguration).
  if (schema._def.unknownKeys === 'passthrough') out['x-kubernetes-preserve-unknown-fields'] = true;
  return out;
}

/**
 * The `openAPIV3Schema` of a kind's CRD: apiVersion, kind, metadata and the spec from its model;
 * `docs` describe fields by path (the CRD writer passes the kinds' doc comments).
 */
export function crdSchemaOf(kind: Kind, docs?: FieldDocs): OpenApiSchema {
  return {
    type: 'object',
    description: KIND_DESCRIPTIONS[kind],
    properties: {
      apiVersion: { type: 'string', description: 'tabby.dev/v1' },
      kind: { type: 'string', description: kind },
      metadata: { type: 'object' },
      spec: { ...openApiOf(specSchemaOf(kind), 'spec', docs), description: `The ${kind}'s specification.` },
    },
  };
}

/** The `additionalPrinterColumns` of a kind's CRD. */
export function printerColumnsOf(kind: Kind): PrinterColumn[] {
  return COLUMNS[kind].map((c) => ({ ...c }));
}

/**
 * Why `s` is not a structural schema, one line per problem (empty: structural). Checks what
 * Kubernetes requires of CRD schemas: a type on every node (int-or-string and
 * preserve-unknown-fields aside), properties or additionalProperties not both, items on arrays,
 * required naming existing properties.
 */
export function structuralProblems(s: OpenApiSchema, path = ''): string[] {
  const out: string[] = [];
  const at = path || '<root>';
  const open = s['x-kubernetes-int-or-string'] === true || s['x-kubernetes-preserve-unknown-fields'] === true;
  if (!s.type && !open) out.push(`${at}: no type`);
  if (s.properties && s.additionalProperties) out.push(`${at}: both properties and additionalProperties`);
  if (s.type === 'array' && !s.items) out.push(`${at}: an array without items`);
  if (s.type !== 'object' && (s.properties || s.additionalProperties)) out.push(`${at}: properties on a ${s.type ?? 'typeless'} node`);
  for (const r of s.required ?? []) if (!s.properties?.[r]) out.push(`${at}: required "${r}" is not a property`);
  for (const [k, v] of Object.entries(s.properties ?? {})) out.push(...structuralProblems(v, path ? `${path}.${k}` : k));
  if (s.items) out.push(...structuralProblems(s.items, `${path}[]`));
  if (s.additionalProperties) out.push(...structuralProblems(s.additionalProperties, `${path}{}`));
  return out;
}
