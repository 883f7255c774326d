/**
 * @module bfd — RFC 5880 BFD Control packets and the asynchronous-mode session reducer (pure).
 * The UDP shell (RFC 5881 single hop) and the speaker's `bfd:` per peer are not written yet.
 */
export * from './packet.js';
export * from './session.js';
export { BfdService, BFD_PORT } from './shell.js';
