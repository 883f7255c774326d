/** The selector language: parse, evaluate, print canonically. */
export * from './ast.js';
export * from './evaluate.js';
export * from './parser.js';
export { tokenize, MAX_SELECTOR_LABEL_LENGTH, type Token, type TokenKind, type SelectorErrorCode } from './tokenizer.js';
