/** @tabby/api: resource types and validation, the selector language, YAML/JSON I/O. */
export * from './errors.js';
export * from './resource.js';
export * from './net/cidr.js';
export * from './net/ip-bytes.js';
export * from './net/peer-address.js';
export * from './kinds/index.js';
export * from './selector/index.js';
export * from './validation/index.js';
export * from './io/index.js';
export * from './k8s/network-policy.js';
export * from './crd-schema.js';
