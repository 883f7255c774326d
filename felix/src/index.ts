/** @tabby/felix: the dataplane agent. */
export * from './policy/index.js';
export * from './iptables/index.js';
export * from './ipsets/index.js';
