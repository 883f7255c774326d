/**
 * Reads the documents named by `-f`: files, directories (their *.yaml, *.yml, *.json; with -R
 * every level below), and `-` for stdin. Every file is parsed and validated before anything is
 * written; one error lists every problem with its file, document index and field. Kubernetes
 * NetworkPolicy documents are accepted besides Tabby/Calico ones (k8s-policies.ts).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DocumentsError, formatProblem, parseDocumentsAs } from '@tabby/api';
import { ctlError } from './errors.js';
import { validateInput, type Input } from './k8s-policies.js';

function expand(path: string, recursive: boolean, top: boolean): string[] {
  let st;
  try {
    st = statSync(path);
  } catch {
    throw ctlError('usage', `-f ${path}: no such file or directory`);
  }
  if (!st.isDirectory()) return [path];
  if (!top && !recursive) return [];
  return readdirSync(path).sort().flatMap((name) => {
    const p = join(path, name);
    if (statSync(p).isDirectory()) return recursive ? expand(p, recursive, false) : [];
    return /\.(ya?ml|json)$/.test(name) ? [p] : [];
  });
}

/** Every document of every input, or an invalid-input error listing every problem. */
export function readInputs(files: string[], recursive: boolean, stdin: () => string): Input[] {
  if (files.length === 0) throw ctlError('usage', 'no input: pass -f FILE, -f DIR (-R) or -f - for stdin');
  const out: Input[] = [];
  const problems: string[] = [];
  for (const f of files) {
    const paths = f === '-' ? ['-'] : expand(f, recursive, true);
    for (const p of paths) {
      const text = p === '-' ? stdin() : readFileSync(p, 'utf8');
      try {
        out.push(...parseDocumentsAs(text, p === '-' ? '<stdin>' : p, validateInput));
      } catch (e: unknown) {
        if (e instanceof DocumentsError) problems.push(...e.problems.map(formatProblem));
        else throw e;
      }
    }
  }
  if (problems.length > 0) throw ctlError('invalid-input', `invalid input, nothing was written:\n${problems.map((p) => `  ${p}`).join('\n')}`);
  return out;
}
