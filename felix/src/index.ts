/**
 * @tabby/felix: the dataplane agent. Routing half: a pure calculation graph (graph/) from
 * datastore resources and BGP events to desired kernel state, drivers that converge the kernel
 * to it (drivers/), and `Felix`, which wires them and keeps them converged. Policy half (policy/,
 * iptables/, ipsets/): Calico's policy model rendered to iptables chains and ipsets, and the
 * `PolicyDataplane` that programs them.
 */
export * from './graph/events.js';
export * from './graph/desired.js';
export * from './graph/routing-graph.js';
export * from './graph/from-resources.js';
export * from './kernel/kernel.js';
export * from './kernel/netlink-kernel.js';
export * from './kernel/fake-kernel.js';
export * from './drivers/routes.js';
export * from './drivers/tunnels.js';
export * from './drivers/sysctls.js';
export * from './metrics.js';
export * from './felix.js';
export * from './policy/index.js';
export * from './iptables/index.js';
export * from './ipsets/index.js';
