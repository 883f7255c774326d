/**
 * Per-object-family APIs of a Netlink client: links, addresses, routes, neighbours. Each call is
 * one request (or dump) through the shared socket; a failed request throws its typed
 * NetlinkError. For many changes at once use `Netlink.batch`.
 */
import { decodeAddress, encodeAddressDump, type Address, type AddressSpec } from './codec/address.js';
import type { IpFamily } from './codec/ip.js';
import { decodeLink, encodeLinkDump, encodeLinkGet, type Link, type LinkChange, type LinkRef, type LinkSpec, type NsTarget } from './codec/link.js';
import { decodeNeigh, encodeNeighDump, type Neigh, type NeighFamily, type NeighSpec } from './codec/neigh.js';
import type { Request } from './codec/request.js';
import { requestError } from './codec/validate.js';
import { decodeRoute, encodeRouteDump, routeMatches, type Route, type RouteFilter, type RouteSpec } from './codec/route.js';
import * as C from './codec/constants.js';
import type { NlMsg } from './codec/reader.js';
import { closeSync } from 'node:fs';
import { openNetnsFd } from './netns.js';
import { runQuery, type CallOptions, type QuerySpec } from './ops.js';
import type { NetlinkSocket } from './socket.js';

/** What the managers need from the client. */
export interface Executor {
  readonly sock: NetlinkSocket;
  /** Runs one request; throws its typed error. */
  exec(req: Request, opts?: CallOptions): Promise<void>;
}

const ENOENT = 2;
const ENODEV = 19;

function query<T>(ex: Executor, q: QuerySpec<T>, opts?: CallOptions): Promise<T[]> {
  return runQuery(ex.sock, q, opts);
}

/** Links: list, get, add (veth / vxlan / ipip / dummy / bridge), set, delete. */
export class Links {
  constructor(private readonly ex: Executor) {}

  /** Every link of the namespace. */
  list(opts?: CallOptions): Promise<Link[]> {
    return query(this.ex, { what: { op: 'link.list', summary: 'all' }, encode: (w, s) => encodeLinkDump(w, s), decode: linkOnly }, opts);
  }

  /** One link by name or index; throws ENODEV when it does not exist. */
  async get(ref: LinkRef | string | number, opts?: CallOptions): Promise<Link> {
    const r = toRef(ref);
    const bad = requestError({ kind: 'link', op: 'del', link: r }); // a get takes the same reference
    if (bad) throw bad;
    const [link] = await query(this.ex, { what: { op: 'link.get', summary: 'name' in r ? r.name : `index ${r.index}` }, encode: (w, s) => encodeLinkGet(w, r, s), decode: linkOnly, single: true }, opts);
    return link!;
  }

  /** One link, or undefined when it does not exist. */
  async find(ref: LinkRef | string | number, opts?: CallOptions): Promise<Link | undefined> {
    try {
      return await this.get(ref, opts);
    } catch (e: unknown) {
      if ((e as { errno?: unknown }).errno === ENODEV) return undefined;
      throw e;
    }
  }

  /** Creates a link; namespace names in `netns` / `info.peer.netns` are opened as fds. */
  add(spec: LinkSpec, opts?: CallOptions): Promise<void> {
    const bad = requestError({ kind: 'link', op: 'add', link: spec });
    if (bad) return Promise.reject(bad);
    return withResolvedNs([spec.netns, spec.info.kind === 'veth' ? spec.info.peer.netns : undefined], ([ns, peerNs]) => {
      const info = spec.info.kind === 'veth' ? { ...spec.info, peer: { ...spec.info.peer, netns: peerNs } } : spec.info;
      return this.ex.exec({ kind: 'link', op: 'add', link: { ...spec, netns: ns, info } }, opts);
    });
  }

  /** Changes a link: up/down, MTU, MAC, name, namespace, master. */
  set(change: LinkChange, opts?: CallOptions): Promise<void> {
    const bad = requestError({ kind: 'link', op: 'set', link: change });
    if (bad) return Promise.reject(bad);
    return withResolvedNs([change.netns], ([ns]) => this.ex.exec({ kind: 'link', op: 'set', link: { ...change, netns: ns } }, opts));
  }

  /** Sets a link up or down. */
  setUp(ref: LinkRef | string | number, up: boolean, opts?: CallOptions): Promise<void> {
    return this.set({ ...toRef(ref), up }, opts);
  }

  /** Deletes a link (a veth's peer goes with it). */
  del(ref: LinkRef | string | number, opts?: CallOptions): Promise<void> {
    return this.ex.exec({ kind: 'link', op: 'del', link: toRef(ref) }, opts);
  }
}

function linkOnly(buf: Uint8Array, m: NlMsg): Link | undefined {
  return m.type === C.RTM_NEWLINK ? decodeLink(buf, m) : undefined;
}

