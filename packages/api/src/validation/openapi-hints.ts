/**
 * The OpenAPI v3 shape of each validator field. Most fields are `z.unknown().transform(parse)`
 * (fields.ts), which zod cannot describe; each one records here the schema a Kubernetes API
 * server should apply to it (type, enum, bounds, a description). crd-schema.ts walks the zod
 * model and uses these for the leaves, so the CRDs come from the same model the validator uses.
 */
import type { z } from 'zod';

/** A structural OpenAPI v3 schema node (the subset CRDs use). */
export interface OpenApiSchema {
  type?: 'string' | 'integer' | 'number' | 'boolean' | 'object' | 'array';
  description?: string;
  enum?: Array<string | number>;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  nullable?: boolean;
  properties?: Record<string, OpenApiSchema>;
  required?: string[];
  items?: OpenApiSchema;
  additionalProperties?: OpenApiSchema;
  'x-kubernetes-int-or-string'?: true;
  'x-kubernetes-preserve-unknown-fields'?: true;
}

const hints = new WeakMap<z.ZodTypeAny, OpenApiSchema>();

/** Records the OpenAPI schema of `schema` and returns it (for chaining at definition sites). */
export function withOpenApi<S extends z.ZodTypeAny>(schema: S, hint: OpenApiSchema): S {
  hints.set(schema, hint);
  return schema;
}

/** The recorded OpenAPI schema of `schema`, if any. */
export function openApiHint(schema: z.ZodTypeAny): OpenApiSchema | undefined {
  return hints.get(schema);
}
