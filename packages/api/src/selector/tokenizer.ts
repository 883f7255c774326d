/**
 * Tokenizer for Calico's selector language. Every token carries its 0-based column in the input
 * so the parser can point at the exact character when it reports an error.
 *
 * As in Calico: label names are `[a-zA-Z0-9_./-]{1,512}`; strings are quoted with `"` or `'`
 * and have no escapes; `has(`, `all(` and `global(` must be written without a space before `(`;
 * after a label the words `contains`, `starts with`, `ends with`, `in` and `not in` are operators.
 * Whitespace is space, tab, CR and LF (Calico accepts only space and tab; YAML block scalars
 * may carry newlines).
 */
import { TabbyError } from '../errors.js';

/** Kinds of selector tokens. */
export type TokenKind =
  | 'label' | 'string' | 'lbrace' | 'rbrace' | 'comma' | 'lparen' | 'rparen'
  | '==' | '!=' | '!' | '&&' | '||' | 'in' | 'not in' | 'contains' | 'starts with' | 'ends with'
  | 'has' | 'all' | 'global' | 'eof';

/** A token with its start column and its text as written. */
export interface Token {
  kind: TokenKind;
  /** Label name, string contents, or has() label. */
  value: string;
  col: number;
  /** Length in the input (for error carets). */
  len: number;
}

/** Error code for selector syntax errors. */
export type SelectorErrorCode = 'InvalidSelector';

/** Maximum label-name length Calico accepts. */
export const MAX_SELECTOR_LABEL_LENGTH = 512;

/** `[a-zA-Z0-9_./-]` by char code: a-z, A-Z, `_`, and 45-57 which is `-`, `.`, `/` and 0-9. */
function isIdentChar(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 45 && c <= 57) || c === 95;
}

/** Space, tab, CR, LF. */
function isSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 13 || c === 10;
}

/** Builds the InvalidSelector error: message with column, the input, and a caret under it. */
export function selectorError(input: string, col: number, why: string): TabbyError<SelectorErrorCode> {
  const oneLine = input.replace(/[\r\n]/g, ' ');
  const message = `invalid selector at column ${col}: ${why}\n  ${oneLine}\n  ${' '.repeat(col)}^`;
  return new TabbyError<SelectorErrorCode>('InvalidSelector', message, { selector: input, column: col, reason: why });
}

class Scanner {
  pos = 0;
  constructor(readonly input: string) {}
  skipSpace(): void {
    while (this.pos < this.input.length && isSpace(this.input.charCodeAt(this.pos))) this.pos++;
  }
  startsWith(s: string): boolean {
    return this.input.startsWith(s, this.pos);
  }
  ident(): string {
    let end = this.pos;
    while (end < this.input.length && isIdentChar(this.input.charCodeAt(end))) end++;
    return this.input.slice(this.pos, end);
  }
}

const PUNCT: Record<string, TokenKind> = { '(': 'lparen', ')': 'rparen', '{': 'lbrace', '}': 'rbrace', ',': 'comma' };
const DOUBLE: Record<string, TokenKind> = { '==': '==', '!=': '!=', '&&': '&&', '||': '||' };

/** Splits a selector into tokens, ending with an `eof` token. Throws 'InvalidSelector'. */
export function tokenize(input: string): Token[] {
  const s = new Scanner(input);
  const out: Token[] = [];
  for (;;) {
    s.skipSpace();
    const col = s.pos;
    if (col >= input.length) {
      out.push({ kind: 'eof', value: '', col, len: 0 });
      return out;
    }
    const c = input[col] as string;
    const two = input.slice(col, col + 2);
    if (PUNCT[c]) {
      out.push({ kind: PUNCT[c] as TokenKind, value: c, col, len: 1 });
      s.pos++;
    } else if (DOUBLE[two]) {
      out.push({ kind: DOUBLE[two] as TokenKind, value: two, col, len: 2 });
      s.pos += 2;
    } else if (c === '!') {
      out.push({ kind: '!', value: c, col, len: 1 });
      s.pos++;
    } else if (c === '"' || c === "'") {
      const end = input.indexOf(c, col + 1);
      if (end < 0) throw selectorError(input, col, `unterminated string: no closing ${c}`);
      out.push({ kind: 'string', value: input.slice(col + 1, end), col, len: end + 1 - col });
      s.pos = end + 1;
    } else if (c === '=' || c === '&' || c === '|') {
      throw selectorError(input, col, `expected "${c}${c}"`);
    } else if (out.at(-1)?.kind === 'label') {
      out.push(operatorAfterLabel(s, out.at(-1) as Token));
    } else {
      out.push(wordToken(s));
    }
  }
}

/**
 * After a label only an operator may follow. Matched by prefix, as Calico's tokenizer does, so
 * `startswith` and `not  in` are accepted too.
 */
function operatorAfterLabel(s: Scanner, label: Token): Token {
  const col = s.pos;
  const done = (kind: TokenKind): Token => ({ kind, value: kind, col, len: s.pos - col });
  const twoWord = (first: string, second: string, kind: TokenKind): Token => {
    s.pos += first.length;
    s.skipSpace();
    if (!s.startsWith(second)) throw expectedOp(s, col, label);
    s.pos += second.length;
    return done(kind);
  };
  if (s.startsWith('contains')) {
    s.pos += 'contains'.length;
    return done('contains');
  }
  if (s.startsWith('starts')) return twoWord('starts', 'with', 'starts with');
  if (s.startsWith('ends')) return twoWord('ends', 'with', 'ends with');
  if (s.startsWith('not')) return twoWord('not', 'in', 'not in');
  if (s.startsWith('in')) {
    s.pos += 2;
    return done('in');
  }
  throw expectedOp(s, col, label);
}

function expectedOp(s: Scanner, col: number, label: Token): TabbyError<SelectorErrorCode> {
  return selectorError(
    s.input,
    col,
    `expected an operator (==, !=, in, not in, contains, starts with, ends with) after label "${label.value}"`,
  );
}

/** has(label), all(), global(), or a label. */
function wordToken(s: Scanner): Token {
  const col = s.pos;
  for (const fn of ['all', 'global'] as const) {
    if (s.startsWith(`${fn}(`)) {
      s.pos += fn.length + 1;
      s.skipSpace();
      if (!s.startsWith(')')) throw selectorError(s.input, s.pos, `expected ")" after "${fn}("`);
      s.pos++;
      return { kind: fn, value: fn, col, len: s.pos - col };
    }
  }
  if (s.startsWith('has(')) {
    s.pos += 4;
    s.skipSpace();
    const key = s.ident();
    if (key === '') throw selectorError(s.input, s.pos, 'expected a label name inside "has(...)"');
    checkLabelLength(s.input, s.pos, key);
    s.pos += key.length;
    s.skipSpace();
    if (!s.startsWith(')')) throw selectorError(s.input, s.pos, `expected ")" to close "has(${key}"`);
    s.pos++;
    return { kind: 'has', value: key, col, len: s.pos - col };
  }
  const ident = s.ident();
  if (ident === '') {
    throw selectorError(s.input, col, `unexpected character "${s.input[col]}"`);
  }
  checkLabelLength(s.input, col, ident);
  s.pos += ident.length;
  return { kind: 'label', value: ident, col, len: ident.length };
}

function checkLabelLength(input: string, col: number, key: string): void {
  if (key.length > MAX_SELECTOR_LABEL_LENGTH) {
    throw selectorError(input, col, `label name is ${key.length} characters long; at most ${MAX_SELECTOR_LABEL_LENGTH} are allowed`);
  }
}
