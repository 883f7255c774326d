/**
 * Network-namespace switching. `withNetns` runs a synchronous function with the calling thread
 * inside another namespace and always switches back (also when the function throws); sockets
 * created inside stay bound to that namespace for their whole life, which is how every
 * @tabby/netlink socket is pointed at a namespace. Only the JS main thread switches: libuv's
 * thread pool stays where it was.
 */
import { closeSync, openSync } from 'node:fs';
import { native } from './native.js';
import { syscallError } from './errors.js';

/** A namespace: a name under /var/run/netns, an absolute path, or an open fd. */
export type NetnsRef = string | number;

/** `/var/run/netns/<name>` for a bare name; a path (containing '/') is returned as is. */
export function netnsPath(nameOrPath: string): string {
  return nameOrPath.includes('/') ? nameOrPath : `/var/run/netns/${nameOrPath}`;
}

/** Runs `fn` inside namespace `ns` and returns its result; the namespace is always restored. */
export function withNetns<T>(ns: NetnsRef, fn: () => T): T {
  const target = typeof ns === 'number' ? ns : netnsPath(ns);
  const addon = native();
  let entered = false;
  try {
    return addon.withNetns(target, () => {
      entered = true;
      return fn();
    });
  } catch (e: unknown) {
    if (!entered) throw syscallError(e, `switch to netns ${String(ns)}`);
    throw e;
  }
}

/** Opens a namespace file read-only (for IFLA_NET_NS_FD); the caller closes it. */
export function openNetnsFd(ns: string): number {
  try {
    return openSync(netnsPath(ns), 'r');
  } catch (e: unknown) {
    throw syscallError(e, `open netns ${ns}`);
  }
}

/** Runs `fn` with an fd for `ns` (a number is used as is), closing the fd it opened afterwards. */
export async function withNetnsFd<T>(ns: NetnsRef, fn: (fd: number) => Promise<T>): Promise<T> {
  if (typeof ns === 'number') return fn(ns);
  const fd = openNetnsFd(ns);
  try {
    return await fn(fd);
  } finally {
    closeSync(fd);
  }
}
