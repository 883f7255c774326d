/** @tabby/testkit: namespaces, veths, processes in namespaces, etcd, BGP daemons, a BGP client swarm, polling. */
export * from './poll.js';
export * from './proc.js';
export * from './cleanup.js';
export * from './netns.js';
export * from './etcd.js';
export * from './bird.js';
export * from './gobgp.js';
export * from './frr.js';
export * from './fake-apiserver.js';
export * from './kube-client.js';
export * from './bgp-swarm.js';
export * from './random.js';
