/**
 * Recursive-descent parser for Calico's selector language:
 *
 *   or   := and ('||' and)*
 *   and  := op ('&&' op)*
 *   op   := '!'* ( 'has(' label ')' | 'all()' | 'global()' | '(' or ')'
 *               | label ('==' | '!=' | 'contains' | 'starts with' | 'ends with') string
 *               | label ('in' | 'not in') '{' [string (',' string)* [',']] '}' )
 *
 * An empty (or all-whitespace) selector is `all()`, as in Calico. Errors are TabbyError
 * 'InvalidSelector' naming the exact 0-based column of the offending token.
 */
import type { SetOp, Selector, ValueOp } from './ast.js';
import { selectorError, tokenize, type Token, type TokenKind } from './tokenizer.js';

const VALUE_OPS: ReadonlySet<TokenKind> = new Set(['==', '!=', 'contains', 'starts with', 'ends with']);

function describe(t: Token): string {
  switch (t.kind) {
    case 'eof':
      return 'the end of the selector';
    case 'label':
      return `label "${t.value}"`;
    case 'string':
      return `string ${t.value.includes('"') ? `'${t.value}'` : `"${t.value}"`}`;
    case 'has':
      return `"has(${t.value})"`;
    case 'all':
    case 'global':
      return `"${t.kind}()"`;
    default:
      return `"${t.value}"`;
  }
}

class Parser {
  private i = 0;
  constructor(private readonly input: string, private readonly tokens: Token[]) {}

  private peek(): Token {
    return this.tokens[this.i] as Token;
  }
  private next(): Token {
    const t = this.peek();
    if (t.kind !== 'eof') this.i++;
    return t;
  }
  private fail(t: Token, why: string): never {
    throw selectorError(this.input, t.col, why);
  }

  parseRoot(): Selector {
    if (this.peek().kind === 'eof') return { type: 'all' };
    const sel = this.parseOr();
    const t = this.peek();
    if (t.kind !== 'eof') {
      const hint = t.kind === 'rparen' ? ' (no matching "(")' : ' (expected "&&", "||" or the end)';
      this.fail(t, `unexpected ${describe(t)} after a complete expression${hint}`);
    }
    return sel;
  }

  private parseOr(): Selector {
    const ops = [this.parseAnd()];
    while (this.peek().kind === '||') {
      this.next();
      ops.push(this.parseAnd());
    }
    return ops.length === 1 ? (ops[0] as Selector) : { type: 'or', operands: ops };
  }

  private parseAnd(): Selector {
    const ops = [this.parseOp()];
    while (this.peek().kind === '&&') {
      this.next();
      ops.push(this.parseOp());
    }
    return ops.length === 1 ? (ops[0] as Selector) : { type: 'and', operands: ops };
  }

  private parseOp(): Selector {
    let negate = false;
    while (this.peek().kind === '!') {
      this.next();
      negate = !negate;
    }
    const sel = this.parsePrimary();
    return negate ? { type: 'not', operand: sel } : sel;
  }

  private parsePrimary(): Selector {
    const t = this.next();
    switch (t.kind) {
      case 'has':
        return { type: 'has', key: t.value };
      case 'all':
        return { type: 'all' };
      case 'global':
        return { type: 'global' };
      case 'lparen': {
        const inner = this.parseOr();
        const close = this.peek();
        if (close.kind !== 'rparen') {
          this.fail(close, `expected ")" to close the "(" at column ${t.col}, found ${describe(close)}`);
        }
        this.next();
        return inner;
      }
      case 'label':
        return this.parseComparison(t);
      default:
        return this.fail(t, `expected a label, "has(...)", "all()", "global()", "!" or "(", found ${describe(t)}`);
    }
  }

  private parseComparison(label: Token): Selector {
    const op = this.next();
    if (VALUE_OPS.has(op.kind)) {
      const v = this.next();
      if (v.kind !== 'string') this.fail(v, `expected a quoted string after "${op.kind}", found ${describe(v)}`);
      return { type: 'value', op: op.kind as ValueOp, key: label.value, value: v.value };
    }
    if (op.kind === 'in' || op.kind === 'not in') {
      return { type: 'set', op: op.kind as SetOp, key: label.value, values: this.parseSet(op) };
    }
    return this.fail(op, `expected an operator (==, !=, in, not in, contains, starts with, ends with) after label "${label.value}", found ${describe(op)}`);
  }

  private parseSet(op: Token): string[] {
    const open = this.next();
    if (open.kind !== 'lbrace') this.fail(open, `expected "{" after "${op.kind}", found ${describe(open)}`);
    const values: string[] = [];
    for (;;) {
      const t = this.next();
      if (t.kind === 'rbrace') return values;
      if (t.kind !== 'string') this.fail(t, `expected a quoted string or "}" in the set, found ${describe(t)}`);
      values.push(t.value);
      const sep = this.next();
      if (sep.kind === 'rbrace') return values;
      if (sep.kind !== 'comma') this.fail(sep, `expected "," or "}" after a set member, found ${describe(sep)}`);
    }
  }
}

/**
 * Parses a selector. Throws TabbyError 'InvalidSelector' whose message names the 0-based column
 * and shows the input with a caret under it; `details.column` holds the column.
 */
export function parseSelector(text: string): Selector {
  return new Parser(text, tokenize(text)).parseRoot();
}

/** Parses a selector, or returns undefined when it is invalid. */
export function tryParseSelector(text: string): Selector | undefined {
  try {
    return parseSelector(text);
  } catch {
    return undefined;
  }
}

/** The reason a selector does not parse, or undefined when it is valid. */
export function selectorSyntaxError(text: string): string | undefined {
  try {
    parseSelector(text);
    return undefined;
  } catch (e: unknown) {
    if (e instanceof Error) return e.message.split('\n')[0];
    throw e;
  }
}
