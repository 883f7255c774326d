/**
 * Reading and writing resource files: multi-document YAML, a single JSON object, a JSON array,
 * or a Kubernetes-style `List` (`items`). Every document is validated; `parseDocuments` returns
 * all resources or throws one DocumentsError that lists every problem in every document (never
 * a partial result).
 *
 * Message formats (one line per problem):
 *   `<file>: line <l>, column <c>: <YAML syntax error>`
 *   `<file>: document <n> (<Kind> "<name>"): <field path>: <reason>`
 * Documents are numbered from 1 in file order, counting every resource: the items of a List or
 * array count one each, empty YAML documents not at all.
 */
import { isAlias, parseAllDocuments, stringify, visit, type Document } from 'yaml';
import { TabbyError } from '../errors.js';
import type { AnyResource } from '../kinds/index.js';
import { API_VERSION } from '../resource.js';
import { describeValue, ValidationError } from '../validation/issues.js';
import { validateResource } from '../validation/validate.js';

/** Error codes of document I/O. */
export type DocumentsErrorCode = 'Invalid' | 'YamlSyntax';

/** One problem found while reading a file. */
export interface DocumentProblem {
  file: string;
  /** 1-based document number, when the problem is in one document. */
  document?: number;
  kind?: string;
  name?: string;
  /** Field path, e.g. `spec.blockSize` ('' for the document itself). */
  path?: string;
  /** 1-based line and column, for syntax errors. */
  line?: number;
  column?: number;
  message: string;
}

/** A file could not be read: every problem is listed, one per line of the message. */
export class DocumentsError extends TabbyError<DocumentsErrorCode> {
  readonly problems: readonly DocumentProblem[];
  constructor(code: DocumentsErrorCode, problems: DocumentProblem[]) {
    super(code, problems.map(formatProblem).join('\n'), { problems });
    this.name = 'DocumentsError';
    this.problems = problems;
  }
}

/** Formats one problem as a line (see the module header). */
export function formatProblem(p: DocumentProblem): string {
  let where = p.file;
  if (p.line !== undefined) where += `: line ${p.line}, column ${p.column ?? 1}`;
  if (p.document !== undefined) where += `: ${documentLabel(p.document, p.kind, p.name)}`;
  return `${where}: ${p.path ? `${p.path}: ` : ''}${p.message}`;
}

