/** @tabby/bench: benchmark helpers. */
export * from './emit.js';
