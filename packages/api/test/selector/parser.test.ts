import { describe, expect, it } from 'vitest';
import { canonicalSelector, isTabbyError, parseSelector, selectorMatches, selectorUid, tokenize } from '../../src/index.js';

const canon = (s: string): string => canonicalSelector(parseSelector(s));

function errorOf(text: string): { message: string; column: unknown } {
  try {
    parseSelector(text);
  } catch (e: unknown) {
    if (!isTabbyError(e, 'InvalidSelector')) throw e;
    return { message: e.message, column: e.details.column };
  }
  throw new Error(`expected ${JSON.stringify(text)} to be invalid`);
}

describe('parseSelector', () => {
  it.each([
    ['', 'all()'],
    ['   ', 'all()'],
    ['all()', 'all()'],
    ['all( )', 'all()'],
    ['global()', 'global()'],
    ['has(a)', 'has(a)'],
    ['has( a )', 'has(a)'],
    ['!has(a)', '!has(a)'],
    ['!!has(a)', 'has(a)'],
    ["a=='b'", 'a == "b"'],
    ['a == \'x"y\'', 'a == \'x"y\''],
    ['a != "b"', 'a != "b"'],
    ['a contains "b"', 'a contains "b"'],
    ['a starts with "b"', 'a starts with "b"'],
    ['a startswith "b"', 'a starts with "b"'],
    ['a ends  with "b"', 'a ends with "b"'],
    ['a in {"y", "x", "y"}', 'a in {"x", "y"}'],
    ['a in {}', 'a in {}'],
    ['a in {"x",}', 'a in {"x"}'],
    ['a not in {"x"}', 'a not in {"x"}'],
    ['a notin{"x"}', 'a not in {"x"}'],
    ['projectcalico.org/name == "ns-1"', 'projectcalico.org/name == "ns-1"'],
    ['b == "1" && a == "2"', 'a == "2" && b == "1"'],
    ['(a == "1" && b == "2") && c == "3"', 'a == "1" && b == "2" && c == "3"'],
    ['a == "1" || b == "2" && c == "3"', '(b == "2" && c == "3") || a == "1"'],
    ['(a == "1" || b == "2") && c == "3"', '(a == "1" || b == "2") && c == "3"'],
    ['!(a == "1" || a == "1")', '!a == "1"'],
    ['has(a) && has(a)', 'has(a)'],
    ['a == "x"\n  && b == "y"', 'a == "x" && b == "y"'],
  ])('%j prints as %j', (input, out) => {
    expect(canon(input)).toBe(out);
    expect(canon(out)).toBe(out);
  });

  it('precedence: && binds tighter than ||, ! tighter than &&', () => {
    const sel = parseSelector('!a == "1" && b == "2" || c == "3"');
    expect(sel).toEqual({
      type: 'or',
      operands: [
        { type: 'and', operands: [{ type: 'not', operand: { type: 'value', op: '==', key: 'a', value: '1' } }, { type: 'value', op: '==', key: 'b', value: '2' }] },
        { type: 'value', op: '==', key: 'c', value: '3' },
      ],
    });
  });

  it('tokens carry columns', () => {
    expect(tokenize('a == "b"').map((t) => [t.kind, t.col])).toEqual([['label', 0], ['==', 2], ['string', 5], ['eof', 8]]);
  });
});

