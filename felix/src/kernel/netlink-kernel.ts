/**
 * The real Kernel: @tabby/netlink sockets opened in one network namespace, and sysctls written
 * synchronously on the main thread while it is switched into that namespace (/proc/sys/net
 * resolves against the opening thread's namespace; an async write would run on a libuv pool
 * thread still in the root namespace).
 */
import { writeFileSync } from 'node:fs';
import { Netlink, withNetns, type NeighFamily, type NetnsRef, type Request } from '@tabby/netlink';
import { RT_TABLE_MAIN, RTPROT_TABBY, type Kernel, type KernelWatch, type SysctlWrite, type SysctlWriter } from './kernel.js';

/** Kernel access through one Netlink client. */
export class NetlinkKernel implements Kernel {
  private constructor(private readonly nl: Netlink) {}

  /** Opens netlink sockets in `netns` (a name under /var/run/netns, a path or an fd). */
  static async open(netns: NetnsRef | undefined): Promise<NetlinkKernel> {
    return new NetlinkKernel(await Netlink.open({ netns }));
  }

  listLinks() {
    return this.nl.links.list();
  }

  listAddresses(family: 4 | 6) {
    return this.nl.addresses.list({ family });
  }

  async ownedRoutes() {
    const [v4, v6] = await Promise.all([
      this.nl.routes.dump({ family: 4, table: RT_TABLE_MAIN, protocol: RTPROT_TABBY }),
      this.nl.routes.dump({ family: 6, table: RT_TABLE_MAIN, protocol: RTPROT_TABBY }),
    ]);
    return [...v4, ...v6];
  }

  listNeighbours(family: NeighFamily, index: number) {
    return this.nl.neighbours.list(family, index);
  }

  batch(reqs: Request[]) {
    return this.nl.batch(reqs);
  }

  watch(): KernelWatch {
    return this.nl.subscribe(['link', 'ipv4-route', 'ipv6-route', 'neigh']);
  }

  close(): void {
    this.nl.close();
  }
}

/** Sysctls of one named namespace. Refuses to run without one (never the machine's own). */
export class NetnsSysctl implements SysctlWriter {
  constructor(private readonly netns: string) {
    if (!netns) throw new Error('NetnsSysctl needs a network namespace; refusing to write the root namespace');
  }

  write(path: readonly string[], value: string): void {
    const file = sysctlFile(path);
    withNetns(this.netns, () => writeFileSync(file, value));
  }

  writeAll(writes: readonly SysctlWrite[]): Array<{ index: number; error: unknown }> {
    // Synchronous writes only while switched (see the module header); one switch for all.
    return withNetns(this.netns, () => writeEach(writes));
  }
}

/** Writes each sysctl synchronously; returns the failures by index. */
function writeEach(writes: readonly SysctlWrite[]): Array<{ index: number; error: unknown }> {
  const failures: Array<{ index: number; error: unknown }> = [];
  writes.forEach(([path, value], index) => {
    try {
      writeFileSync(sysctlFile(path), value);
    } catch (error: unknown) {
      failures.push({ index, error });
    }
  });
  return failures;
}

function sysctlFile(path: readonly string[]): string {
  if (path.some((p) => p === '' || p === '.' || p === '..' || p.includes('/'))) throw new Error(`bad sysctl path ${path.join('/')}`);
  return `/proc/sys/${path.join('/')}`;
}

/**
 * Sysctls of the process's own network namespace: for tabby-node running as the DaemonSet (host
 * network). Tests never use it — they always name their namespace (NetnsSysctl).
 */
export class OwnNamespaceSysctl implements SysctlWriter {
  write(path: readonly string[], value: string): void {
    writeFileSync(sysctlFile(path), value);
  }

  writeAll(writes: readonly SysctlWrite[]): Array<{ index: number; error: unknown }> {
    return writeEach(writes);
  }
}
