/** BGP session (placeholder header, see below). */
export * from './types.js';
export * from './fsm.js';
export * from './peer.js';
export { AS_TRANS, BGP_VERSION, buildOpen, negotiate, negotiateHoldTime, familyOf, afiSafiOf, idToNumber, localCapabilities } from './open.js';
export type { NegotiateResult } from './open.js';
export { backoffDelay, nextRandom } from './backoff.js';
export { cease } from './transitions.js';
