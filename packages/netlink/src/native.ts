/**
 * Loads the N-API addon (packages/netlink/build/Release/tabby_netlink.node, built by
 * `npm run build` through scripts/build-native.mjs) and types its surface. The path is resolved
 * relative to this module, so it works from src/ (vitest) and from dist/ alike. Loading is lazy:
 * the pure codec is usable without the addon.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { NetlinkError } from './errors.js';

/** One netlink socket: the thin syscall surface the TypeScript socket layer drives. */
export interface NativeSocket {
  readonly fd: number;
  readonly portId: number;
  /** sendto(2) of `buf[off..off+len)` as one datagram; returns bytes sent. */
  send(buf: Uint8Array, off: number, len: number): number;
  /**
   * Receives datagrams back to back into `buf`, each into a `slot`-byte slot; bytes read, 0 when
   * none, or -errno: ENOBUFS (overrun), EMSGSIZE (a datagram larger than `slot` was dropped;
   * `truncated` tells its size).
   */
  drain(buf: Uint8Array, slot: number): number;
  /** Size of the largest datagram the last EMSGSIZE drain dropped. */
  readonly truncated: number;
  setOption(level: number, name: number, value: number): void;
  getOption(level: number, name: number): number;
  /** Watches the fd: on readable, drains into `buf` (slots of `slot`) and calls `cb(bytes)` or `cb(-errno)`. */
  startPoll(buf: Uint8Array, slot: number, cb: (n: number) => void): void;
  stopPoll(): void;
  /** Whether polling keeps the event loop alive (default true), like net.Socket#ref / #unref. */
  setPollRef(ref: boolean): void;
  close(): void;
}

/** The addon's exports. */
export interface NativeAddon {
  Socket: new (protocol: number, groups: number) => NativeSocket;
  /** Runs `fn` with this thread in the namespace at `target` (path or fd), then switches back. */
  withNetns<T>(target: string | number, fn: () => T): T;
  setsockoptInt(fd: number, level: number, name: number, value: number): void;
  getsockoptInt(fd: number, level: number, name: number): number;
  setsockoptBuf(fd: number, level: number, name: number, value: Uint8Array): void;
  /** A new unconnected non-blocking TCP socket's fd (family 4 or 6). */
  tcpSocket(family: 4 | 6): number;
}

let loaded: NativeAddon | undefined;

/** Absolute path of the built addon. */
export function addonPath(): string {
  return fileURLToPath(new URL('../build/Release/tabby_netlink.node', import.meta.url));
}

/** The addon, loaded on first use; throws NETLINK_NATIVE_UNAVAILABLE when it is not built. */
export function native(): NativeAddon {
  if (loaded) return loaded;
  const path = addonPath();
  if (!existsSync(path)) {
    throw new NetlinkError('NETLINK_NATIVE_UNAVAILABLE', `netlink addon not built: ${path} is missing; run \`npm run build\` (or \`npm run build:native\`) at the repository root`);
  }
  try {
    loaded = createRequire(import.meta.url)(path) as NativeAddon;
  } catch (e: unknown) {
    throw new NetlinkError('NETLINK_NATIVE_UNAVAILABLE', `netlink addon ${path} failed to load: ${e instanceof Error ? e.message : String(e)}; rebuild with \`npm run build:native\``, { cause: e });
  }
  return loaded;
}
