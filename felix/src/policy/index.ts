/** The policy half of felix: pure model, calculation, rendering and evaluation. */
export * from './types.js';
export * from './k8s.js';
export * from './protocol.js';
export * from './normalise.js';
export * from './labels.js';
export * from './names.js';
export * from './chain.js';
export * from './render-rule.js';
export * from './render-chains.js';
export * from './sets.js';
export * from './calculator.js';
export * from './evaluate.js';
export * from './metrics.js';
export * from './dataplane.js';
export * from './feed.js';
