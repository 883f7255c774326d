/**
 * Evaluates a selector against a label map, with Calico's semantics: `==`, `contains`,
 * `starts with`, `ends with` and `in` need the label present; `!=` and `not in` match when it is
 * absent; `has(k)` tests presence; `all()` matches everything. `global()` matches non-namespaced
 * (global) entities: in Calico it is meaningful in a namespaceSelector, and evaluates to true
 * over plain labels; pass `{ namespaced: true }` to make it false for a namespaced entity.
 */
import type { Selector } from './ast.js';

/** Context of an evaluation. */
export interface SelectorContext {
  /** The entity lives in a namespace (then `global()` is false). Default false. */
  namespaced?: boolean;
}

type Labels = Readonly<Record<string, string>>;

function get(labels: Labels, k: string): string | undefined {
  return Object.hasOwn(labels, k) ? labels[k] : undefined;
}

function evalValue(s: Extract<Selector, { type: 'value' }>, labels: Labels): boolean {
  const v = get(labels, s.key);
  switch (s.op) {
    case '==':
      return v === s.value;
    case '!=':
      return v !== s.value;
    case 'contains':
      return v !== undefined && v.includes(s.value);
    case 'starts with':
      return v !== undefined && v.startsWith(s.value);
    case 'ends with':
      return v !== undefined && v.endsWith(s.value);
  }
}

function ev(s: Selector, labels: Labels, namespaced: boolean): boolean {
  switch (s.type) {
    case 'all':
      return true;
    case 'global':
      return !namespaced;
    case 'has':
      return Object.hasOwn(labels, s.key);
    case 'value':
      return evalValue(s, labels);
    case 'set': {
      const v = get(labels, s.key);
      if (s.op === 'in') return v !== undefined && s.values.includes(v);
      return v === undefined || !s.values.includes(v);
    }
    case 'not':
      return !ev(s.operand, labels, namespaced);
    case 'and':
      for (const o of s.operands) if (!ev(o, labels, namespaced)) return false;
      return true;
    case 'or':
      for (const o of s.operands) if (ev(o, labels, namespaced)) return true;
      return false;
  }
}

/** True when `sel` selects an entity with these labels. */
export function selectorMatches(sel: Selector, labels: Labels, ctx: SelectorContext = {}): boolean {
  return ev(sel, labels, ctx.namespaced === true);
}

/** True when the selector is exactly `global()` (a namespaceSelector for global entities only). */
export function isGlobalSelector(sel: Selector): boolean {
  return sel.type === 'global';
}

/** The label keys a selector mentions, sorted (useful for indexing). */
export function selectorLabelKeys(sel: Selector): string[] {
  const keys = new Set<string>();
  const walk = (s: Selector): void => {
    switch (s.type) {
      case 'all':
      case 'global':
        return;
      case 'has':
      case 'value':
      case 'set':
        keys.add(s.key);
        return;
      case 'not':
        walk(s.operand);
        return;
      case 'and':
      case 'or':
        s.operands.forEach(walk);
    }
  };
  walk(sel);
  return [...keys].sort();
}
