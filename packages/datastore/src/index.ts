/** @tabby/datastore: one interface over etcd v3, the Kubernetes API and memory. */
export * from './types.js';
export * from './errors.js';
export * from './keys.js';
export * from './event-queue.js';
export * from './memory.js';
export * from './etcd-codec.js';
export * from './etcd.js';
export { etcdFaultHandling, DEFAULT_REQUEST_RETRY, type RequestRetry } from './etcd-faults.js';
export { etcdEventToWatchEvent } from './etcd-watch.js';
export * from './k8s-kinds.js';
export * from './k8s-convert.js';
export * from './kubernetes.js';
export { watchKube, type KubeWatchDeps } from './k8s-watch.js';
