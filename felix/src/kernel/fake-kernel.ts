/**
 * An in-memory Kernel for unit tests of the drivers and of Felix: links, addresses, routes
 * (protocol 80, main table) and neighbours as plain data, change events like the kernel's, and
 * failure injection (`failNext`: the next matching requests fail with an errno; `failReads`:
 * read-backs throw). Not a kernel simulator: it enforces what felix relies on (EEXIST on add,
 * ESRCH on deleting a missing route, ENODEV for unknown indexes) and nothing more.
 */
import { EventEmitter } from 'node:events';
import { NetlinkError, type Address, type BatchItemResult, type BatchResult, type Link, type Neigh, type NeighFamily, type Request, type Route, type RouteSpec } from '@tabby/netlink';
import { RTPROT_TABBY, RT_TABLE_MAIN, type Kernel, type KernelWatch, type SysctlWrite, type SysctlWriter } from './kernel.js';

const ERRNO: Record<string, number> = { EEXIST: 17, ESRCH: 3, ENODEV: 19, EBUSY: 16, EINTR: 4, ENOBUFS: 105, EOPNOTSUPP: 95 };

function fail(errnoName: string, req: Request): BatchItemResult {
  const errno = ERRNO[errnoName] ?? 22;
  return { ok: false, error: new NetlinkError('NETLINK_KERNEL_ERROR', `${req.kind}.${req.op}: ${errnoName}`, { errno, errnoName }) };
}

/** An in-memory kernel with failure injection. */
export class FakeNetlinkKernel implements Kernel {
  readonly links = new Map<number, Link>();
  readonly addresses: Address[] = [];
  readonly routes = new Map<string, Route>();
  readonly neighbours: Neigh[] = [];
  /** Every request applied (or refused), for assertions. */
  readonly log: Request[] = [];
  /** Link kinds this "kernel" cannot create (e.g. 'ipip' on a kernel without the module). */
  readonly unsupportedKinds = new Set<string>();
  private readonly watchers = new Set<EventEmitter>();
  private readonly injected: Array<{ match: (r: Request) => boolean; errno: string; times: number }> = [];
  private nextIndex = 2;
  failReads = 0;

  constructor() {
    this.links.set(1, { index: 1, name: 'lo', flags: 1, up: true });
  }

  /** The next `times` requests matching `match` fail with `errno` (e.g. 'EBUSY'). */
  failNext(match: (r: Request) => boolean, errno: string, times = 1): void {
    this.injected.push({ match, errno, times });
  }

  /** Adds a plain device (an underlay NIC, a pod's veth) as another process would. */
  addDevice(name: string, extra: Partial<Link> = {}): Link {
    const l: Link = { index: this.nextIndex++, name, flags: 1, up: true, ...extra };
    this.links.set(l.index, l);
    this.emit({ type: 'link', action: 'new', link: l });
    return l;
  }

  /** Removes a device and its routes, addresses and neighbours, as the kernel does. */
  removeDevice(name: string): void {
    const l = [...this.links.values()].find((x) => x.name === name);
    if (!l) return;
    this.links.delete(l.index);
    for (const [k, r] of this.routes) if (r.oif === l.index) this.routes.delete(k);
    this.emit({ type: 'link', action: 'del', link: l });
  }

  /** Deletes a route behind felix's back (drift). */
  dropRoute(dst: string): void {
    const r = this.routes.get(dst);
    if (!r) return;
    this.routes.delete(dst);
    this.emit({ type: 'route', action: 'del', route: r });
  }

  private emit(ev: unknown): void {
    for (const w of this.watchers) w.emit('event', ev);
  }

  private reads(): void {
    if (this.failReads > 0) {
      this.failReads--;
      throw new NetlinkError('NETLINK_OVERRUN', 'injected read failure');
    }
  }

  async listLinks(): Promise<Link[]> {
    this.reads();
    return [...this.links.values()].map((l) => ({ ...l }));
  }

  async listAddresses(family: 4 | 6): Promise<Address[]> {
    this.reads();
    return this.addresses.filter((a) => a.family === family).map((a) => ({ ...a }));
  }

  async ownedRoutes(): Promise<Route[]> {
    this.reads();
    return [...this.routes.values()].map((r) => ({ ...r }));
  }

  async listNeighbours(family: NeighFamily, index: number): Promise<Neigh[]> {
    this.reads();
    return this.neighbours.filter((n) => n.family === family && n.index === index).map((n) => ({ ...n }));
  }

  async batch(reqs: Request[]): Promise<BatchResult> {
    const results = reqs.map((r) => this.one(r));
    const failed = results.flatMap((r, index) => (r.ok ? [] : [{ index, request: reqs[index]!, error: r.error }]));
    return { results, succeeded: results.length - failed.length, failed };
  }

