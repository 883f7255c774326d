/**
 * The shape of one kind's validation rules: a zod schema for `spec` (types, ranges, defaults
 * that do not depend on other fields), cross-field checks that run on the raw spec even when
 * the schema failed (so every problem is reported at once), and a `finish` step for defaults
 * that depend on other fields (e.g. blockSize from the pool's family).
 */
import type { z } from 'zod';

/** Adds an issue at a path relative to `spec`. */
export type AddIssue = (path: readonly (string | number)[], message: string) => void;

/** Metadata facts the checks may use. */
export interface CheckContext {
  name: string;
}

/** Validation rules of one kind with spec type S. */
export interface KindRules<S> {
  spec: z.ZodType<S, z.ZodTypeDef, unknown>;
  /** Cross-field checks over the raw spec (already known to be an object). */
  check?: (raw: Readonly<Record<string, unknown>>, add: AddIssue, ctx: CheckContext) => void;
  /** Defaults that depend on other fields or on the name; runs only on a valid spec. */
  finish?: (spec: S, ctx: CheckContext) => S;
  /** Why the resource name is unacceptable, or undefined. Default: a lowercase DNS subdomain. */
  nameProblem?: (name: string) => string | undefined;
}

/** A field of a raw object when it is a plain object. */
export function objectAt(raw: unknown, key: string): Readonly<Record<string, unknown>> | undefined {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return undefined;
  const v = (raw as Record<string, unknown>)[key];
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

/** A field of a raw object when it is an array. */
export function arrayAt(raw: Readonly<Record<string, unknown>> | undefined, key: string): readonly unknown[] | undefined {
  const v = raw?.[key];
  return Array.isArray(v) ? v : undefined;
}

/** A field of a raw object when it is a string. */
export function stringAt(raw: Readonly<Record<string, unknown>> | undefined, key: string): string | undefined {
  const v = raw?.[key];
  return typeof v === 'string' ? v : undefined;
}

/** A field of a raw object when it is an integer. */
export function intAt(raw: Readonly<Record<string, unknown>> | undefined, key: string): number | undefined {
  const v = raw?.[key];
  return typeof v === 'number' && Number.isInteger(v) ? v : undefined;
}
