/**
 * Building chains with their `cali:` hashes, and printing rules as iptables-restore lines.
 * A rule prints as `-A <chain> -m comment --comment "cali:<hash>" [-m comment --comment "<text>"]
 * <match> <target>`, Calico's layout, so `iptables-save` shows the hash right after the chain.
 */
import { ruleHash } from './names.js';
import type { Chain, IptRule } from './types.js';

/** A rule before hashing. */
export interface RuleSpec {
  match?: string;
  /** `-j X` or `-g X`. */
  target: string;
  comment?: string;
}

/** Hashes each rule over the previous one's hash (see names.ts). */
export function buildChain(name: string, specs: RuleSpec[]): Chain {
  const rules: IptRule[] = [];
  let prev = '';
  for (const s of specs) {
    const match = s.match ?? '';
    const hash = ruleHash(name, prev, `${match}\u0000${s.target}\u0000${s.comment ?? ''}`);
    const r: IptRule = { match, target: s.target, hash };
    if (s.comment !== undefined) r.comment = s.comment;
    rules.push(r);
    prev = hash;
  }
  return { name, rules };
}

/** A hook rule's hash: it lives among other writers' rules, so it is hashed alone. */
export function hookRule(kernelChain: string, spec: RuleSpec): IptRule {
  return buildChain(kernelChain, [spec]).rules[0] as IptRule;
}

/** The rule's body after `-A <chain>` (or `-I <chain> 1`, `-D <chain>`). */
export function ruleBody(r: IptRule): string {
  let s = `-m comment --comment "cali:${r.hash}"`;
  if (r.comment !== undefined) s += ` -m comment --comment "${r.comment}"`;
  if (r.match) s += ` ${r.match}`;
  return `${s} ${r.target}`;
}

/** Two chains have the same rules (by hash; hashes chain over the whole content). */
export function sameChain(a: Chain | undefined, b: Chain | undefined): boolean {
  if (a === b) return true;
  if (!a || !b || a.rules.length !== b.rules.length) return false;
  return a.rules.every((r, i) => r.hash === b.rules[i]?.hash);
}
