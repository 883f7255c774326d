/**
 * The selector AST (Calico's selector language) and its canonical text.
 *
 * Invariants of the canonical form: equal ASTs print the same; `parseSelector(canonical(x))`
 * yields an AST that prints identically (print∘parse is stable). Canonicalisation only applies
 * rewrites that keep the meaning: nested `&&`/`||` are flattened, their operands sorted and
 * de-duplicated, repeated `!` collapsed, set members sorted and de-duplicated, and strings quoted
 * with `"` unless they contain `"` (the language has no escapes, so a value never holds both).
 */
import { createHash } from 'node:crypto';

/** Operators comparing a label's value with one string. */
export type ValueOp = '==' | '!=' | 'contains' | 'starts with' | 'ends with';
/** Operators comparing a label's value with a set. */
export type SetOp = 'in' | 'not in';

/** A parsed selector. `type` discriminates; switch over it exhaustively. */
export type Selector =
  | { type: 'all' }
  | { type: 'global' }
  | { type: 'has'; key: string }
  | { type: 'value'; op: ValueOp; key: string; value: string }
  | { type: 'set'; op: SetOp; key: string; values: string[] }
  | { type: 'not'; operand: Selector }
  | { type: 'and'; operands: Selector[] }
  | { type: 'or'; operands: Selector[] };

/** Quotes a string literal: `"` unless the value contains `"`, then `'`. */
export function quoteSelectorString(s: string): string {
  return s.includes('"') ? `'${s}'` : `"${s}"`;
}

function normalise(sel: Selector): Selector {
  switch (sel.type) {
    case 'all':
    case 'global':
    case 'has':
    case 'value':
      return sel;
    case 'set':
      return { ...sel, values: [...new Set(sel.values)].sort(compareStrings) };
    case 'not': {
      const inner = normalise(sel.operand);
      return inner.type === 'not' ? inner.operand : { type: 'not', operand: inner };
    }
    case 'and':
    case 'or': {
      const flat: Selector[] = [];
      for (const op of sel.operands.map(normalise)) {
        if (op.type === sel.type) flat.push(...op.operands);
        else flat.push(op);
      }
      const byText = new Map<string, Selector>();
      for (const op of flat) byText.set(printNormalised(op, true), op);
      const sorted = [...byText.keys()].sort(compareStrings).map((k) => byText.get(k) as Selector);
      if (sorted.length === 1) return sorted[0] as Selector;
      return { type: sel.type, operands: sorted };
    }
  }
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function printNormalised(sel: Selector, nested: boolean): string {
  switch (sel.type) {
    case 'all':
      return 'all()';
    case 'global':
      return 'global()';
    case 'has':
      return `has(${sel.key})`;
    case 'value':
      return `${sel.key} ${sel.op} ${quoteSelectorString(sel.value)}`;
    case 'set':
      return `${sel.key} ${sel.op} {${sel.values.map(quoteSelectorString).join(', ')}}`;
    case 'not':
      return `!${printNormalised(sel.operand, true)}`;
    case 'and':
    case 'or': {
      const text = sel.operands.map((o) => printNormalised(o, true)).join(sel.type === 'and' ? ' && ' : ' || ');
      return nested ? `(${text})` : text;
    }
  }
}

/** The selector with meaning-preserving normalisation applied (see the module header). */
export function normaliseSelector(sel: Selector): Selector {
  return normalise(sel);
}

/** The canonical text of a selector; equal selectors print the same. */
export function canonicalSelector(sel: Selector): string {
  return printNormalised(normalise(sel), false);
}

/**
 * A short stable ID of the selector's canonical form: `s:` and 23 base64url characters of its
 * SHA-224, as Calico names selector ipsets (`cali40` + ID fits ipset's 31-character limit).
 */
export function selectorUid(sel: Selector): string {
  const digest = createHash('sha224').update(canonicalSelector(sel)).digest('base64url');
  return `s:${digest.slice(0, 23)}`;
}
