/**
 * The passive side shared by all peers: one TCP listener (port 179 by default) that hands each
 * accepted socket to the peer session registered for its remote address. An unknown address
 * gets NOTIFICATION Cease / Connection Rejected (RFC 4486 §4) at once and is closed, within
 * per-source and total caps (reject.ts) so that a connection flood cannot exhaust descriptors. TCP-MD5 keys (RFC 2385) are installed per peer on
 * the listening socket, so the SYN of a keyed peer is already verified by the kernel.
 *
 * Invariants: every accepted socket is either handed to exactly one peer or closed; addresses
 * are compared in canonical form (IPv4-mapped IPv6 unwrapped, IPv6 compressed lower case).
 */
import { createServer, isIP, type Server, type Socket } from 'node:net';
import { applySocketOptions, type PeerTransport } from './connection.js';
import { demuxByOpen, type DemuxCandidate } from './demux.js';
import { DEFAULT_REJECT_LIMITS, Rejector, type ListenerMetrics } from './reject.js';
import { noSocketOptions, silentLogger, systemClock, type Clock, type SessionCodec, type SessionLogger, type SocketOptions } from './ports.js';

/** Accept queue length asked of the kernel (capped by net.core.somaxconn): a burst of strangers must not crowd out a peer's SYN. */
const LISTEN_BACKLOG = 4096;

/** A peer that can take an accepted socket (PeerSession implements it). */
export interface IncomingTarget extends DemuxCandidate {
  readonly transport: PeerTransport;
  /** Takes the socket; `initial` holds octets the listener already read from it (see demux.ts). */
  acceptIncoming(socket: Socket, initial?: Uint8Array): void;
}

/** Canonical text of an address: unwraps ::ffff:a.b.c.d, compresses IPv6. */
export function canonicalAddress(addr: string): string {
  const a = addr.toLowerCase().replace(/%.*$/, '');
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(a);
  if (mapped) return mapped[1] as string;
  if (isIP(a) === 6) return new URL(`http://[${a}]/`).hostname.slice(1, -1);
  return a;
}

/** ::ffff:a.b.c.d in hex groups (::ffff:0a00:0001). */
function v4Mapped(v4: string): string {
  const [a = 0, b = 0, c = 0, d = 0] = v4.split('.').map(Number);
  const hex = (x: number, y: number): string => ((x << 8) | y).toString(16);
  return `::ffff:${hex(a, b)}:${hex(c, d)}`;
}

/** Components of the listener. */
export interface ListenerComponents {
  codec: SessionCodec;
  socketOptions?: SocketOptions;
  clock?: Clock;
  logger?: SessionLogger;
  metrics?: ListenerMetrics;
}

export type { ListenerMetrics, RejectReason } from './reject.js';

/** Where to listen. */
export interface ListenerInit {
  /** Address to bind ('::' listens on IPv6 and IPv4). */
  host: string;
  /** Default 179; 0 picks a free port (see `address()`). */
  port?: number;
  /** How long a refused connection may take to flush its Cease (ms, default 1000). */
  rejectGraceMs?: number;
  /** Refused connections from one address still closing, beyond which more are dropped without Cease (default 8). */
  maxRejectingPerSource?: number;
  /** Refused connections still closing in all, beyond which more are dropped without Cease (default 256). */
  maxRejecting?: number;
  /** Peers sharing an address: how long to wait for the OPEN that tells them apart (ms, default 10 000). */
  demuxTimeoutMs?: number;
}

/** The shared passive listener. */
export class BgpListener {
  private readonly server: Server;
  /** Targets per canonical address (several when peers share an address on different ports). */
  private readonly peers = new Map<string, IncomingTarget[]>();
  private readonly sockOpts: SocketOptions;
  private readonly clock: Clock;
  private readonly log: SessionLogger;
  private readonly rejector: Rejector;

  constructor(
    private readonly components: ListenerComponents,
    private readonly init: ListenerInit,
  ) {
    this.sockOpts = components.socketOptions ?? noSocketOptions;
    this.clock = components.clock ?? systemClock;
    this.log = components.logger ?? silentLogger;
    const d = DEFAULT_REJECT_LIMITS;
    this.rejector = new Rejector(
      components.codec,
      { maxPerSource: init.maxRejectingPerSource ?? d.maxPerSource, maxTotal: init.maxRejecting ?? d.maxTotal, graceMs: init.rejectGraceMs ?? d.graceMs, logIntervalMs: d.logIntervalMs },
      this.clock,
      this.log,
      components.metrics,
    );
    this.server = createServer({ noDelay: true }, (s) => this.onConnection(s));
    this.server.on('error', (err) => this.log.error({ err }, 'BGP listener error'));
  }

