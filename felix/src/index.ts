/** @tabby/felix: the dataplane agent. */
export * from './policy/index.js';