describe('selector errors', () => {
  it.each([
    ['role == prod', 8, 'expected a quoted string after "==", found label "prod"'],
    ['a = "b"', 2, 'expected "=="'],
    ['a == "b', 5, 'unterminated string: no closing "'],
    ["a == 'b", 5, "unterminated string: no closing '"],
    ['a == "b" & c', 9, 'expected "&&"'],
    ['a == "b" | c', 9, 'expected "||"'],
    ['a', 1, 'expected an operator (==, !=, in, not in, contains, starts with, ends with) after label "a", found the end of the selector'],
    ['a foo "b"', 2, 'expected an operator (==, !=, in, not in, contains, starts with, ends with) after label "a"'],
    ['a starts "b"', 2, 'expected an operator'],
    ['a in "b"', 5, 'expected "{" after "in", found string "b"'],
    ['a in {"x" "y"}', 10, 'expected "," or "}" after a set member, found string "y"'],
    ['a in {x}', 6, 'expected a quoted string or "}" in the set, found label "x"'],
    ['a in {"x"', 9, 'expected "," or "}" after a set member, found the end of the selector'],
    ['(a == "b"', 9, 'expected ")" to close the "(" at column 0, found the end of the selector'],
    ['a == "b")', 8, 'unexpected ")" after a complete expression (no matching "(")'],
    ['a == "b" c == "d"', 9, 'unexpected label "c" after a complete expression (expected "&&", "||" or the end)'],
    ['a == "b" &&', 11, 'expected a label, "has(...)", "all()", "global()", "!" or "(", found the end of the selector'],
    ['&& a == "b"', 0, 'expected a label, "has(...)", "all()", "global()", "!" or "(", found "&&"'],
    ['has()', 4, 'expected a label name inside "has(...)"'],
    ['has(a', 5, 'expected ")" to close "has(a"'],
    ['all(x)', 4, 'expected ")" after "all("'],
    ['global(', 7, 'expected ")" after "global("'],
    ['a == "b" && #', 12, 'unexpected character "#"'],
    ['()', 1, 'expected a label, "has(...)", "all()", "global()", "!" or "(", found ")"'],
  ])('%j fails at column %i', (text, col, why) => {
    const e = errorOf(text);
    expect(e.column).toBe(col);
    expect(e.message.split('\n')[0]).toContain(`invalid selector at column ${col}: ${why}`);
  });

  it('shows a caret under the column', () => {
    expect(errorOf('role == prod').message).toBe(
      'invalid selector at column 8: expected a quoted string after "==", found label "prod"\n' +
        '  role == prod\n' +
        '          ^',
    );
  });

  it('rejects label names over 512 characters', () => {
    expect(errorOf(`has(${'a'.repeat(513)})`).message).toContain('label name is 513 characters long; at most 512 are allowed');
  });
});

describe('selectorMatches', () => {
  const labels = { app: 'web', tier: 'frontend-blue', 'projectcalico.org/name': 'prod' };
  it.each([
    ['', true],
    ['all()', true],
    ['app == "web"', true],
    ['app == "db"', false],
    ['missing == "x"', false],
    ['missing != "x"', true],
    ['app != "web"', false],
    ['app in {"db", "web"}', true],
    ['missing in {"x"}', false],
    ['missing not in {"x"}', true],
    ['app not in {"web"}', false],
    ['tier contains "end-b"', true],
    ['tier starts with "front"', true],
    ['tier ends with "blue"', true],
    ['tier ends with "front"', false],
    ['missing contains ""', false],
    ['has(app)', true],
    ['!has(app)', false],
    ['has(app) && !has(db)', true],
    ['app == "db" || tier starts with "frontend"', true],
    ['!(app == "db" || tier starts with "frontend")', false],
    ['global()', true],
  ])('%j → %s', (sel, want) => {
    expect(selectorMatches(parseSelector(sel), labels)).toBe(want);
  });
  it('global() is false for namespaced entities', () => {
    expect(selectorMatches(parseSelector('global()'), {}, { namespaced: true })).toBe(false);
    expect(selectorMatches(parseSelector('global()'), {}, { namespaced: false })).toBe(true);
  });
  it('does not see inherited properties as labels', () => {
    expect(selectorMatches(parseSelector('has(toString)'), {})).toBe(false);
  });
});

describe('selectorUid', () => {
  it('is stable, short, and equal for equal selectors', () => {
    const a = selectorUid(parseSelector('b == "1" && a in {"y","x"}'));
    const b = selectorUid(parseSelector("a in {'x', 'y'} && b=='1'"));
    expect(a).toBe(b);
    expect(a).toMatch(/^s:[A-Za-z0-9_-]{23}$/);
    expect(`cali40${a}`.length).toBeLessThanOrEqual(31);
    expect(selectorUid(parseSelector('a == "1"'))).not.toBe(a);
  });
});

describe('label name characters', () => {
  it('accepts exactly [a-zA-Z0-9_./-] in label names', () => {
    for (let c = 33; c < 127; c++) {
      const ch = String.fromCharCode(c);
      const ok = /[a-zA-Z0-9_./-]/.test(ch);
      const parses = (() => {
        try {
          return canonicalSelector(parseSelector(`has(a${ch}b)`)) === `has(a${ch}b)`;
        } catch {
          return false;
        }
      })();
      expect([ch, parses]).toEqual([ch, ok]);
    }
  });
});
