/**
 * The narrow kernel interface felix's drivers use: read back links, addresses, routes and
 * neighbours; apply batches of changes; watch for changes. One real implementation over
 * @tabby/netlink (netlink-kernel.ts) and one in-memory fake that injects failures
 * (fake-kernel.ts). Drivers never see a socket.
 */
import type { EventEmitter } from 'node:events';
import type { Address, BatchResult, Link, Neigh, NeighFamily, Request, Route } from '@tabby/netlink';

/** Route protocol of every route Tabby programs (ours to change and delete). */
export const RTPROT_TABBY = 80;
/** The main routing table. */
export const RT_TABLE_MAIN = 254;

/**
 * Kernel change notifications: 'event' (a NetlinkEvent-shaped item: link, address, route or
 * neigh with action new/del) and 'overrun' (changes were lost: resync everything).
 */
export type KernelWatch = EventEmitter & { close(): void };

/** What felix's drivers need from the kernel of one network namespace. */
export interface Kernel {
  listLinks(): Promise<Link[]>;
  listAddresses(family: 4 | 6): Promise<Address[]>;
  /** Routes of protocol 80 in the main table, both families. */
  ownedRoutes(): Promise<Route[]>;
  listNeighbours(family: NeighFamily, index: number): Promise<Neigh[]>;
  /** Applies changes; every request gets its own outcome (never throws for a refused one). */
  batch(reqs: Request[]): Promise<BatchResult>;
  /** Watches links, routes, addresses and neighbours. */
  watch(): KernelWatch;
  close(): void;
}

/** One sysctl write: the path under /proc/sys (`['net', 'ipv4', 'conf', 'cali1', 'proxy_arp']`) and the value. */
export type SysctlWrite = readonly [path: readonly string[], value: string];

/** Writes sysctls in felix's namespace (never the machine's own). */
export interface SysctlWriter {
  /** Writes one value; throws on failure. */
  write(path: readonly string[], value: string): void;
  /** Writes many values in one namespace switch; returns the failures (Node errors, with `code`). */
  writeAll(writes: readonly SysctlWrite[]): Array<{ index: number; error: unknown }>;
}
