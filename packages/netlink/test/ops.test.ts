// Unit tests (no root): the socket layer over a fake transport that injects failures.
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import {
  createNetlinkMetrics, forEachMsg, Netlink, NLM_F_ACK_TLVS, NLM_F_CAPPED, NLM_F_DUMP_INTR, NLM_F_MULTI, NLMSG_DONE, NLMSG_ERROR, NLMSGERR_ATTR_MSG, NlWriter,
  RTM_GETROUTE, RTM_NEWROUTE, type NativeSocket, type NlMsg, type Request,
} from '../src/index.js';

type Reply = { errno: number; extAck?: string } | 'drop' | 'later';

/** A NativeSocket that answers every request through `policy` (acks now, later, or never). */
class FakeSocket implements NativeSocket {
  readonly fd = 99;
  readonly portId = 1234;
  sends = 0;
  closed = false;
  queue: Uint8Array[] = [];
  later: Uint8Array[] = [];
  pendingErr = 0;
  pollCb: ((n: number) => void) | undefined;
  pollBuf: Uint8Array | undefined;
  dumpReplies: (seq: number) => Uint8Array[] = () => [];
  constructor(private readonly policy: (m: NlMsg, index: number) => Reply = () => ({ errno: 0 })) {}

  private index = 0;
  send(buf: Uint8Array, off: number, len: number): number {
    this.sends++;
    const b = buf.slice(off, off + len);
    forEachMsg(b, 0, b.length, (m) => {
      if (m.type === RTM_GETROUTE) {
        this.queue.push(...this.dumpReplies(m.seq));
        return;
      }
      const r = this.policy(m, this.index++);
      if (r === 'drop') this.pendingErr = 105;
      else if (r === 'later') this.later.push(ack(m.seq, 0));
      else this.queue.push(ack(m.seq, r.errno, r.extAck));
    });
    return len;
  }

  drain(buf: Uint8Array): number {
    if (this.pendingErr) {
      const e = this.pendingErr;
      this.pendingErr = 0;
      return -e;
    }
    let off = 0;
    while (this.queue.length && off + this.queue[0]!.length <= buf.length) {
      const d = this.queue.shift()!;
      buf.set(d, off);
      off += d.length;
    }
    return off;
  }

  setOption(): void {}
  getOption(): number {
    return 64 << 20;
  }
  readonly truncated = 0;
  setPollRef(): void {}
  startPoll(buf: Uint8Array, _slot: number, cb: (n: number) => void): void {
    this.pollBuf = buf;
    this.pollCb = cb;
  }
  stopPoll(): void {
    this.pollCb = undefined;
  }
  close(): void {
    this.closed = true;
  }

  /** Delivers the deferred acks through the poll callback, as libuv would. */
  deliverLater(): void {
    this.queue.push(...this.later.splice(0));
    const n = this.drain(this.pollBuf!);
    this.pollCb?.(n);
  }
}

function ack(seq: number, errno: number, extAck?: string): Uint8Array {
  const w = new NlWriter(64);
  const start = w.beginMsg(NLMSG_ERROR, NLM_F_CAPPED | (extAck ? NLM_F_ACK_TLVS : 0), seq);
  const at = w.zeros(4 + 16);
  w.u32At(at, -errno >>> 0);
  w.u32At(at + 4, 16);
  w.u32At(at + 12, seq);
  if (extAck) w.attrStr(NLMSGERR_ATTR_MSG, extAck);
  w.endMsg(start);
  return w.bytes();
}

function routeMsg(seq: number, i: number, flags = NLM_F_MULTI): Uint8Array {
  const w = new NlWriter(64);
  const s = w.beginMsg(RTM_NEWROUTE, flags, seq);
  const h = w.zeros(12);
  w.buf[h] = 2;
  w.buf[h + 1] = 32;
  w.buf[h + 4] = 254;
  w.buf[h + 5] = 80;
  w.buf[h + 7] = 1;
  w.attrIp(1, 4, `10.0.0.${i}`);
  w.endMsg(s);
  return w.bytes();
}

function done(seq: number, errno = 0): Uint8Array {
  const w = new NlWriter(32);
  const s = w.beginMsg(NLMSG_DONE, NLM_F_MULTI, seq);
  w.u32At(w.zeros(4), -errno >>> 0);
  w.endMsg(s);
  return w.bytes();
}

const routes = (n: number): Request[] =>
  Array.from({ length: n }, (_, i) => ({ kind: 'route', op: 'add', route: { dst: `10.1.${i >> 8}.${i & 255}/32`, oif: 2, protocol: 80 } }) as Request);

