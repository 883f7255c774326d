// Root test: runs against the real kernel, only inside namespaces created by TestNet.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { statSync } from 'node:fs';
import { poll, TestNet, type Netns } from '@tabby/testkit';
import { Netlink, NetlinkError, type Request } from '../src/index.js';

const isRoot = process.getuid?.() === 0;

async function rejection(p: Promise<unknown>): Promise<NetlinkError> {
  try {
    await p;
  } catch (e: unknown) {
    if (e instanceof NetlinkError) return e;
    throw e;
  }
  throw new Error('expected a rejection');
}

describe.skipIf(!isRoot)('Netlink client against the kernel (in test namespaces)', () => {
  const net = new TestNet();
  let a: Netns;
  let b: Netns;
  let nl: Netlink;
  let v0: number;

  beforeAll(async () => {
    a = await net.netns('cla');
    b = await net.netns('clb');
    nl = await Netlink.open({ netns: a.name });
    await nl.links.add({ name: 'v0', up: true, info: { kind: 'veth', peer: { name: 'v1' } } });
    await nl.links.setUp('v1', true);
    v0 = (await nl.links.get('v0')).index;
    await nl.addresses.add({ index: v0, address: '10.0.0.1/24' });
    await nl.addresses.add({ index: v0, address: 'fd00::1/64' });
  });

  afterAll(async () => {
    nl?.close();
    await net.cleanup();
  });

  it('creates a veth with its peer directly in another namespace, and reads both back', async () => {
    await nl.links.add({ name: 'x0', mtu: 1400, mac: 'ee:ee:ee:ee:ee:ee', info: { kind: 'veth', peer: { name: 'eth0', netns: { name: b.name } } } });
    const x0 = await nl.links.get('x0');
    expect(x0).toMatchObject({ name: 'x0', kind: 'veth', mtu: 1400, mac: 'ee:ee:ee:ee:ee:ee', up: false });
    expect(await nl.links.find('eth0')).toBeUndefined();
    const nlb = await Netlink.open({ netns: b.path });
    try {
      expect(await nlb.links.get('eth0')).toMatchObject({ name: 'eth0', kind: 'veth' });
    } finally {
      nlb.close();
    }
    expect((await b.ip('-o', 'link', 'show', 'eth0'))).toContain('eth0@');
    const names = (await nl.links.list()).map((l) => l.name);
    expect(names).toEqual(expect.arrayContaining(['lo', 'v0', 'v1', 'x0']));
  });

  it('creates a veth whose peer goes to the namespace of a process (IFLA_NET_NS_PID)', async () => {
    const sleeper = net.spawn(b, 'sleep', ['60']);
    // `ip netns exec` switches namespace before exec'ing sleep: wait until the pid is inside.
    await poll(() => statSync(`/proc/${sleeper.pid}/ns/net`).ino === statSync(b.path).ino, { what: 'sleeper inside the namespace' });
    await nl.links.add({ name: 'p0', info: { kind: 'veth', peer: { name: 'p1', netns: { pid: sleeper.pid } } } });
    expect(await nl.links.find('p1')).toBeUndefined();
    expect(await b.ip('-o', 'link', 'show', 'p1')).toContain('p1@');
    await nl.links.del('p0');
  });

  it('sets up/down, MTU, MAC, name and namespace, then deletes', async () => {
    await nl.links.add({ name: 'd0', info: { kind: 'veth', peer: { name: 'd0p' } } }); // no dummy module here
    const d0 = await nl.links.get('d0');
    await nl.links.set({ index: d0.index, up: true, mtu: 1280, mac: '02:00:00:00:00:01', newName: 'd1' });
    expect(await nl.links.get(d0.index)).toMatchObject({ name: 'd1', up: true, mtu: 1280, mac: '02:00:00:00:00:01' });
    await nl.links.setUp('d1', false);
    expect((await nl.links.get('d1')).up).toBe(false);
    await nl.links.set({ name: 'd1', netns: { name: b.name } });
    expect(await nl.links.find('d1')).toBeUndefined();
    expect(await b.ip('-o', 'link', 'show', 'd1')).toContain('d1');
    await nl.links.add({ name: 'd2', info: { kind: 'veth', peer: { name: 'd2p' } } });
    await nl.links.del('d2');
    expect(await nl.links.find('d2')).toBeUndefined();
    expect(await nl.links.find('d2p')).toBeUndefined(); // the peer goes with it
  });

  it('creates a vxlan device (VNI, local, port, parent, learning off)', async () => {
    await nl.links.add({ name: 'vx0', info: { kind: 'vxlan', vni: 4096, local: '10.0.0.1', port: 4789, dev: v0, learning: false } });
    const vx = await nl.links.get('vx0');
    expect(vx).toMatchObject({ kind: 'vxlan', vxlan: { vni: 4096, local: '10.0.0.1', port: 4789, dev: v0, learning: false } });
    expect(await a.ip('-d', 'link', 'show', 'vx0')).toMatch(/vxlan id 4096 local 10\.0\.0\.1 dev v0 .*dstport 4789 nolearning/s);
  });

  it('creates an IPv6 vxlan device (IFLA_VXLAN_LOCAL6) with NDP and IPv6 FDB entries, and reads them back', async () => {
    await nl.links.add({ name: 'vx6', mtu: 1430, info: { kind: 'vxlan', vni: 4096, local: 'fd00::1', port: 4789, dev: v0, learning: false } });
    const vx = await nl.links.get('vx6');
    expect(vx).toMatchObject({ kind: 'vxlan', mtu: 1430, vxlan: { vni: 4096, local: 'fd00::1', port: 4789, dev: v0, learning: false } });
    expect(await a.ip('-d', 'link', 'show', 'vx6')).toMatch(/vxlan id 4096 local fd00::1 dev v0 .*dstport 4789 nolearning/s);
    await nl.neighbours.replace({ family: 6, index: vx.index, dst: 'fd00:255::2', lladdr: '66:aa:bb:cc:dd:02' });
    await nl.neighbours.replace({ family: 'bridge', index: vx.index, dst: 'fd00::2', lladdr: '66:aa:bb:cc:dd:02' });
    expect(await nl.neighbours.list(6, vx.index)).toContainEqual(expect.objectContaining({ dst: 'fd00:255::2', lladdr: '66:aa:bb:cc:dd:02', state: 0x80 }));
    expect(await nl.neighbours.list('bridge', vx.index)).toContainEqual(expect.objectContaining({ dst: 'fd00::2', lladdr: '66:aa:bb:cc:dd:02' }));
    await nl.links.del('vx6');
  });

  it('reports ipip (no module on this kernel) as a clear typed error', async () => {
    const err = await rejection(nl.links.add({ name: 'tunl9', info: { kind: 'ipip', local: '10.0.0.1', dev: v0 } }));
    expect(err.code).toBe('NETLINK_KERNEL_ERROR');
    expect(err.errnoName).toBe('EOPNOTSUPP');
    expect(err.extAck).toBe('Unknown device type');
    expect(err.request).toEqual({ op: 'link.add', summary: 'tunl9 type ipip' });
    expect(err.message).toMatch(/^link\.add tunl9 type ipip: E/);
  });

  it('adds, lists and deletes IPv4 and IPv6 addresses', async () => {
    await nl.addresses.add({ index: v0, address: '10.0.1.1/32' });
    const mine = (await nl.addresses.list({ index: v0 })).map((x) => x.address);
    expect(mine).toEqual(expect.arrayContaining(['10.0.0.1/24', '10.0.1.1/32', 'fd00::1/64']));
    expect((await nl.addresses.list({ family: 6, index: v0 })).every((x) => x.family === 6)).toBe(true);
    await nl.addresses.del({ index: v0, address: '10.0.1.1/32' });
    expect((await nl.addresses.list({ index: v0 })).map((x) => x.address)).not.toContain('10.0.1.1/32');
    const dup = await rejection(nl.addresses.add({ index: v0, address: '10.0.0.1/24' }));
    expect(dup.errnoName).toBe('EEXIST');
  });

  it('adds, replaces, dumps and deletes routes of every kind', async () => {
    const routes = [
      { dst: '10.10.0.1/32', oif: v0, protocol: 80 },
      { dst: '10.11.0.0/24', gateway: '10.0.0.2', protocol: 80, priority: 20, prefsrc: '10.0.0.1' },
      { dst: '10.12.0.0/24', gateway: '10.99.0.1', oif: v0, onlink: true, protocol: 80 },
      { dst: '10.13.0.0/26', type: 'blackhole' as const, protocol: 80 },
      { dst: '10.14.0.0/26', type: 'unreachable' as const, protocol: 80 },
      { dst: '10.15.0.0/26', type: 'prohibit' as const, protocol: 80 },
      { dst: '10.16.0.0/24', gateway: '10.0.0.2', table: 1000, protocol: 80 },
      { dst: '10.17.0.0/24', multipath: [{ gateway: '10.0.0.2', oif: v0 }, { gateway: '10.0.0.3', oif: v0, weight: 3 }], protocol: 80 },
      { dst: 'fd01::/64', gateway: 'fd00::2', protocol: 80 },
    ];
    for (const r of routes) await nl.routes.add(r);
    const dumped = await nl.routes.dump({ protocol: 80 });
    const byDst = new Map(dumped.map((r) => [r.dst, r]));
    expect(byDst.get('10.10.0.1/32')).toMatchObject({ scope: 253, oif: v0, type: 'unicast', table: 254 });
    expect(byDst.get('10.11.0.0/24')).toMatchObject({ gateway: '10.0.0.2', priority: 20, prefsrc: '10.0.0.1' });
    expect(byDst.get('10.12.0.0/24')).toMatchObject({ gateway: '10.99.0.1', onlink: true });
    expect(byDst.get('10.13.0.0/26')!.type).toBe('blackhole');
    expect(byDst.get('10.14.0.0/26')!.type).toBe('unreachable');
    expect(byDst.get('10.15.0.0/26')!.type).toBe('prohibit');
    expect(byDst.get('10.16.0.0/24')!.table).toBe(1000);
    expect(byDst.get('10.17.0.0/24')!.multipath).toEqual([{ gateway: '10.0.0.2', oif: v0, weight: 1 }, { gateway: '10.0.0.3', oif: v0, weight: 3 }]);
    expect(byDst.get('fd01::/64')).toMatchObject({ family: 6, gateway: 'fd00::2' });
    expect((await nl.routes.dump({ table: 1000 })).map((r) => r.dst)).toEqual(['10.16.0.0/24']);
    expect(await nl.routes.dump({ table: 4242 })).toEqual([]);
    expect((await nl.routes.dump({ family: 4, protocol: 80, type: 'blackhole' })).map((r) => r.dst)).toEqual(['10.13.0.0/26']);
    expect(await a.ip('route', 'show', 'table', '1000')).toContain('10.16.0.0/24 via 10.0.0.2 dev v0 proto 80');

    await nl.routes.replace({ dst: '10.11.0.0/24', gateway: '10.0.0.3', protocol: 80, priority: 20 });
    expect((await nl.routes.dump({ family: 4, protocol: 80 })).find((r) => r.dst === '10.11.0.0/24')!.gateway).toBe('10.0.0.3');
    for (const r of routes) await nl.routes.del({ dst: r.dst, table: r.table, protocol: 80 });
    expect(await nl.routes.dump({ protocol: 80 })).toEqual([]);
  });

  it('types kernel errors with errno, request and extended-ack text', async () => {
    await nl.links.add({ name: 'dn0', info: { kind: 'veth', peer: { name: 'dn1' } } }); // left down
    const dn0 = (await nl.links.get('dn0')).index;
    const down = await rejection(nl.routes.add({ dst: '10.20.0.0/24', oif: dn0, gateway: '10.0.0.2', onlink: true, protocol: 80 }));
    expect(down).toMatchObject({ code: 'NETLINK_KERNEL_ERROR', errnoName: 'ENETDOWN', errno: 100, extAck: 'Nexthop device is not up' });
    expect(down.request).toEqual({ op: 'route.add', summary: `10.20.0.0/24 via 10.0.0.2 dev ${dn0} onlink proto 80` });
    expect(down.message).toContain('ENETDOWN (Nexthop device is not up)');
    const gw = await rejection(nl.routes.add({ dst: '10.21.0.0/24', gateway: '10.99.9.9', protocol: 80 }));
    expect(gw).toMatchObject({ errnoName: 'ENETUNREACH', extAck: 'Nexthop has invalid gateway' });
    const nodev = await rejection(nl.links.get('nope0'));
    expect(nodev.errnoName).toBe('ENODEV');
  });

  it('batches requests in one send and reports failures per request', async () => {
    const reqs: Request[] = [];
    for (let i = 0; i < 3000; i++) reqs.push({ kind: 'route', op: 'add', route: { dst: `10.30.${i >> 8}.${i & 255}/32`, oif: v0, protocol: 80 } });
    reqs.splice(10, 0, { kind: 'route', op: 'add', route: { dst: '10.30.0.5/32', oif: v0, protocol: 80 } }); // duplicate
    reqs.splice(20, 0, { kind: 'route', op: 'add', route: { dst: '10.31.0.0/24', gateway: '10.77.0.1', protocol: 80 } }); // bad gateway
    reqs.splice(30, 0, { kind: 'route', op: 'add', route: { dst: '300.1.1.1/32', oif: v0 } }); // cannot encode
    const res = await nl.batch(reqs);
    expect(res.results).toHaveLength(reqs.length);
    expect(res.succeeded).toBe(3000);
    expect(res.failed.map((f) => [f.index, f.error.code, f.error.errnoName])).toEqual([
      [10, 'NETLINK_KERNEL_ERROR', 'EEXIST'],
      [20, 'NETLINK_KERNEL_ERROR', 'ENETUNREACH'],
      [30, 'NETLINK_INVALID_REQUEST', undefined],
    ]);
    expect((await nl.routes.dump({ family: 4, protocol: 80, oif: v0 })).length).toBe(3000);
    const del = await nl.batch(reqs.slice(0, 10).map((r) => ({ ...r, op: 'del' }) as Request));
    expect(del.succeeded).toBe(10);
  });

  it('adds, lists and deletes permanent ARP / NDP entries and vxlan FDB entries', async () => {
    await nl.neighbours.add({ family: 4, index: v0, dst: '10.0.0.9', lladdr: '66:00:00:00:00:09' });
    await nl.neighbours.add({ family: 6, index: v0, dst: 'fd00::9', lladdr: '66:00:00:00:00:19' });
    const vx = (await nl.links.get('vx0')).index;
    await nl.neighbours.add({ family: 'bridge', index: vx, lladdr: '66:00:00:00:00:29', dst: '10.0.0.2' });
    expect(await nl.neighbours.list(4, v0)).toEqual(expect.arrayContaining([expect.objectContaining({ dst: '10.0.0.9', lladdr: '66:00:00:00:00:09', state: 0x80 })]));
    expect(await nl.neighbours.list(6, v0)).toEqual(expect.arrayContaining([expect.objectContaining({ dst: 'fd00::9', lladdr: '66:00:00:00:00:19' })]));
    const fdb = await nl.neighbours.list('bridge', vx);
    expect(fdb).toEqual(expect.arrayContaining([expect.objectContaining({ lladdr: '66:00:00:00:00:29', dst: '10.0.0.2' })]));
    expect(await a.exec('bridge', 'fdb', 'show', 'dev', 'vx0')).toContain('66:00:00:00:00:29 dst 10.0.0.2 self permanent');
    await nl.neighbours.del({ family: 4, index: v0, dst: '10.0.0.9' });
    await nl.neighbours.del({ family: 6, index: v0, dst: 'fd00::9' });
    await nl.neighbours.del({ family: 'bridge', index: vx, lladdr: '66:00:00:00:00:29', dst: '10.0.0.2' });
    expect((await nl.neighbours.list(4, v0)).find((n) => n.dst === '10.0.0.9')).toBeUndefined();
    expect((await nl.neighbours.list('bridge', vx)).find((n) => n.lladdr === '66:00:00:00:00:29')).toBeUndefined();
  });
});
