/**
 * The rtnetlink client: `await Netlink.open({ netns })` gives one request socket bound to that
 * namespace for its whole life, with typed managers (links, addresses, routes, neighbours),
 * batches, and notification subscriptions (each on its own socket in the same namespace).
 *
 * Dependency injection: `components.openSocket` replaces the native socket (fakes in unit tests
 * inject failures); by default sockets come from the addon.
 */
import { groupNumber, type GroupName } from './codec/event.js';
import * as C from './codec/constants.js';
import type { Request } from './codec/request.js';
import { NetlinkError, syscallError } from './errors.js';
import { Addresses, Links, Neighbours, Routes, type Executor } from './managers.js';
import { native, type NativeSocket } from './native.js';
import { withNetns, type NetnsRef } from './netns.js';
import { runBatch, type BatchResult, type CallOptions } from './ops.js';
import { NetlinkSocket, type SocketOptions } from './socket.js';
import { Subscription, type SubscriptionOptions } from './subscription.js';
import type { NetlinkLogger, NetlinkMetrics } from './metrics.js';

/** Replaceable I/O of a client. */
export interface NetlinkComponents {
  /** Opens a NETLINK_ROUTE socket (in the client's namespace) bound to legacy group mask 0. */
  openSocket?: (netns: NetnsRef | undefined) => NativeSocket;
  metrics?: NetlinkMetrics;
  logger?: NetlinkLogger;
}

/** Options of `Netlink.open`. */
export interface NetlinkOpenOptions {
  /** Namespace to work in: a name under /var/run/netns, a path, or an fd. Default: current. */
  netns?: NetnsRef;
  socket?: SocketOptions;
  components?: NetlinkComponents;
}

function defaultOpenSocket(netns: NetnsRef | undefined): NativeSocket {
  const addon = native();
  const make = (): NativeSocket => {
    try {
      return new addon.Socket(C.NETLINK_ROUTE, 0);
    } catch (e: unknown) {
      throw syscallError(e, 'open netlink socket');
    }
  };
  return netns === undefined ? make() : withNetns(netns, make);
}

/**
 * Opens a NETLINK_ROUTE socket directly in namespace `netns` (name, path or fd; default: the
 * current one), optionally joined to RTNLGRP_* groups. The socket stays in that namespace.
 */
export function openNetlinkSocket(opts: { netns?: NetnsRef; groups?: GroupName[]; socket?: SocketOptions } = {}): NetlinkSocket {
  const raw = defaultOpenSocket(opts.netns);
  const sock = new NetlinkSocket(raw, opts.socket);
  try {
    for (const g of opts.groups ?? []) raw.setOption(C.SOL_NETLINK, C.NETLINK_ADD_MEMBERSHIP, groupNumber(g));
  } catch (e: unknown) {
    sock.close();
    throw syscallError(e, `join groups ${(opts.groups ?? []).join(',')}`);
  }
  return sock;
}

/** An rtnetlink client bound to one network namespace. */
export class Netlink implements Executor {
  readonly links: Links;
  readonly addresses: Addresses;
  readonly routes: Routes;
  readonly neighbours: Neighbours;
  private readonly subs = new Set<Subscription>();

  private constructor(
    readonly sock: NetlinkSocket,
    private readonly opts: NetlinkOpenOptions,
    private readonly openSocket: (netns: NetnsRef | undefined) => NativeSocket,
  ) {
    this.links = new Links(this);
    this.addresses = new Addresses(this);
    this.routes = new Routes(this);
    this.neighbours = new Neighbours(this);
  }

  /** Opens a client; its sockets live in `opts.netns` (or the current namespace). */
  static async open(opts: NetlinkOpenOptions = {}): Promise<Netlink> {
    const openSocket = opts.components?.openSocket ?? defaultOpenSocket;
    const sock = new NetlinkSocket(openSocket(opts.netns), opts.socket);
    sock.onOverrun = (reason) => {
      opts.components?.metrics?.overrun('request');
      opts.components?.logger?.warn({ netns: opts.netns, reason }, reason === 'truncated' ? 'netlink reply larger than the receive slot: slot grown, request retried or failed' : 'netlink request socket overflowed: acks lost');
    };
    return new Netlink(sock, opts, openSocket);
  }

  /**
   * Sends many requests (as few sendto calls as the receive buffer allows), each acknowledged;
   * the result lists every request's outcome. Never throws for a refused request.
   */
  async batch(reqs: readonly Request[], opts?: CallOptions): Promise<BatchResult> {
    const res = await runBatch(this.sock, reqs, opts);
    this.observe(res);
    return res;
  }

  /** Runs one request; throws its typed NetlinkError when the kernel refuses it. */
  async exec(req: Request, opts?: CallOptions): Promise<void> {
    const res = await runBatch(this.sock, [req], opts);
    this.observe(res);
    const first = res.results[0]!;
    if (!first.ok) throw first.error;
  }

  private observe(res: BatchResult): void {
    const { metrics, logger } = this.opts.components ?? {};
    metrics?.requests(res.results.length);
    for (const f of res.failed) {
      metrics?.failed(`${f.request.kind}.${f.request.op}`, f.error.errnoName ?? f.error.code);
      logger?.debug({ err: f.error.message, op: `${f.request.kind}.${f.request.op}` }, 'netlink request failed');
    }
  }

  /**
   * Joins RTNLGRP_* groups on a new socket in this client's namespace. The subscription keeps
   * its socket (and the event loop) until its own `close()` or this client's; throws
   * NETLINK_CLOSED once the client is closed.
   */
  subscribe(groups: GroupName[], opts: SubscriptionOptions = {}): Subscription {
    if (this.sock.isClosed) throw new NetlinkError('NETLINK_CLOSED', 'subscribe() on a closed netlink client: open a new one');
    const native = this.openSocket(this.opts.netns);
    const sock = new NetlinkSocket(native, { rcvbuf: this.opts.socket?.rcvbuf ?? 4 << 20, ...this.opts.socket });
    try {
      for (const g of groups) native.setOption(C.SOL_NETLINK, C.NETLINK_ADD_MEMBERSHIP, groupNumber(g));
    } catch (e: unknown) {
      sock.close();
      throw syscallError(e, `join groups ${groups.join(',')}`);
    }
    const sub = new Subscription(sock, opts);
    const { metrics, logger } = this.opts.components ?? {};
    if (metrics) sub.on('event', (ev: { type: string }) => metrics.event(ev.type));
    sub.on('overrun', () => {
      metrics?.overrun('subscription');
      logger?.warn({ netns: this.opts.netns, groups }, 'netlink notifications lost (ENOBUFS): re-read the full state');
    });
    this.subs.add(sub);
    sub.once('close', () => this.subs.delete(sub));
    return sub;
  }

  /** Closes every socket of this client; requests in flight fail with NETLINK_CLOSED. */
  close(): void {
    for (const s of [...this.subs]) s.close();
    this.sock.close();
  }
}