async function client(fake: FakeSocket, batchSize?: number): Promise<Netlink> {
  return Netlink.open({ components: { openSocket: () => fake }, socket: { batchSize } });
}

describe('batch over a fake transport', () => {
  it('reports each request\'s outcome in order, with errno and extended ack', async () => {
    const fake = new FakeSocket((_m, i) => (i === 3 ? { errno: 17 } : i === 7 ? { errno: 101, extAck: 'Nexthop has invalid gateway' } : { errno: 0 }));
    const nl = await client(fake, 4);
    const res = await nl.batch(routes(10));
    expect(fake.sends).toBe(3); // chunks of 4
    expect(res.succeeded).toBe(8);
    expect(res.failed.map((f) => [f.index, f.error.errnoName, f.error.extAck])).toEqual([
      [3, 'EEXIST', undefined],
      [7, 'ENETUNREACH', 'Nexthop has invalid gateway'],
    ]);
    expect(res.failed[1]!.error.request).toEqual({ op: 'route.add', summary: '10.1.0.7/32 dev 2 proto 80' });
    nl.close();
  });

  it('waits for acks that arrive later through the poll callback', async () => {
    const fake = new FakeSocket(() => 'later');
    const nl = await client(fake);
    const p = nl.batch(routes(5));
    await new Promise((r) => setImmediate(r));
    expect(fake.pollCb).toBeDefined(); // polling while requests are in flight
    fake.deliverLater();
    expect((await p).succeeded).toBe(5);
    expect(fake.pollCb).toBeUndefined(); // and not when idle
    nl.close();
  });

  it('fails in-flight requests with NETLINK_OVERRUN when acks are lost', async () => {
    const fake = new FakeSocket((_m, i) => (i === 2 ? 'drop' : { errno: 0 }));
    const nl = await client(fake, 4);
    const res = await nl.batch(routes(8));
    // The kernel reports the overflow before the queued acks: the whole chunk's outcome is unknown.
    expect(res.results.map((r) => (r.ok ? 'ok' : r.error.code))).toEqual(['NETLINK_OVERRUN', 'NETLINK_OVERRUN', 'NETLINK_OVERRUN', 'NETLINK_OVERRUN', 'ok', 'ok', 'ok', 'ok']);
    nl.close();
  });

  it('fails requests in flight with NETLINK_CLOSED on close, and later ones too', async () => {
    const fake = new FakeSocket(() => 'later');
    const nl = await client(fake);
    const p = nl.batch(routes(3));
    nl.close();
    const res = await p;
    expect(res.failed.map((f) => f.error.code)).toEqual(['NETLINK_CLOSED', 'NETLINK_CLOSED', 'NETLINK_CLOSED']);
    expect(fake.closed).toBe(true);
    await expect(nl.routes.add({ dst: '10.0.0.1/32' })).rejects.toMatchObject({ code: 'NETLINK_CLOSED' });
  });

  it('reports the unsent rest of an aborted batch as NETLINK_ABORTED', async () => {
    const fake = new FakeSocket();
    const nl = await client(fake, 2);
    const ac = new AbortController();
    const p = nl.batch(routes(6), { signal: ac.signal });
    ac.abort(); // after the first chunk went out synchronously
    const res = await p;
    expect(res.results.map((r) => (r.ok ? 'ok' : r.error.code))).toEqual(['ok', 'ok', 'NETLINK_ABORTED', 'NETLINK_ABORTED', 'NETLINK_ABORTED', 'NETLINK_ABORTED']);
    nl.close();
  });

  it('turns a failed sendto into per-request NETLINK_SYSCALL errors', async () => {
    const fake = new FakeSocket();
    fake.send = () => {
      throw Object.assign(new Error('sendto: Message too long'), { errno: 90, syscall: 'sendto' });
    };
    const nl = await client(fake);
    const res = await nl.batch(routes(2));
    expect(res.failed.map((f) => [f.error.code, f.error.errnoName])).toEqual([['NETLINK_SYSCALL', 'EMSGSIZE'], ['NETLINK_SYSCALL', 'EMSGSIZE']]);
    nl.close();
  });
});

