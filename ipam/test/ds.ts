/** The datastore backends the tests use (memory for unit tests, etcd for the real-etcd tests). */
export { MemoryDatastore, createEtcdDatastore, EtcdDatastore } from '@tabby/datastore';
