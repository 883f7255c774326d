/**
 * @tabby/cni: the CNI plugin (`tabby`) and IPAM plugin (`tabby-ipam`), spec 1.0.0 ADD, DEL,
 * CHECK, VERSION and 1.1 GC, STATUS; the thin-client protocol the node agent serves.
 */
export * from './errors.js';
export * from './env.js';
export * from './config.js';
export * from './result.js';
export * from './names.js';
export * from './pods.js';
export * from './dataplane.js';
export * from './context.js';
export * from './endpoint.js';
export * from './ipam-driver.js';
export { cmdAdd, type AddStep } from './add.js';
export { cmdDel } from './del.js';
export { cmdCheck } from './check.js';
export { cmdGc, cmdStatus, type GcOutcome } from './gc-status.js';
export * from './plugin.js';
export * from './agent-protocol.js';
export { agentBackend, serveCni, type CniAgentComponents } from './agent.js';
export * from './install.js';
export { LinuxDataplane } from './dataplane-linux.js';
