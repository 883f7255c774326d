/**
 * The datastore backends the tests use. Imported from their modules rather than the package
 * index: the index also loads the Kubernetes backend (@kubernetes/client-node → undici), which
 * does not load on Node 20 under vitest at the moment; IPAM needs only memory and etcd.
 */
export { MemoryDatastore } from '../../packages/datastore/src/memory.js';
export { createEtcdDatastore, EtcdDatastore } from '../../packages/datastore/src/etcd.js';