function toRef(ref: LinkRef | string | number): LinkRef {
  return typeof ref === 'string' ? { name: ref } : typeof ref === 'number' ? { index: ref } : ref;
}

/** Opens `{ name }` namespaces as fds for the duration of `fn`. */
async function withResolvedNs<T>(targets: (NsTarget | undefined)[], fn: (resolved: (NsTarget | undefined)[]) => Promise<T>): Promise<T> {
  const opened: number[] = [];
  try {
    const resolved = targets.map((t) => {
      if (!t || !('name' in t)) return t;
      const fd = openNetnsFd(t.name);
      opened.push(fd);
      return { fd };
    });
    return await fn(resolved);
  } finally {
    for (const fd of opened) closeSync(fd);
  }
}

/** Addresses: add, delete, list (IPv4 and IPv6). */
export class Addresses {
  constructor(private readonly ex: Executor) {}

  add(a: AddressSpec, opts?: CallOptions): Promise<void> {
    return this.ex.exec({ kind: 'address', op: 'add', address: a }, opts);
  }

  del(a: AddressSpec, opts?: CallOptions): Promise<void> {
    return this.ex.exec({ kind: 'address', op: 'del', address: a }, opts);
  }

  /** Addresses, optionally of one family and/or interface (filtered client-side too). */
  async list(f: { family?: IpFamily; index?: number } = {}, opts?: CallOptions): Promise<Address[]> {
    const all = await query(this.ex, { what: { op: 'address.list', summary: JSON.stringify(f) }, encode: (w, s) => encodeAddressDump(w, f, s), decode: decodeAddress }, opts);
    return all.filter((a) => (f.family === undefined || a.family === f.family) && (f.index === undefined || a.index === f.index));
  }
}

/** Routes: add, replace, delete, dump (IPv4 and IPv6). */
export class Routes {
  constructor(private readonly ex: Executor) {}

  add(r: RouteSpec, opts?: CallOptions): Promise<void> {
    return this.ex.exec({ kind: 'route', op: 'add', route: r }, opts);
  }

  replace(r: RouteSpec, opts?: CallOptions): Promise<void> {
    return this.ex.exec({ kind: 'route', op: 'replace', route: r }, opts);
  }

  del(r: RouteSpec, opts?: CallOptions): Promise<void> {
    return this.ex.exec({ kind: 'route', op: 'del', route: r }, opts);
  }

  /**
   * Routes matching `f`. Table, protocol, type and oif are sent to the kernel (filtered there
   * under NETLINK_GET_STRICT_CHK) and checked again here, so the result is exact either way.
   * A table that does not exist yields [] (the kernel answers ENOENT).
   */
  async dump(f: RouteFilter = {}, opts?: CallOptions): Promise<Route[]> {
    const decode = (buf: Uint8Array, m: NlMsg): Route | undefined => {
      if (m.type !== C.RTM_NEWROUTE) return undefined;
      const r = decodeRoute(buf, m);
      return r && routeMatches(r, f) ? r : undefined;
    };
    return query(this.ex, { what: { op: 'route.dump', summary: JSON.stringify(f) }, encode: (w, s) => encodeRouteDump(w, f, s), decode, emptyOn: [ENOENT] }, opts);
  }
}

/** Neighbours (ARP / NDP) and bridge FDB entries: add, replace, append, delete, list. */
export class Neighbours {
  constructor(private readonly ex: Executor) {}

  add(n: NeighSpec, opts?: CallOptions): Promise<void> {
    return this.ex.exec({ kind: 'neigh', op: 'add', neigh: n }, opts);
  }

  replace(n: NeighSpec, opts?: CallOptions): Promise<void> {
    return this.ex.exec({ kind: 'neigh', op: 'replace', neigh: n }, opts);
  }

  /** Appends an FDB entry (several VTEPs for one MAC, e.g. the all-zero MAC for flooding). */
  append(n: NeighSpec, opts?: CallOptions): Promise<void> {
    return this.ex.exec({ kind: 'neigh', op: 'append', neigh: n }, opts);
  }

  del(n: NeighSpec, opts?: CallOptions): Promise<void> {
    return this.ex.exec({ kind: 'neigh', op: 'del', neigh: n }, opts);
  }

  /** Entries of one table (4: ARP, 6: NDP, 'bridge': FDB), optionally of one interface. */
  async list(family: NeighFamily, index?: number, opts?: CallOptions): Promise<Neigh[]> {
    const all = await query(this.ex, { what: { op: 'neigh.list', summary: String(family) }, encode: (w, s) => encodeNeighDump(w, { family, index }, s), decode: (b, m) => (m.type === C.RTM_NEWNEIGH ? decodeNeigh(b, m) : undefined) }, opts);
    return all.filter((n) => n.family === family && (index === undefined || n.index === index));
  }
}
