// Root test: notifications and receive-buffer overflow, inside TestNet namespaces only.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { poll, TestNet, type Netns } from '@tabby/testkit';
import { Netlink, type Request, type SubscriptionItem } from '../src/index.js';

const isRoot = process.getuid?.() === 0;

/** Collects a subscription's items in the background. */
function collect(sub: AsyncIterable<SubscriptionItem>): SubscriptionItem[] {
  const items: SubscriptionItem[] = [];
  void (async () => {
    for await (const it of sub) items.push(it);
  })();
  return items;
}

describe.skipIf(!isRoot)('notifications (RTNLGRP_*) and ENOBUFS', () => {
  const net = new TestNet();
  let ns: Netns;
  let nl: Netlink;

  beforeAll(async () => {
    ns = await net.netns('ev');
    nl = await Netlink.open({ netns: ns.name });
  });

  afterAll(async () => {
    nl?.close();
    await net.cleanup();
  });

  it('streams typed link, address, route and neighbour events', async () => {
    const sub = nl.subscribe(['link', 'ipv4-addr', 'ipv6-addr', 'ipv4-route', 'ipv6-route', 'neigh']);
    const items = collect(sub);
    await nl.links.add({ name: 'e0', up: true, info: { kind: 'veth', peer: { name: 'e1' } } });
    await nl.links.setUp('e1', true);
    const e0 = (await nl.links.get('e0')).index;
    await nl.addresses.add({ index: e0, address: '10.5.0.1/24' });
    await nl.routes.add({ dst: '10.6.0.0/24', gateway: '10.5.0.2', protocol: 80 });
    await nl.neighbours.add({ family: 4, index: e0, dst: '10.5.0.2', lladdr: '66:00:00:00:00:02' });
    await nl.routes.del({ dst: '10.6.0.0/24', protocol: 80 });
    await nl.neighbours.del({ family: 4, index: e0, dst: '10.5.0.2' });
    await nl.links.del('e0');
    const has = (pred: (i: SubscriptionItem) => boolean): boolean => items.some(pred);
    await poll(() =>
      has((i) => i.type === 'link' && i.action === 'new' && i.link.name === 'e0') &&
      has((i) => i.type === 'address' && i.action === 'new' && i.address.address === '10.5.0.1/24') &&
      has((i) => i.type === 'route' && i.action === 'new' && i.route.dst === '10.6.0.0/24' && i.route.protocol === 80) &&
      has((i) => i.type === 'neigh' && i.action === 'new' && i.neigh.dst === '10.5.0.2') &&
      has((i) => i.type === 'route' && i.action === 'del' && i.route.dst === '10.6.0.0/24') &&
      has((i) => i.type === 'neigh' && i.action === 'del' && i.neigh.dst === '10.5.0.2') &&
      has((i) => i.type === 'link' && i.action === 'del' && i.link.name === 'e0'),
    { what: 'all event kinds', timeout: 10_000 });
    expect(items.some((i) => i.type === 'overrun')).toBe(false);
    sub.close();
  });

  it('reports a notification overflow as an overrun item and keeps streaming', async () => {
    await nl.links.add({ name: 'f0', up: true, info: { kind: 'veth', peer: { name: 'f1' } } });
    await nl.links.setUp('f1', true);
    const f0 = (await nl.links.get('f0')).index;
    const sub = nl.subscribe(['ipv4-route']);
    const small = await Netlink.open({ netns: ns.name, socket: { rcvbuf: 4096 } });
    const tiny = small.subscribe(['ipv4-route']);
    const items = collect(tiny);
    const overruns: number[] = [];
    tiny.on('overrun', () => overruns.push(Date.now()));
    const flood: Request[] = [];
    for (let i = 0; i < 4000; i++) flood.push({ kind: 'route', op: 'add', route: { dst: `10.40.${i >> 8}.${i & 255}/32`, oif: f0, protocol: 80 } });
    const res = await nl.batch(flood); // notifications pile up faster than the tiny socket is read
    expect(res.succeeded).toBe(4000);
    await poll(() => items.some((i) => i.type === 'overrun'), { what: 'overrun item' });
    expect(overruns.length).toBeGreaterThan(0);
    // Recovery: the stream goes on, and a full re-read gives the true state.
    await nl.routes.add({ dst: '10.41.0.1/32', oif: f0, protocol: 80 });
    await poll(() => items.some((i) => i.type === 'route' && i.route.dst === '10.41.0.1/32'), { what: 'event after overrun' });
    expect((await small.routes.dump({ family: 4, protocol: 80, oif: f0 })).length).toBe(4001);
    tiny.close();
    sub.close();
    small.close();
  });

  it('fails requests whose acks were lost to an overflow, and the socket stays usable', async () => {
    await nl.links.add({ name: 'g0', up: true, info: { kind: 'veth', peer: { name: 'g1' } } });
    const g0 = (await nl.links.get('g0')).index;
    const small = await Netlink.open({ netns: ns.name, socket: { rcvbuf: 1024, batchSize: 16 } });
    try {
      const reqs: Request[] = [];
      for (let i = 0; i < 512; i++) reqs.push({ kind: 'route', op: 'add', route: { dst: `10.50.${i >> 8}.${i & 255}/32`, oif: g0, protocol: 80 } });
      const res = await small.batch(reqs);
      expect(res.results).toHaveLength(512);
      expect(res.failed.length).toBeGreaterThan(0);
      expect(new Set(res.failed.map((f) => f.error.code))).toEqual(new Set(['NETLINK_OVERRUN']));
      // The kernel applied every request; the lost acks only made the outcome unknown.
      expect((await small.routes.dump({ family: 4, protocol: 80, oif: g0 })).length).toBe(512);
    } finally {
      small.close();
    }
  });
});
