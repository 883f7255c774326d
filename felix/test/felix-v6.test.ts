// Unit tests (no root): Felix programming vxlan-v6.calico over the in-memory fake kernel — the
// device (IPv6 source and parent), its /128 VTEP address beside the kernel's link-local one, NDP
// and FDB entries toward IPv6 underlay addresses, the routes, and the fallback moving IPv6
// blocks onto the device and back.
import { describe, expect, it } from 'vitest';
import { poll } from '@tabby/testkit';
import type { Link } from '@tabby/netlink';
import { defaultVtepMacV6, FakeNetlinkKernel, FakeSysctl, Felix, type FelixEvent } from '../src/index.js';

const ME = 'node-a';
const B6 = 'fd00:244::40/122';

function events(vxlan6: 'Never' | 'Always'): FelixEvent[] {
  const n = (name: string, h: number): FelixEvent => ({
    type: 'node-update',
    node: { name, ipv4Address: `172.16.1.${h}`, ipv4Subnet: '172.16.1.0/24', ipv6Address: `2001:db8:1::${h}`, ipv6Subnet: '2001:db8:1::/64', vxlanTunnelAddressV6: `fd00:255::${h}` },
  });
  return [
    n(ME, 1), n('node-b', 2),
    { type: 'pool-update', pool: { name: 'p6', cidr: 'fd00:244::/48', ipipMode: 'Never', vxlanMode: vxlan6, disabled: false } },
    { type: 'block-update', block: { cidr: 'fd00:244::/122', node: ME } },
    { type: 'block-update', block: { cidr: B6, node: 'node-b' } },
    { type: 'bgp-route-update', prefix: B6, nextHop: '2001:db8:1::2' },
  ];
}

function setup(): { k: FakeNetlinkKernel; f: Felix } {
  const k = new FakeNetlinkKernel();
  const eth = k.addDevice('eth0');
  k.addresses.push({ family: 4, index: eth.index, address: '172.16.1.1/24', prefixLen: 24, scope: 0, flags: 0 });
  k.addresses.push({ family: 6, index: eth.index, address: '2001:db8:1::1/64', prefixLen: 64, scope: 0, flags: 0 });
  const f = new Felix({ kernel: k, sysctl: new FakeSysctl() }, { nodeName: ME, retryMinMs: 1, retryMaxMs: 20 });
  return { k, f };
}

const device = (k: FakeNetlinkKernel): Link | undefined => [...k.links.values()].find((l) => l.name === 'vxlan-v6.calico');

describe('Felix: vxlan-v6.calico over a fake kernel', () => {
  it('creates the device on the IPv6 parent with its VTEP /128, NDP and FDB entries, and routes over it', async () => {
    const { k, f } = setup();
    f.start();
    f.apply([...events('Always'), { type: 'in-sync' }]);
    await f.whenIdle();
    const vx = device(k);
    const eth = [...k.links.values()].find((l) => l.name === 'eth0');
    expect(vx).toMatchObject({ kind: 'vxlan', mtu: 1430, mac: defaultVtepMacV6(ME), vxlan: { vni: 4096, port: 4789, local: '2001:db8:1::1', dev: eth?.index, learning: false } });
    expect([...k.links.values()].some((l) => l.name === 'vxlan.calico')).toBe(false);
    expect(k.addresses.filter((a) => a.index === vx?.index).map((a) => a.address)).toEqual(['fd00:255::1/128']);
    expect(k.neighbours.filter((n) => n.index === vx?.index).map((n) => `${n.family} ${n.dst} ${n.lladdr} ${n.state}`).sort()).toEqual([
      `6 fd00:255::2 ${defaultVtepMacV6('node-b')} 128`,
      `bridge 2001:db8:1::2 ${defaultVtepMacV6('node-b')} 128`,
    ]);
    expect(k.routes.get(B6)).toMatchObject({ family: 6, gateway: 'fd00:255::2', oif: vx?.index, onlink: true, protocol: 80 });
    await f.stop();
  });

  it("leaves the kernel's link-local address on the device and removes a stray global one", async () => {
    const { k, f } = setup();
    f.start();
    f.apply([...events('Always'), { type: 'in-sync' }]);
    await f.whenIdle();
    const vx = device(k)!;
    k.addresses.push({ family: 6, index: vx.index, address: 'fe80::6400:ff:fe00:1/64', prefixLen: 64, scope: 253, flags: 0 });
    k.addresses.push({ family: 6, index: vx.index, address: 'fd00:255::99/128', prefixLen: 128, scope: 0, flags: 0 });
    k.overrun(); // a full resync
    await poll(() => !k.addresses.some((a) => a.address === 'fd00:255::99/128'), { what: 'stray address removed' });
    expect(k.addresses.filter((a) => a.index === vx.index).map((a) => a.address).sort()).toEqual(['fd00:255::1/128', 'fe80::6400:ff:fe00:1/64']);
    await f.stop();
  });

  it('BGP fallback: the IPv6 block moves onto a new vxlan-v6.calico, and back; the device goes after the routes left it', async () => {
    let now = 0;
    const k = setup().k;
    const f = new Felix({ kernel: k, sysctl: new FakeSysctl(), now: () => now }, { nodeName: ME, retryMinMs: 1, retryMaxMs: 20 });
    f.start();
    f.apply([...events('Never'), { type: 'in-sync' }]);
    await f.whenIdle();
    expect(device(k)).toBeUndefined();
    expect(k.routes.get(B6)).toMatchObject({ gateway: '2001:db8:1::2', onlink: false });
    now = 1000;
    f.apply([{ type: 'bgp-node-state', node: 'node-b', available: false, since: now }]);
    await f.whenIdle();
    expect(k.routes.get(B6)).toMatchObject({ gateway: 'fd00:255::2', oif: device(k)?.index, onlink: true });
    expect(f.health().fallback).toEqual([{ node: 'node-b', since: 1000, families: [4, 6] }]);
    now = 2000;
    f.apply([{ type: 'bgp-node-state', node: 'node-b', available: true, since: now }]);
    await f.whenIdle();
    expect(k.routes.get(B6)?.gateway).toBe('fd00:255::2'); // held
    now = 12_000;
    f.apply([]); // the deadline timer would kick; do it here
    await f.whenIdle();
    expect(k.routes.get(B6)).toMatchObject({ gateway: '2001:db8:1::2', onlink: false });
    expect(device(k)).toBeUndefined();
    await f.stop();
  });
});
