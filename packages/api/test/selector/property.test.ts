/**
 * Property tests: random selector trees (a test-local representation) are printed with random
 * quoting, spacing and redundant parentheses, parsed, and evaluated; the result must agree with
 * a small reference interpreter over the tree. Canonical printing must be stable and
 * meaning-preserving.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { canonicalSelector, parseSelector, selectorMatches } from '../../src/index.js';

type Tree =
  | { t: 'all' }
  | { t: 'has'; k: string }
  | { t: 'cmp'; op: '==' | '!=' | 'contains' | 'starts with' | 'ends with'; k: string; v: string }
  | { t: 'set'; op: 'in' | 'not in'; k: string; vs: string[] }
  | { t: 'not'; x: Tree }
  | { t: 'and' | 'or'; xs: Tree[] };

const KEYS = ['a', 'b', 'app.kubernetes.io/name', 'x-y_z', 'in', 'has', 'not'];
const VALUES = ['', 'web', 'we', 'b', 'x"y', "it's", 'a b'];
const key = fc.constantFrom(...KEYS);
const value = fc.constantFrom(...VALUES);

const tree: fc.Arbitrary<Tree> = fc.letrec<{ tree: Tree }>((tie) => ({
  tree: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constant<Tree>({ t: 'all' }),
    key.map<Tree>((k) => ({ t: 'has', k })),
    fc.record({ t: fc.constant('cmp' as const), op: fc.constantFrom('==', '!=', 'contains', 'starts with', 'ends with'), k: key, v: value }),
    fc.record({ t: fc.constant('set' as const), op: fc.constantFrom('in', 'not in'), k: key, vs: fc.array(value, { maxLength: 4 }) }),
    tie('tree').map<Tree>((x) => ({ t: 'not', x })),
    fc.record({ t: fc.constantFrom('and' as const, 'or' as const), xs: fc.array(tie('tree'), { minLength: 2, maxLength: 3 }) }),
  ),
})).tree;

const labelsArb = fc.dictionary(key, value, { maxKeys: 4 });

/** Reference interpreter, written from Calico's documented semantics. */
function ref(x: Tree, labels: Record<string, string>): boolean {
  const has = Object.prototype.hasOwnProperty.call(labels, 'k' in x ? x.k : '');
  switch (x.t) {
    case 'all':
      return true;
    case 'has':
      return has;
    case 'cmp': {
      if (!has) return x.op === '!=';
      const v = labels[x.k] as string;
      if (x.op === '==') return v === x.v;
      if (x.op === '!=') return v !== x.v;
      if (x.op === 'contains') return v.indexOf(x.v) >= 0;
      if (x.op === 'starts with') return v.slice(0, x.v.length) === x.v;
      return x.v.length === 0 || v.slice(-x.v.length) === x.v;
    }
    case 'set':
      if (!has) return x.op === 'not in';
      return x.vs.some((s) => s === labels[x.k]) === (x.op === 'in');
    case 'not':
      return !ref(x.x, labels);
    case 'and':
      return x.xs.every((y) => ref(y, labels));
    case 'or':
      return x.xs.some((y) => ref(y, labels));
  }
}

/** Prints a tree with varied but valid syntax, driven by a stream of random choices. */
function print(x: Tree, rnd: () => number): string {
  const sp = (): string => [' ', '', '  ', '\t'][Math.floor(rnd() * 4)] as string;
  const ws = (): string => [' ', '  ', '\t'][Math.floor(rnd() * 3)] as string;
  const q = (v: string): string => {
    if (v.includes('"')) return `'${v}'`;
    if (v.includes("'")) return `"${v}"`;
    return rnd() < 0.5 ? `"${v}"` : `'${v}'`;
  };
  const op = (o: string): string => {
    if (o === '==' || o === '!=') return `${sp()}${o}${sp()}`;
    return `${ws()}${o.replace(' ', ws())}${ws()}`;
  };
  switch (x.t) {
    case 'all':
      return 'all()';
    case 'has':
      return `has(${sp()}${x.k}${sp()})`;
    case 'cmp':
      return `${x.k}${op(x.op)}${q(x.v)}`;
    case 'set':
      return `${x.k}${op(x.op)}{${x.vs.map((v) => `${sp()}${q(v)}${sp()}`).join(',')}}`;
    case 'not':
      return rnd() < 0.5 ? `!(${print(x.x, rnd)})` : `!${sp()}(${sp()}${print(x.x, rnd)}${sp()})`;
    case 'and':
    case 'or':
      return `(${x.xs.map((y) => print(y, rnd)).join(`${sp()}${x.t === 'and' ? '&&' : '||'}${sp()}`)})`;
  }
}

const seeded = fc.array(fc.double({ min: 0, max: 0.999, noNaN: true }), { minLength: 1, maxLength: 64 }).map((xs) => {
  let i = 0;
  return () => xs[i++ % xs.length] as number;
});

describe('selector properties', () => {
  it('parsing a printed tree evaluates like the reference interpreter', () => {
    fc.assert(
      fc.property(tree, seeded, fc.array(labelsArb, { minLength: 1, maxLength: 5 }), (x, rnd, labelSets) => {
        const sel = parseSelector(print(x, rnd));
        for (const labels of labelSets) expect(selectorMatches(sel, labels)).toBe(ref(x, labels));
      }),
      { numRuns: 500 },
    );
  });

  it('print∘parse is stable and keeps the meaning', () => {
    fc.assert(
      fc.property(tree, seeded, fc.array(labelsArb, { minLength: 1, maxLength: 5 }), (x, rnd, labelSets) => {
        const sel = parseSelector(print(x, rnd));
        const text = canonicalSelector(sel);
        const again = parseSelector(text);
        expect(canonicalSelector(again)).toBe(text);
        for (const labels of labelSets) expect(selectorMatches(again, labels)).toBe(selectorMatches(sel, labels));
      }),
      { numRuns: 500 },
    );
  });

  it('different spellings of one tree print the same', () => {
    fc.assert(
      fc.property(tree, seeded, seeded, (x, r1, r2) => {
        expect(canonicalSelector(parseSelector(print(x, r1)))).toBe(canonicalSelector(parseSelector(print(x, r2))));
      }),
      { numRuns: 300 },
    );
  });

  it('never throws anything but InvalidSelector on arbitrary input', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), (s) => {
        try {
          parseSelector(s);
        } catch (e: unknown) {
          expect((e as { code?: string }).code).toBe('InvalidSelector');
        }
      }),
      { numRuns: 1000 },
    );
  });
});
