/**
 * What the end-to-end scenarios observe: kernel routes of a node, the /26 block of an address,
 * a continuous ping counted packet by packet, and a snapshot of a node's kernel objects for leak
 * checks.
 */
import { run, type Netns, type Proc, type TestNet } from '@tabby/testkit';

/** The IPv4 /26 block (the default block size) holding `ip`. */
export function blockOf(ip: string): string {
  const o = ip.split('.').map(Number);
  return `${o[0]}.${o[1]}.${o[2]}.${o[3]! & ~63}/26`;
}

/** The node's kernel route for exactly `dst` (`ip route show exact`), or ''. */
export async function routeTo(node: { netns: Netns }, dst: string): Promise<string> {
  const v6 = dst.includes(':') ? ['-6'] : [];
  return (await run('ip', [...v6, '-n', node.netns.name, 'route', 'show', 'exact', dst])).trim();
}

/** One ping from `from`'s namespace (1 s to answer): true when it was answered. */
export async function pingOnce(from: { netns: Netns }, to: string): Promise<boolean> {
  try {
    await run('ping', ['-c', '1', '-W', '1', to], { netns: from.netns.name });
    return true;
  } catch {
    return false;
  }
}

/** Counts of a finished continuous ping. */
export interface PingCount {
  /** Echo requests whose reply never came (replies of the last request in flight excepted). */
  lost: number[];
  received: number;
}

/** A ping running every `intervalS` seconds until `stop()`. */
export class ContinuousPing {
  private readonly proc: Proc;

  constructor(net: TestNet, from: { netns: Netns }, to: string, intervalS = 0.05) {
    this.proc = net.spawn(from.netns, 'ping', ['-n', '-i', String(intervalS), '-W', '1', to], { maxOutput: 16 << 20 });
  }

  /** Replies so far. */
  get replies(): number {
    return (this.proc.output.match(/icmp_seq=\d+ /g) ?? []).length;
  }

  /** Stops (SIGINT, as ^C) and returns which requests got no reply. */
  async stop(): Promise<PingCount> {
    await this.proc.stop('SIGINT', 3000);
    const seqs = new Set([...this.proc.output.matchAll(/icmp_seq=(\d+) /g)].map((m) => Number(m[1])));
    const sent = Number(/(\d+) packets transmitted/.exec(this.proc.output)?.[1] ?? 0);
    const lost: number[] = [];
    for (let i = 1; i < sent; i++) if (!seqs.has(i)) lost.push(i); // the last one may be in flight
    return { lost, received: seqs.size };
  }
}

/**
 * A node's kernel objects that pods add: links, addresses, routes (both families, every table),
 * policy-routing rules, felix's per-endpoint chains. Counters and link indexes
 * vary with time, so only names and destinations are kept.
 */
export async function kernelSnapshot(node: { netns: Netns }): Promise<string[]> {
  const ns = node.netns.name;
  const links = (await run('ip', ['-n', ns, '-o', 'link', 'show'])).split('\n').map((l) => /^\d+: ([^:@]+)/.exec(l)?.[1]).filter(Boolean).map((n) => `link ${n}`);
  const addrs = (await run('ip', ['-n', ns, '-o', 'addr', 'show'])).split('\n').map((l) => /^\d+: (\S+)\s+(inet6?) (\S+)/.exec(l)).filter((m) => m !== null).map((m) => `addr ${m[1]} ${m[3]}`);
  const routes = [...(await run('ip', ['-n', ns, '-4', 'route', 'show', 'table', 'all'])).split('\n'), ...(await run('ip', ['-n', ns, '-6', 'route', 'show', 'table', 'all'])).split('\n')]
    .filter((l) => l.trim() && !/^(blackhole )?\S+\/(26|122) /.test(l)) // block routes: an affine block may stay claimed, as in Calico
    .map((l) => `route ${l.trim()}`);
  const rules = [...(await run('ip', ['-n', ns, '-4', 'rule'])).split('\n'), ...(await run('ip', ['-n', ns, '-6', 'rule'])).split('\n')].filter((l) => l.trim()).map((l) => `rule ${l.trim()}`);
  const chains = (await run('iptables-save', [], { netns: ns })).split('\n').filter((l) => /^:cali-[tf]w-/.test(l)).map((l) => `chain ${l.split(' ')[0]}`);
  return [...links, ...addrs, ...routes, ...rules, ...chains].sort();
}
