/** @tabby/node: tabby-node, the per-node agent (datastore → IPAM → BGP → felix). */
export * from './agent.js';
export * from './autodetect.js';
export * from './bgp-config.js';
export * from './fallback.js';
export * from './health.js';
export * from './host-runner.js';
export * from './local-api.js';
export * from './metrics.js';
export * from './resource-cache.js';
export * from './service-routes.js';
export * from './startup.js';
