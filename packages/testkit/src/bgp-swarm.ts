/**
 * A swarm of simulated iBGP route-reflector clients: many sessions from one process (the child
 * in bgp-swarm-child.ts), each from its own address on one veth in a clients' namespace, to
 * one reflector in another namespace. Used by the route-reflector scale benchmark and its
 * small root test.
 *
 * Topology (`swarmTopology`): namespace `<prefix>rr` holds the reflector on 10.0.0.1/16,
 * namespace `<prefix>cl` the clients on 10.0.1.0, 10.0.1.1, ... (/16, one veth). The reflector
 * gets a permanent neighbour entry per client, so 1,000 clients never run into the kernel's
 * neighbour-table garbage-collection thresholds (which count dynamic entries of every namespace).
 */
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from './bird.js';
import type { Netns, TestNet } from './netns.js';
import { poll } from './poll.js';
import type { Proc } from './proc.js';

/** What the swarm process is told (written as JSON). */
export interface SwarmConfig {
  /** The reflector's address and port. */
  rr: string;
  port: number;
  /** The AS of the reflector and every client (iBGP). */
  asn: number;
  /** The clients' addresses, in order: client i announces routes i*routesPer .. (i+1)*routesPer-1. */
  clients: string[];
  routesPer: number;
  /** First route as a 32-bit number (each route is a /32 counted up from here). */
  routeBase: number;
  holdTime: number;
}

/** One status line of the swarm. Times are epoch milliseconds (0 = not yet). */
export interface SwarmStatus {
  clients: number;
  established: number;
  /** Clients that hold every route the others announce (and nothing withdrawn). */
  complete: number;
  minHeld: number;
  /** Routes currently announced by all clients together. */
  announcedTotal: number;
  /** Own routes sent back to their originator, and routes outside the swarm's range (both should be 0). */
  reflectedOwn: number;
  foreign: number;
  /** When the swarm process started (its first connects). */
  startedAt: number;
  lastChangeAt: number;
  lastEstablishedAt: number;
  withdrawSentAt: number;
  errors: string[];
}

/** The reflector's address in the swarm topology. */
export const SWARM_RR = '10.0.0.1';
/** The AS of the swarm topology. */
export const SWARM_ASN = 65000;
/** First route of the swarm: 100.64.0.0. */
export const SWARM_ROUTE_BASE = 0x64400000;

/** Client i's address: 10.0.1.0 + i (10.0.1.0 .. 10.0.255.255 leaves room for 65,280 clients). */
export function swarmClientAddr(i: number): string {
  const v = 256 + i;
  return `10.0.${v >>> 8}.${v & 255}`;
}

/** The swarm's namespaces: the reflector's and the clients'. */
export interface SwarmTopology {
  rr: Netns;
  clients: Netns;
  addresses: string[];
}

/** Creates the two namespaces, the veth between them, `n` client addresses and the neighbour entries. */
export async function swarmTopology(net: TestNet, n: number): Promise<SwarmTopology> {
  const rr = await net.netns('rr');
  const clients = await net.netns('cl');
  const rrIf = net.name('r0');
  const clIf = net.name('c0');
  await net.veth(rr, rrIf, clients, clIf, `${SWARM_RR}/16`);
  const addresses = Array.from({ length: n }, (_, i) => swarmClientAddr(i));
  const mac = /link\/ether (\S+)/.exec(await clients.ip('link', 'show', clIf))?.[1];
  if (!mac) throw new Error(`no MAC address on ${clIf}`);
  const { dir, remove } = tempDir('tabby-swarm-ip-');
  try {
    const addrBatch = join(dir, 'addr');
    writeFileSync(addrBatch, addresses.map((a) => `addr add ${a}/16 dev ${clIf}`).join('\n') + '\n');
    await clients.ip('-batch', addrBatch);
    const neighBatch = join(dir, 'neigh');
    writeFileSync(neighBatch, addresses.map((a) => `neigh replace ${a} lladdr ${mac} dev ${rrIf} nud permanent`).join('\n') + '\n');
    await rr.ip('-batch', neighBatch);
  } finally {
    remove();
  }
  return { rr, clients, addresses };
}

/** Path of the built swarm process. */
export const SWARM_BIN = join(dirname(fileURLToPath(import.meta.url)), '../dist/bgp-swarm-child.js');

/** A running swarm. */
export class BgpSwarm {
  private constructor(
    readonly proc: Proc,
    private readonly removeDir: () => void,
  ) {}

  /** Starts the swarm process in `ns`; its clients connect to the reflector at once and keep retrying. */
  static start(net: TestNet, ns: Netns, config: Omit<SwarmConfig, 'port' | 'asn' | 'rr' | 'routeBase' | 'holdTime'> & Partial<SwarmConfig>): BgpSwarm {
    const full: SwarmConfig = { rr: SWARM_RR, port: 179, asn: SWARM_ASN, routeBase: SWARM_ROUTE_BASE, holdTime: 240, ...config };
    const { dir, remove } = tempDir('tabby-swarm-');
    const file = join(dir, 'swarm.json');
    writeFileSync(file, JSON.stringify(full));
    const proc = net.spawn(ns, process.execPath, [SWARM_BIN, file], { maxOutput: 64 << 10 });
    return new BgpSwarm(proc, remove);
  }

  /** The latest status line, or undefined before the first (throws when the process died). */
  status(): SwarmStatus | undefined {
    const out = this.proc.output;
    if (!this.proc.running) throw new Error(`BGP swarm exited: ${out.slice(-2000)}`);
    const end = out.lastIndexOf('\n');
    const start = out.lastIndexOf('\n', end - 1) + 1;
    if (end <= 0) return undefined;
    try {
      return JSON.parse(out.slice(start, end)) as SwarmStatus;
    } catch {
      return undefined; // a line cut by the output cap
    }
  }

  /** Waits until `pred` holds for a status line; returns that line. */
  async until(pred: (s: SwarmStatus) => boolean, what: string, timeoutMs = 120_000): Promise<SwarmStatus> {
    let last: SwarmStatus | undefined;
    try {
      return await poll(() => {
        last = this.status() ?? last;
        return last !== undefined && pred(last) && last;
      }, { timeout: timeoutMs, interval: 100, what: `BGP swarm: ${what}` });
    } catch (e: unknown) {
      throw new Error(`${e instanceof Error ? e.message : String(e)}; last status: ${JSON.stringify(last)}`);
    }
  }

  /** Client 0 withdraws every route it announced. */
  withdrawFirst(): void {
    process.kill(this.proc.pid, 'SIGUSR2');
  }

  /** Stops the swarm process and removes its directory. */
  async stop(): Promise<void> {
    await this.proc.stop('SIGTERM', 2000);
    this.removeDir();
  }
}
