/**
 * @tabby/netlink: a small N-API addon for the socket syscalls (netlink sockets, setns,
 * setsockopt on a TCP socket's fd) and a typed rtnetlink codec and client in TypeScript.
 */
export * from './errors.js';
export * from './codec/constants.js';
export * from './codec/ip.js';
export * from './codec/writer.js';
export * from './codec/reader.js';
export * from './codec/nlmsg.js';
export * from './codec/link.js';
export * from './codec/address.js';
export * from './codec/route.js';
export * from './codec/neigh.js';
export * from './codec/request.js';
export * from './codec/validate.js';
export * from './codec/event.js';
export { native, addonPath, type NativeAddon, type NativeSocket } from './native.js';
export * from './netns.js';
export * from './tcp.js';
export { NetlinkSocket, type SocketOptions, type LossReason } from './socket.js';
export { runBatch, runQuery, type BatchResult, type BatchItemResult, type CallOptions, type QuerySpec } from './ops.js';
export * from './managers.js';
export * from './subscription.js';
export * from './client.js';
export * from './metrics.js';