function documentLabel(n: number, kind?: string, name?: string): string {
  if (kind === undefined) return `document ${n}`;
  return name === undefined ? `document ${n} (${kind})` : `document ${n} (${kind} "${name}")`;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** The resources a parsed YAML document holds: itself, an array's elements, or a List's items. */
function unwrap(value: unknown): unknown[] {
  if (value === null || value === undefined) return [];
  if (Array.isArray(value)) return value;
  if (isObject(value) && typeof value.kind === 'string' && value.kind.endsWith('List') && Array.isArray(value.items)) return value.items;
  return [value];
}

/** Splits text into raw documents; throws DocumentsError 'YamlSyntax' listing every syntax error. */
export function splitDocuments(text: string, fileName: string): unknown[] {
  const docs = parseAllDocuments(text, { prettyErrors: true, uniqueKeys: true });
  const list = Array.isArray(docs) ? docs : [docs];
  const problems: DocumentProblem[] = [];
  for (const d of list) {
    for (const e of d.errors) {
      const pos = e.linePos?.[0];
      const message = (e.message.split('\n')[0] ?? e.message).replace(/ at line \d+, column \d+:?$/, '');
      problems.push({ file: fileName, line: pos?.line, column: pos?.col, message });
    }
  }
  if (problems.length > 0) throw new DocumentsError('YamlSyntax', problems);
  const values: unknown[] = [];
  for (const d of list) {
    try {
      values.push(...unwrap(d.toJS({ maxAliasCount: 100 })));
    } catch (e: unknown) {
      // Alias problems (undefined anchors, alias bombs) surface only when converting.
      const [line, column] = lineCol(text, badAliasOffset(d) ?? d.contents?.range?.[0] ?? d.range[0]);
      problems.push({ file: fileName, line, column, message: e instanceof Error ? e.message : String(e) });
    }
  }
  if (problems.length > 0) throw new DocumentsError('YamlSyntax', problems);
  return values;
}

/** Offset of the first alias whose anchor is not defined before it, if any. */
function badAliasOffset(d: Document.Parsed): number | undefined {
  let offset: number | undefined;
  visit(d, {
    Alias(_, node) {
      if (isAlias(node) && node.resolve(d) === undefined && offset === undefined) {
        offset = node.range?.[0];
        return visit.BREAK;
      }
      return undefined;
    },
  });
  return offset;
}

/** 1-based line and column of a character offset. */
function lineCol(text: string, offset: number): [number, number] {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  return [line, offset - before.lastIndexOf('\n')];
}

/**
 * Parses and validates every resource in a YAML or JSON text. `projectcalico.org/v3` documents
 * are accepted and converted to `tabby.dev/v1`. Throws DocumentsError: 'YamlSyntax' for syntax
 * errors (with line and column), 'Invalid' listing every invalid document and field.
 */
export function parseDocuments(text: string, fileName: string): AnyResource[] {
  return parseDocumentsAs(text, fileName, validateResource);
}

/**
 * `parseDocuments` with another per-document validator (it returns the resource, or throws
 * ValidationError naming the fields) — for callers that accept more document kinds, such as
 * tabbyctl's Kubernetes NetworkPolicies. Same numbering, duplicate check and errors.
 */
export function parseDocumentsAs<R extends { kind: string; metadata: { name: string; namespace?: string } }>(
  text: string,
  fileName: string,
  validate: (raw: unknown, where: string) => R,
): R[] {
  const raws = splitDocuments(text, fileName);
  const problems: DocumentProblem[] = [];
  const out: R[] = [];
  const seen = new Map<string, number>();
  raws.forEach((raw, i) => {
    const n = i + 1;
    const kind = isObject(raw) && typeof raw.kind === 'string' && raw.kind !== '' ? raw.kind : undefined;
    const name = isObject(raw) && isObject(raw.metadata) && typeof raw.metadata.name === 'string' ? raw.metadata.name : undefined;
    const base = { file: fileName, document: n, kind, name };
    try {
      const res = validate(raw, `${fileName}: ${documentLabel(n, kind, name)}`);
      const key = `${res.kind}/${res.metadata.namespace ?? ''}/${res.metadata.name}`;
      const first = seen.get(key);
      if (first !== undefined) problems.push({ ...base, path: 'metadata.name', message: `duplicates document ${first} (same kind, namespace and name)` });
      else seen.set(key, n);
      out.push(res);
    } catch (e: unknown) {
      if (!(e instanceof ValidationError)) throw e;
      for (const issue of e.issues) problems.push({ ...base, path: issue.path, message: issue.message });
    }
  });
  if (problems.length > 0) throw new DocumentsError('Invalid', problems);
  return out;
}

/** Output format of formatDocuments. */
export type DocumentFormat = 'yaml' | 'json';

/** Options of formatDocuments. */
export interface FormatOptions {
  /** apiVersion to write (default tabby.dev/v1; `projectcalico.org/v3` for calicoctl). */
  apiVersion?: string;
}

/**
 * Formats resources: YAML as `---`-separated documents; JSON as the object itself for one
 * resource, else a Kubernetes `List`. `parseDocuments(formatDocuments(rs))` returns `rs`.
 */
export function formatDocuments(resources: readonly AnyResource[], format: DocumentFormat, opts: FormatOptions = {}): string {
  const apiVersion = opts.apiVersion ?? API_VERSION;
  const docs = resources.map((r) => ({ ...r, apiVersion }));
  switch (format) {
    case 'yaml':
      return docs.map((d) => `---\n${stringify(d, { lineWidth: 0, version: '1.2' })}`).join('');
    case 'json': {
      const value = docs.length === 1 ? docs[0] : { apiVersion: 'v1', kind: 'List', items: docs };
      return `${JSON.stringify(value, null, 2)}\n`;
    }
    default:
      throw new TabbyError<DocumentsErrorCode>('Invalid', `unknown output format ${describeValue(format)}; use yaml or json`);
  }
}