  /** The descriptor of a socket or the server, from the socket options (-1 without them). */
  private fd(s: Socket | Server): number {
    return this.sockOpts.fdOf?.(s) ?? -1;
  }

  /** Starts listening; resolves with the bound address. */
  listen(signal?: AbortSignal): Promise<{ address: string; port: number }> {
    return new Promise((resolve, reject) => {
      const onError = (e: Error): void => reject(e);
      this.server.once('error', onError);
      signal?.addEventListener('abort', () => reject(signal.reason), { once: true });
      this.server.listen({ host: this.init.host, port: this.init.port ?? 179, signal, backlog: LISTEN_BACKLOG }, () => {
        this.server.off('error', onError);
        for (const list of this.peers.values()) for (const p of list) this.installKey(p.transport);
        resolve(this.address());
      });
    });
  }

  /** The bound address and port. */
  address(): { address: string; port: number } {
    const a = this.server.address();
    if (a === null || typeof a === 'string') return { address: this.init.host, port: this.init.port ?? 179 };
    return { address: a.address, port: a.port };
  }

  /**
   * RFC 5082 §3: a GTSM peer's SYN-ACK must already leave with TTL 255, so the listener sends with
   * TTL 255 as soon as one registered peer uses GTSM (harmless for the others). The minimum TTL
   * is per peer and set on each accepted socket.
   */
  private installTtl(t: PeerTransport): void {
    const fd = this.fd(this.server);
    if (fd < 0 || t.ttlSecurityHops === undefined) return;
    const families: Array<4 | 6> = isIP(this.address().address) === 6 ? [6, 4] : [4];
    for (const f of families) {
      try {
        this.sockOpts.setTtl(fd, f, 255);
      } catch (err: unknown) {
        this.log.warn({ peer: t.peerAddress, err }, 'could not set TTL 255 on the listener');
      }
    }
  }

  private installKey(t: PeerTransport, key = t.md5Password): void {
    this.installTtl(t);
    const fd = this.fd(this.server);
    if (fd < 0 || !key) return;
    // Linux: an IPv6 listener takes IPv4 peers' keys as v4-mapped addresses.
    const v6 = isIP(this.address().address) === 6;
    const peer = v6 && isIP(t.peerAddress) === 4 ? v4Mapped(t.peerAddress) : t.peerAddress;
    try {
      this.sockOpts.setTcpMd5Sig(fd, peer, key);
    } catch (err: unknown) {
      this.log.error({ peer: t.peerAddress, err }, 'could not install the TCP-MD5 key on the listener');
    }
  }

  /**
   * Routes connections from the peer's address to `target` (several targets may share an
   * address: their connections are told apart by the OPEN's AS, demux.ts); returns a function
   * that unregisters it.
   */
  register(target: IncomingTarget): () => void {
    const key = canonicalAddress(target.transport.peerAddress);
    this.peers.set(key, [...(this.peers.get(key) ?? []), target]);
    this.installKey(target.transport);
    return () => {
      const list = this.peers.get(key) ?? [];
      if (!list.includes(target)) return;
      const rest = list.filter((t) => t !== target);
      if (rest.length > 0) this.peers.set(key, rest);
      else this.peers.delete(key);
      if (target.transport.md5Password && rest.length === 0) this.installKey(target.transport, '');
    };
  }

  private onConnection(s: Socket): void {
    const remote = canonicalAddress(s.remoteAddress ?? '');
    const list = this.peers.get(remote);
    if (!list || list.length === 0) return this.rejector.reject(s, remote);
    if (list.length === 1) return this.handOver(s, remote, list[0]!);
    demuxByOpen(s, () => this.peers.get(remote) ?? [], this.components.codec, this.clock, this.init.demuxTimeoutMs ?? 10_000, (t, initial) => this.handOver(s, remote, t, initial));
  }

  private handOver(s: Socket, remote: string, target: IncomingTarget, initial?: Uint8Array): void {
    try {
      // GTSM on the accepted socket (MD5 was inherited from the listener's key list).
      applySocketOptions(this.sockOpts, this.fd(s), target.transport, false);
    } catch (err: unknown) {
      this.log.error({ peer: remote, err }, 'could not set GTSM options on an accepted connection');
      s.destroy();
      return;
    }
    target.acceptIncoming(s, initial);
  }

  /** Stops listening and closes nothing else (peers own their connections). */
  close(): Promise<void> {
    this.rejector.close();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