describe('dumps over a fake transport', () => {
  it('collects a multi-part dump until NLMSG_DONE', async () => {
    const fake = new FakeSocket();
    fake.dumpReplies = (seq) => [routeMsg(seq, 1), routeMsg(seq, 2), done(seq)];
    const nl = await client(fake);
    expect((await nl.routes.dump({ protocol: 80 })).map((r) => r.dst)).toEqual(['10.0.0.1/32', '10.0.0.2/32']);
    nl.close();
  });

  it('retries a dump the kernel flags inconsistent (NLM_F_DUMP_INTR)', async () => {
    const fake = new FakeSocket();
    let calls = 0;
    fake.dumpReplies = (seq) => (++calls === 1 ? [routeMsg(seq, 1, NLM_F_MULTI | NLM_F_DUMP_INTR), done(seq)] : [routeMsg(seq, 9), done(seq)]);
    const nl = await client(fake);
    expect((await nl.routes.dump()).map((r) => r.dst)).toEqual(['10.0.0.9/32']);
    expect(calls).toBe(2);
    nl.close();
  });

  it('rejects with a typed error when the dump fails, and maps ENOENT for a missing table to []', async () => {
    const fake = new FakeSocket();
    fake.dumpReplies = (seq) => [done(seq, 22)];
    const nl = await client(fake);
    await expect(nl.routes.dump()).rejects.toMatchObject({ code: 'NETLINK_KERNEL_ERROR', errnoName: 'EINVAL' });
    fake.dumpReplies = (seq) => [ack(seq, 2, 'ipv4: FIB table does not exist')];
    expect(await nl.routes.dump({ table: 77 })).toEqual([]);
    nl.close();
  });
});

describe('subscriptions over a fake transport', () => {
  it('delivers typed events and overruns, and can be closed from inside a handler', async () => {
    const fake = new FakeSocket();
    const nl = await client(fake);
    const sub = nl.subscribe(['ipv4-route']);
    const seen: string[] = [];
    sub.on('overrun', () => seen.push('overrun'));
    sub.on('event', (ev: { type: string; route?: { dst: string } }) => {
      seen.push(`${ev.type} ${ev.route?.dst}`);
      if (ev.route?.dst === '10.0.0.3/32') sub.close(); // r4 is then never delivered
    });
    fake.queue.push(routeMsg(0, 1, 0), routeMsg(0, 2, 0));
    fake.pollCb!(fake.drain(fake.pollBuf!));
    fake.pendingErr = 105;
    fake.queue.push(routeMsg(0, 3, 0), routeMsg(0, 4, 0));
    fake.pollCb!(fake.drain(fake.pollBuf!)); // overrun first, then what was still queued
    expect(seen).toEqual(['route 10.0.0.1/32', 'route 10.0.0.2/32', 'overrun', 'route 10.0.0.3/32']);
    expect(fake.closed).toBe(true);
    nl.close();
  });

  it('yields items to an async iterator until closed', async () => {
    const fake = new FakeSocket();
    const nl = await client(fake);
    const sub = nl.subscribe(['ipv4-route']);
    const it = sub[Symbol.asyncIterator]();
    fake.queue.push(routeMsg(0, 7, 0));
    fake.pollCb!(fake.drain(fake.pollBuf!));
    expect(await it.next()).toMatchObject({ done: false, value: { type: 'route', action: 'new', route: { dst: '10.0.0.7/32' } } });
    const pending = it.next();
    sub.close();
    expect(await pending).toEqual({ value: undefined, done: true });
    nl.close();
  });
});

describe('metrics', () => {
  it('counts requests, failures by errno, overruns and events in an injected registry', async () => {
    const registry = new Registry();
    const metrics = createNetlinkMetrics(registry);
    const fake = new FakeSocket((_m, i) => (i === 1 ? { errno: 17 } : i === 3 ? 'drop' : { errno: 0 }));
    const nl = await Netlink.open({ components: { openSocket: () => fake, metrics }, socket: { batchSize: 2 } });
    await nl.batch(routes(4));
    const text = await registry.metrics();
    expect(text).toContain('tabby_netlink_requests_total 4');
    expect(text).toContain('tabby_netlink_request_failures_total{op="route.add",reason="EEXIST"} 1');
    expect(text).toContain('tabby_netlink_request_failures_total{op="route.add",reason="ENOBUFS"} 2');
    expect(text).toContain('tabby_netlink_overruns_total{socket="request"} 1');
    const sub = nl.subscribe(['ipv4-route']);
    fake.queue.push(routeMsg(0, 1, 0));
    fake.pollCb!(fake.drain(fake.pollBuf!));
    expect(await registry.metrics()).toContain('tabby_netlink_events_total{type="route"} 1');
    sub.close();
    nl.close();
  });
});
