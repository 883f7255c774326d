/** @module placeholder index; filled by its issue. */
export {};
export * from './codec/index.js';
export * from './rib/index.js';
