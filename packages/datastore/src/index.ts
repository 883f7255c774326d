/** @tabby/datastore: one interface over etcd v3, the Kubernetes API and memory. */
export * from './types.js';
