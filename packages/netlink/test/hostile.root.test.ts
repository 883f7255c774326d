// Root test: the findings of the adversarial probe (issue "netlink under hostile input"), each
// reproduced in a TestNet namespace. Nothing here touches the machine's own namespace.
import { execFileSync, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { poll, TestNet, type Netns } from '@tabby/testkit';
import { Netlink, NetlinkError, type Request, type SubscriptionItem } from '../src/index.js';

const isRoot = process.getuid?.() === 0;

describe.skipIf(!isRoot)('netlink under hostile input (real kernel, in a namespace)', () => {
  const net = new TestNet();
  let ns: Netns;
  let nl: Netlink;
  let h0: number;

  beforeAll(async () => {
    ns = await net.netns('hostile');
    nl = await Netlink.open({ netns: ns.name });
    await nl.links.add({ name: 'h0', up: true, info: { kind: 'veth', peer: { name: 'h1' } } });
    await nl.links.setUp('h1', true);
    h0 = (await nl.links.get('h0')).index;
    await nl.addresses.add({ index: h0, address: '10.77.0.1/24' });
    await nl.routes.add({ dst: '0.0.0.0/0', gateway: '10.77.0.2' });
  });

  afterAll(async () => {
    nl?.close();
    await net.cleanup();
  });

  const defaults = async (): Promise<string[]> => (await nl.routes.dump({ family: 4 })).filter((r) => r.dst === '0.0.0.0/0').map((r) => r.gateway ?? '');

  it('a listener that throws neither silences the subscription nor poisons the next native call', async () => {
    const sub = nl.subscribe(['ipv4-route']);
    const seen: string[] = [];
    const errors: unknown[] = [];
    let thrown = false;
    sub.on('event', () => {
      if (!thrown) {
        thrown = true;
        throw new Error('listener boom');
      }
    });
    sub.on('event', (ev: SubscriptionItem) => {
      if (ev.type === 'route' && ev.action === 'new') seen.push(ev.route.dst);
    });
    sub.on('error', (e: unknown) => errors.push(e));
    const reqs: Request[] = [];
    for (let i = 0; i < 101; i++) reqs.push({ kind: 'route', op: 'add', route: { dst: `10.78.0.${i}/32`, oif: h0, protocol: 80 } });
    expect((await nl.batch(reqs)).succeeded).toBe(101);
    await poll(() => seen.length >= 101, { what: '101 route events after a listener threw', timeout: 10_000 });
    expect(errors).toHaveLength(1);
    expect((errors[0] as Error).message).toBe('listener boom');
    const other = await Netlink.open({ netns: ns.name }); // the error must not surface here
    other.close();
    sub.close();
  });

  it('without an error listener, the error is an ordinary uncaught exception and events keep flowing', () => {
    const script = fileURLToPath(new URL('./fixtures/listener-throws.ts', import.meta.url));
    const res = spawnSync(process.execPath, ['--import', 'tsx', script, ns.name], { encoding: 'utf8', timeout: 60_000 });
    expect(res.stderr).not.toContain('FAIL');
    expect(res.stdout.trim().split('\n').at(-1)).toBe('uncaught=1 events=50');
  });

  it('a prefix that is not one never becomes the default route', async () => {
    const before = await defaults();
    expect(before).toEqual(['10.77.0.2']);
    for (const dst of ['garbage/0', '10.2.0.0/ ', '/0x18', '10.1.0.0/24.9']) {
      await expect(nl.routes.add({ dst, oif: h0, protocol: 80 })).rejects.toMatchObject({ code: 'NETLINK_INVALID_REQUEST' });
    }
    await expect(nl.routes.del({ dst: 'not-a-prefix/0' })).rejects.toMatchObject({ code: 'NETLINK_INVALID_REQUEST' });
    expect(await defaults()).toEqual(before);
    expect(await nl.routes.dump({ family: 4, protocol: 80, oif: h0 }).then((rs) => rs.filter((r) => r.dst.endsWith('/24')))).toEqual([]);
  });

  it('out-of-range numbers are refused, not wrapped into other tables, protocols or MTUs', async () => {
    const local = (await nl.routes.dump({ table: 255 })).length;
    await expect(nl.routes.add({ dst: '10.79.0.0/24', oif: h0, table: -1 })).rejects.toMatchObject({ code: 'NETLINK_INVALID_REQUEST' });
    await expect(nl.routes.add({ dst: '10.79.0.0/24', oif: 2 ** 32 + h0 })).rejects.toMatchObject({ code: 'NETLINK_INVALID_REQUEST' });
    await expect(nl.routes.add({ dst: '10.79.0.0/24', oif: h0, protocol: 336 })).rejects.toMatchObject({ code: 'NETLINK_INVALID_REQUEST' });
    await expect(nl.links.set({ index: h0, mtu: 2 ** 32 + 1400 })).rejects.toMatchObject({ code: 'NETLINK_INVALID_REQUEST' });
    expect((await nl.routes.dump({ table: 255 })).length).toBe(local);
    expect((await nl.routes.dump({ family: 4 })).some((r) => r.dst === '10.79.0.0/24')).toBe(false);
    expect((await nl.links.get(h0)).mtu).toBe(1500);
  });

  it('a multipath route too large to encode is rejected, never installed with a few hops', async () => {
    const hops = Array.from({ length: 4100 }, () => ({ gateway: '10.77.0.2', oif: h0 }));
    await expect(nl.routes.add({ dst: '10.80.0.0/24', multipath: hops })).rejects.toMatchObject({ code: 'NETLINK_INVALID_REQUEST' });
    expect((await nl.routes.dump({ family: 4 })).some((r) => r.dst === '10.80.0.0/24')).toBe(false);
  });

  it('a link whose message is near 64 KiB (hundreds of altnames) is listed, read and notified', async () => {
    await nl.links.add({ name: 'big0', info: { kind: 'veth', peer: { name: 'big1' } } });
    const sub = nl.subscribe(['link']);
    const items: SubscriptionItem[] = [];
    sub.on('event', (ev: SubscriptionItem) => items.push(ev));
    sub.on('overrun', () => items.push({ type: 'overrun' }));
    const args = ['-n', ns.name, '-batch', '-'];
    const lines = Array.from({ length: 490 }, (_, i) => `link property add dev big0 altname ${`a${i}`.padEnd(120, 'x')}`);
    execFileSync('ip', args, { input: lines.join('\n') });
    expect((await nl.links.list()).map((l) => l.name)).toContain('big0');
    expect((await nl.links.get('big0')).name).toBe('big0');
    await nl.links.set({ name: 'big0', mtu: 1400 });
    // Either the event itself, or an overrun that tells the consumer to re-read: never nothing.
    await poll(() => items.some((i) => i.type === 'overrun' || (i.type === 'link' && i.link.name === 'big0' && i.link.mtu === 1400)), { what: 'big link event', timeout: 10_000 });
    sub.close();
    await nl.links.del('big0');
  });

  it('a batch with malformed items fails them per item with typed errors, never throws half-way', async () => {
    const reqs = [
      { kind: 'route', op: 'add', route: { dst: '10.81.0.1/32', oif: h0, protocol: 80 } },
      null,
      { kind: 'route', op: 'add', route: { dst: '10.81.0.2/32', oif: 1.5 } },
    ] as unknown as Request[];
    const res = await nl.batch(reqs);
    expect(res.succeeded).toBe(1);
    expect(res.results.map((r) => (r.ok ? 'ok' : r.error.code))).toEqual(['ok', 'NETLINK_INVALID_REQUEST', 'NETLINK_INVALID_REQUEST']);
    expect(res.failed[1]?.error.message).toContain('batch item 2: route oif 1.5');
    const mine = (await nl.routes.dump({ family: 4, protocol: 80 })).map((r) => r.dst);
    expect(mine).toContain('10.81.0.1/32');
    expect(mine).not.toContain('10.81.0.2/32');
  });

  it('errnos keep their sign: a missing peer namespace is ENOENT', async () => {
    const err = await nl.links.add({ name: 'x0', info: { kind: 'veth', peer: { name: 'x1', netns: { name: `${ns.name}-missing` } } } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NetlinkError);
    expect((err as NetlinkError).errnoName).toBe('ENOENT');
    expect((err as NetlinkError).errno).toBe(2);
  });

  it('subscribe() after close() throws instead of leaking a socket; buffers start small', async () => {
    const c = await Netlink.open({ netns: ns.name });
    expect(c.sock.bufferBytes).toBeLessThanOrEqual(512 * 1024);
    const sub = c.subscribe(['link']);
    c.close();
    expect(() => c.subscribe(['link'])).toThrow(NetlinkError);
    expect(sub.listenerCount('event')).toBe(0);
  });

  it('an iterator that is never read holds a bounded queue and reports the loss as an overrun', async () => {
    const sub = nl.subscribe(['ipv4-route'], { maxQueue: 10 });
    let delivered = 0;
    sub.on('event', () => delivered++);
    const it = sub[Symbol.asyncIterator]();
    const reqs: Request[] = [];
    for (let i = 0; i < 100; i++) reqs.push({ kind: 'route', op: 'add', route: { dst: `10.82.0.${i}/32`, oif: h0, protocol: 80 } });
    await nl.batch(reqs);
    await poll(() => delivered >= 100, { what: '100 route events delivered', timeout: 10_000 });
    expect(sub.pending).toBeLessThanOrEqual(10);
    const first = await it.next();
    expect(first.value).toEqual({ type: 'overrun' });
    sub.close();
  });
});
