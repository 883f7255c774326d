/**
 * Validation errors: one `ValidationError` (code 'Invalid') carries every issue found in a
 * document, each as `{ path: 'spec.blockSize', message: '33 is outside 20-32' }`. Zod's own
 * issues are translated into the same plain style here, so users never see zod's wording.
 */
import type { ZodIssue } from 'zod';
import { TabbyError } from '../errors.js';

/** One problem with one field. `path` is dotted with `[i]` for indexes, e.g. `spec.ingress[0].protocol`. */
export interface ValidationIssue {
  path: string;
  message: string;
}

/** Error codes of validation. */
export type ValidationErrorCode = 'Invalid';

/** A resource failed validation. `issues` lists every problem; the message has one line per issue. */
export class ValidationError extends TabbyError<ValidationErrorCode> {
  readonly issues: readonly ValidationIssue[];
  /** Where the resource came from, e.g. `pools.yaml: document 2 (IPPool "blue")`. */
  readonly where: string;

  constructor(where: string, issues: ValidationIssue[]) {
    super('Invalid', formatIssues(where, issues), { where, issues });
    this.name = 'ValidationError';
    this.where = where;
    this.issues = issues;
  }
}

/** One line per issue: `<where>: <path>: <message>` (or `<where>: <message>` for the root). */
export function formatIssues(where: string, issues: readonly ValidationIssue[]): string {
  const prefix = where === '' ? '' : `${where}: `;
  return issues.map((i) => `${prefix}${i.path === '' ? '' : `${i.path}: `}${i.message}`).join('\n');
}

const PLAIN_KEY = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** Formats a path: `spec.ingress[0].protocol`, `metadata.labels["app.kubernetes.io/name"]`. */
export function formatPath(path: readonly (string | number)[]): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else if (PLAIN_KEY.test(p)) out += out === '' ? p : `.${p}`;
    else out += `[${JSON.stringify(p)}]`;
  }
  return out;
}

/** A short description of a value for messages: `"abc"`, `33`, `true`, `a list`, `an object`. */
export function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (v === undefined) return 'nothing';
  if (typeof v === 'string') return JSON.stringify(v.length > 60 ? `${v.slice(0, 57)}...` : v);
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  if (Array.isArray(v)) return 'a list';
  return 'an object';
}

function valueAt(root: unknown, path: readonly (string | number)[]): unknown {
  let cur = root;
  for (const p of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string | number, unknown>)[p];
  }
  return cur;
}

const TYPE_NAMES: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  integer: 'an integer',
  boolean: 'true or false',
  object: 'an object',
  array: 'a list',
};

/** Translates one zod issue (paths relative to `root`) into ours, with `base` prepended. */
export function fromZodIssue(issue: ZodIssue, root: unknown, base: readonly (string | number)[]): ValidationIssue[] {
  const path = [...base, ...issue.path];
  const value = valueAt(root, issue.path);
  switch (issue.code) {
    case 'invalid_type':
      if (value === undefined) return [{ path: formatPath(path), message: 'required field is missing' }];
      return [{ path: formatPath(path), message: `expected ${TYPE_NAMES[issue.expected] ?? issue.expected}, got ${describeValue(value)}` }];
    case 'unrecognized_keys':
      return issue.keys.map((k) => ({ path: formatPath([...path, k]), message: 'unknown field' }));
    case 'invalid_enum_value':
      return [{ path: formatPath(path), message: `${describeValue(value)} is not one of ${issue.options.map(String).join(', ')}` }];
    case 'invalid_literal':
      return [{ path: formatPath(path), message: `expected ${describeValue(issue.expected)}, got ${describeValue(value)}` }];
    case 'too_small':
    case 'too_big': {
      if (issue.type === 'array') {
        const bound = issue.code === 'too_small' ? `at least ${issue.minimum}` : `at most ${issue.maximum}`;
        return [{ path: formatPath(path), message: `must have ${bound} entries` }];
      }
      if (issue.type === 'string') {
        const bound = issue.code === 'too_small' ? `at least ${issue.minimum}` : `at most ${issue.maximum}`;
        return [{ path: formatPath(path), message: `must be ${bound} characters long, got ${describeValue(value)}` }];
      }
      const bound = issue.code === 'too_small' ? `less than ${issue.minimum}` : `more than ${issue.maximum}`;
      return [{ path: formatPath(path), message: `${describeValue(value)} is ${bound}` }];
    }
    case 'invalid_union':
      return [{ path: formatPath(path), message: `${describeValue(value)} is not valid here` }];
    default:
      return [{ path: formatPath(path), message: issue.message }];
  }
}
