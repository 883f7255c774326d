/** @module placeholder index; filled by its issue. */
export {};
export * from './codec/index.js';
export * from './rib/index.js';
export * from './session/index.js';
export * from './speaker/index.js';
export { PeerSession } from './session/index.js'; // the rib also names a type PeerSession; the session class wins at the package root
export * from './daemon/index.js';
