/** Validation with defaults for every kind. */
export * from './issues.js';
export * from './validate.js';
export {
  MAX_AS_NUMBER, PROTOCOL_NAMES, labelKeyProblem, labelValueProblem, dnsSubdomainProblem,
} from './fields.js';
export { BLOCK_SIZE_RANGE } from './kinds-ipam.js';
export { communityProblem, peerIPProblem } from './kinds-bgp.js';
