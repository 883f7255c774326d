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

/** True when `sel` selects an entity with these labels. */
export function selectorMatches(sel: Selector, labels: Readonly<Record<string, string>>, ctx: SelectorContext = {}): boolean {
  const get = (k: string): string | undefined => (Object.hasOwn(labels, k) ? labels[k] : undefined);
  const ev = (s: Selector): boolean => {
    switch (s.type) {
      case 'all':
        return true;
      case 'global':
        return ctx.namespaced !== true;
      case 'has':
        return get(s.key) !== undefined;
      case 'value': {
        const v = get(s.key);
        switch (s.op) {
          case '==':
            return v !== undefined && v === s.value;
          case '!=':
            return v === undefined || v !== s.value;
          case 'contains':
            return v !== undefined && v.includes(s.value);
          case 'starts with':
            return v !== undefined && v.startsWith(s.value);
          case 'ends with':
            return v !== undefined && v.endsWith(s.value);
        }
        break;
      }
      case 'set': {
        const v = get(s.key);
        if (s.op === 'in') return v !== undefined && s.values.includes(v);
        return v === undefined || !s.values.includes(v);
      }
      case 'not':
        return !ev(s.operand);
      case 'and':
        return s.operands.every(ev);
      case 'or':
        return s.operands.some(ev);
    }
    return false;
  };
  return ev(sel);
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