  private one(req: Request): BatchItemResult {
    this.log.push(req);
    const inj = this.injected.find((i) => i.times > 0 && i.match(req));
    if (inj) {
      inj.times--;
      return fail(inj.errno, req);
    }
    switch (req.kind) {
      case 'route':
        return this.route(req.op, req.route, req);
      case 'link':
        return this.link(req);
      case 'address': {
        const a = req.address;
        const i = this.addresses.findIndex((x) => x.index === a.index && x.address === a.address);
        if (req.op === 'add') {
          if (i >= 0) return fail('EEXIST', req);
          this.addresses.push({ family: a.address.includes(':') ? 6 : 4, index: a.index, address: a.address, prefixLen: Number(a.address.split('/')[1]), scope: 0, flags: 0 });
        } else if (i >= 0) this.addresses.splice(i, 1);
        else return fail('EADDRNOTAVAIL', req);
        return { ok: true };
      }
      case 'neigh': {
        const n = req.neigh;
        const i = this.neighbours.findIndex((x) => x.family === n.family && x.index === n.index && (n.family === 'bridge' ? x.lladdr === n.lladdr : x.dst === n.dst));
        if (req.op === 'del') {
          if (i < 0) return fail('ENOENT', req);
          this.neighbours.splice(i, 1);
          return { ok: true };
        }
        const entry: Neigh = { family: n.family, index: n.index, state: n.state ?? 0x80, flags: n.flags ?? 0, dst: n.dst, lladdr: n.lladdr };
        if (i >= 0) this.neighbours[i] = entry;
        else this.neighbours.push(entry);
        return { ok: true };
      }
      default: {
        const never: never = req;
        throw new Error(`fake kernel: unknown request ${JSON.stringify(never)}`);
      }
    }
  }

  private route(op: 'add' | 'replace' | 'del', spec: RouteSpec, req: Request): BatchItemResult {
    const existing = this.routes.get(spec.dst);
    if (op === 'del') {
      if (!existing) return fail('ESRCH', req);
      this.routes.delete(spec.dst);
      this.emit({ type: 'route', action: 'del', route: existing });
      return { ok: true };
    }
    if (op === 'add' && existing) return fail('EEXIST', req);
    if (spec.oif !== undefined && !this.links.has(spec.oif)) return fail('ENODEV', req);
    const r: Route = {
      family: spec.dst.includes(':') ? 6 : 4, dst: spec.dst, type: spec.type ?? 'unicast', typeNum: 0, table: spec.table ?? RT_TABLE_MAIN,
      protocol: spec.protocol ?? 3, scope: spec.scope ?? 0, flags: 0, onlink: spec.onlink ?? false, gateway: spec.gateway, oif: spec.oif,
    };
    if (r.protocol !== RTPROT_TABBY) return { ok: true }; // only our routes are modelled
    this.routes.set(spec.dst, r);
    this.emit({ type: 'route', action: 'new', route: r });
    return { ok: true };
  }

  private link(req: Extract<Request, { kind: 'link' }>): BatchItemResult {
    switch (req.op) {
      case 'add': {
        const spec = req.link;
        if (this.unsupportedKinds.has(spec.info.kind)) return fail('EOPNOTSUPP', req);
        if ([...this.links.values()].some((l) => l.name === spec.name)) return fail('EEXIST', req);
        const extra: Partial<Link> = { kind: spec.info.kind, mtu: spec.mtu, mac: spec.mac, up: spec.up ?? false };
        if (spec.info.kind === 'vxlan') extra.vxlan = { vni: spec.info.vni, local: spec.info.local, port: spec.info.port, dev: spec.info.dev, learning: spec.info.learning };
        this.addDevice(spec.name, extra);
        return { ok: true };
      }
      case 'set': {
        const l = req.link.index !== undefined ? this.links.get(req.link.index) : [...this.links.values()].find((x) => x.name === req.link.name);
        if (!l) return fail('ENODEV', req);
        if (req.link.up !== undefined) l.up = req.link.up;
        if (req.link.mtu !== undefined) l.mtu = req.link.mtu;
        this.emit({ type: 'link', action: 'new', link: { ...l } });
        return { ok: true };
      }
      case 'del': {
        const ref = req.link;
        const l = 'index' in ref ? this.links.get(ref.index) : [...this.links.values()].find((x) => x.name === ref.name);
        if (!l) return fail('ENODEV', req);
        this.removeDevice(l.name);
        return { ok: true };
      }
      default: {
        const never: never = req;
        throw new Error(`fake kernel: unknown link op ${JSON.stringify(never)}`);
      }
    }
  }

  watch(): KernelWatch {
    const w = new EventEmitter() as KernelWatch;
    w.close = () => this.watchers.delete(w);
    this.watchers.add(w);
    return w;
  }

  /** Tells every watcher that changes were lost. */
  overrun(): void {
    for (const w of this.watchers) w.emit('overrun');
  }

  close(): void {
    this.watchers.clear();
  }
}

/** Records sysctl writes; `failOn` makes writes to matching paths throw. */
export class FakeSysctl implements SysctlWriter {
  readonly values = new Map<string, string>();
  failOn: ((path: string) => boolean) | undefined;

  write(path: readonly string[], value: string): void {
    const key = path.join('/');
    if (this.failOn?.(key)) throw new Error(`injected sysctl failure on ${key}`);
    this.values.set(key, value);
  }

  writeAll(writes: readonly SysctlWrite[]): Array<{ index: number; error: unknown }> {
    const failures: Array<{ index: number; error: unknown }> = [];
    writes.forEach(([path, value], index) => {
      try {
        this.write(path, value);
      } catch (error: unknown) {
        failures.push({ index, error });
      }
    });
    return failures;
  }
}
