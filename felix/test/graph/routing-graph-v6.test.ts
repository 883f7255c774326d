// Unit tests (no root): the routing graph's IPv6 side — vxlan-v6.calico for IPv6 VXLAN pools
// (Always, CrossSubnet), its VTEPs, the automatic fallback moving a node's IPv6 blocks onto it
// and back, and the order-independence property over a dual-stack event list.
import { describe, expect, it } from 'vitest';
import { brief, expectOrderIndependent, graphWith, ME, routesOf } from './helpers.js';
import { defaultVtepMacV6, eventFor, RoutingGraph, type DesiredRoute, type EncapMode, type FelixEvent, type NodeInfo } from '../../src/index.js';
import type { AnyResource } from '@tabby/api';

/** Dual-stack node `n` (host number `h`) on IPv4 subnet 172.16.`s`.0/24 and IPv6 2001:db8:`s`::/64. */
const node = (name: string, h: number, s: number, extra: Partial<NodeInfo> = {}): FelixEvent => ({
  type: 'node-update',
  node: {
    name, ipv4Address: `172.16.${s}.${h}`, ipv4Subnet: `172.16.${s}.0/24`, ipv6Address: `2001:db8:${s}::${h}`, ipv6Subnet: `2001:db8:${s}::/64`,
    vxlanTunnelAddress: `10.244.255.${h}`, vxlanTunnelAddressV6: `fd00:255::${h}`, ...extra,
  },
});
const pool6 = (vxlan: EncapMode, name = 'p6'): FelixEvent => ({ type: 'pool-update', pool: { name, cidr: 'fd00:244::/48', ipipMode: 'Never', vxlanMode: vxlan, disabled: false } });
const pool4 = (vxlan: EncapMode): FelixEvent => ({ type: 'pool-update', pool: { name: 'p4', cidr: '10.244.0.0/16', ipipMode: 'Never', vxlanMode: vxlan, disabled: false } });
const block = (cidr: string, n?: string): FelixEvent => ({ type: 'block-update', block: { cidr, node: n } });
const down = (n: string, since = 0): FelixEvent => ({ type: 'bgp-node-state', node: n, available: false, since });
const B = 'fd00:244::40/122';
const C = 'fd00:244::80/122';

/** a and b share a subnet, c is on another; an IPv6 block each and BGP paths to b's and c's. */
function cluster(vxlan6: EncapMode, vxlan4: EncapMode = 'Never'): FelixEvent[] {
  return [
    node('node-a', 1, 1), node('node-b', 2, 1), node('node-c', 3, 2),
    pool4(vxlan4), pool6(vxlan6),
    block('fd00:244::/122', 'node-a'), block(B, 'node-b'), block(C, 'node-c'),
    block('10.244.3.0/26', 'node-c'),
    { type: 'bgp-route-update', prefix: B, nextHop: '2001:db8:1::2' },
    { type: 'bgp-route-update', prefix: C, nextHop: '2001:db8:2::3' },
    { type: 'bgp-route-update', prefix: '10.244.3.0/26', nextHop: '172.16.2.3' },
    { type: 'endpoint-update', endpoint: { key: 'p1', node: ME, iface: 'calip1', ipNetworks: ['10.244.1.5/32', 'fd00:244::5/128'] } },
  ];
}




describe('IPv6 VXLAN pools (vxlan-v6.calico)', () => {
  it.each<[EncapMode, string, string]>([
    ['Never', 'via 2001:db8:1::2', 'via 2001:db8:2::3'],
    ['Always', 'via fd00:255::2 dev vxlan-v6.calico onlink', 'via fd00:255::3 dev vxlan-v6.calico onlink'],
    ['CrossSubnet', 'via 2001:db8:1::2', 'via fd00:255::3 dev vxlan-v6.calico onlink'],
  ])('vxlanMode %s: same subnet %s, other subnet %s', (mode, same, other) => {
    const r = routesOf(graphWith(cluster(mode)));
    expect(brief(r.get(B))).toBe(same);
    expect(brief(r.get(C))).toBe(other);
    expect(brief(r.get('fd00:244::/122'))).toBe('blackhole');
    expect(brief(r.get('fd00:244::5/128'))).toBe('dev calip1');
  });

  it('needs no BGP; CrossSubnet reaches same-subnet nodes directly from the datastore', () => {
    const noBgp = (mode: EncapMode): Map<string, DesiredRoute> => routesOf(graphWith(cluster(mode).filter((e) => e.type !== 'bgp-route-update')));
    expect(brief(noBgp('Always').get(B))).toBe('via fd00:255::2 dev vxlan-v6.calico onlink');
    expect(brief(noBgp('CrossSubnet').get(B))).toBe('via 2001:db8:1::2');
    expect(brief(noBgp('CrossSubnet').get(C))).toBe('via fd00:255::3 dev vxlan-v6.calico onlink');
    expect(noBgp('Never').has(C)).toBe(false);
  });

  it('the device: VNI 4096, port 4789, MTU 1430, the node IPv6 address as source, its IPv6 VTEP and MAC; peers by IPv6', () => {
    const g = graphWith(cluster('Always'));
    g.flush(0);
    const d = g.desired();
    expect(d.vxlanV6).toEqual({ vni: 4096, port: 4789, mtu: 1430, local: '2001:db8:1::1', address: 'fd00:255::1', mac: defaultVtepMacV6('node-a') });
    expect([...d.vxlanPeersV6.values()].map((p) => `${p.node} ${p.vtep} ${p.mac} ${p.nodeIp}`).sort()).toEqual([
      `node-b fd00:255::2 ${defaultVtepMacV6('node-b')} 2001:db8:1::2`,
      `node-c fd00:255::3 ${defaultVtepMacV6('node-c')} 2001:db8:2::3`,
    ]);
    expect(d.vxlan).toBeUndefined(); // the IPv4 pool does not use VXLAN
    expect(d.vxlanPeers.size).toBe(0);
  });

  it('the MAC from the Node wins; VNI, port and MTU follow FelixConfiguration', () => {
    const g = graphWith([...cluster('Always'), node('node-c', 3, 2, { vxlanTunnelMacV6: 'AA:BB:CC:00:00:06' }), { type: 'config-update', config: { vxlanMtuV6: 1380, vxlanVni: 7, vxlanPort: 8472 } }]);
    g.flush(0);
    expect(g.desired().vxlanPeersV6.get('node-c')?.mac).toBe('aa:bb:cc:00:00:06');
    expect(g.desired().vxlanV6).toMatchObject({ mtu: 1380, vni: 7, port: 8472 });
    expect(defaultVtepMacV6('node-a')).toMatch(/^66(:[0-9a-f]{2}){5}$/);
    expect(defaultVtepMacV6('node-a')).not.toBe(g.desired().vxlan?.mac);
  });

  it('no device (and no route over it) without our IPv6 VTEP or underlay address; a peer without one is not a peer', () => {
    let g = graphWith([...cluster('Always'), node('node-a', 1, 1, { vxlanTunnelAddressV6: undefined })]);
    expect(routesOf(g).has(C)).toBe(false);
    expect(g.desired().vxlanV6).toBeUndefined();
    g = graphWith([...cluster('Always'), node('node-c', 3, 2, { ipv6Address: undefined, ipv6Subnet: undefined })]);
    expect(routesOf(g).has(C)).toBe(false);
    expect(g.desired().vxlanPeersV6.has('node-c')).toBe(false);
  });

  it('Always → CrossSubnet → Never moves routes in place, and the device goes once nothing needs it', () => {
    const g = graphWith(cluster('Always'));
    g.flush(0);
    g.apply(pool6('CrossSubnet'));
    let d = g.flush(0);
    expect(d.upserts.map((r) => `${r.dst} ${brief(r)}`)).toEqual([`${B} via 2001:db8:1::2`]);
    expect(d.removes).toEqual([]);
    g.apply(pool6('Never'));
    d = g.flush(0);
    expect(d.upserts.map((r) => `${r.dst} ${brief(r)}`)).toEqual([`${C} via 2001:db8:2::3`]);
    expect(d.tunnelsChanged).toBe(true);
    expect(g.desired().vxlanV6).toBeUndefined();
  });

  it('both families at once: IPv4 blocks over vxlan.calico, IPv6 blocks over vxlan-v6.calico', () => {
    const g = graphWith(cluster('Always', 'Always'));
    const r = routesOf(g);
    expect(brief(r.get('10.244.3.0/26'))).toBe('via 10.244.255.3 dev vxlan.calico onlink');
    expect(brief(r.get(C))).toBe('via fd00:255::3 dev vxlan-v6.calico onlink');
    expect(g.desired().vxlan?.local).toBe('172.16.1.1');
    expect(g.desired().vxlanV6?.local).toBe('2001:db8:1::1');
  });
});

describe('IPv6 and the automatic BGP fallback', () => {
  it("a node whose BGP is down has its IPv6 blocks moved onto vxlan-v6.calico at once, and back after the hold", () => {
    const g = graphWith(cluster('Never'));
    expect(brief(routesOf(g, 0).get(B))).toBe('via 2001:db8:1::2');
    expect(g.desired().vxlanV6).toBeUndefined();
    g.apply(down('node-b', 1000));
    let d = g.flush(1000);
    expect(d.upserts.map((r) => `${r.dst} ${brief(r)} ${r.source}`)).toEqual([`${B} via fd00:255::2 dev vxlan-v6.calico onlink fallback`]);
    expect(d.tunnelsChanged).toBe(true);
    expect(g.desired().vxlanV6?.address).toBe('fd00:255::1');
    g.apply({ type: 'bgp-route-remove', prefix: B }); // the session's routes go with it
    expect(g.flush(1500).upserts).toEqual([]);
    g.apply({ type: 'bgp-node-state', node: 'node-b', available: true, since: 5000 });
    g.apply({ type: 'bgp-route-update', prefix: B, nextHop: '2001:db8:1::2' });
    expect(g.flush(6000).upserts).toEqual([]); // held
    d = g.flush(15_000);
    expect(d.upserts.map((r) => `${r.dst} ${brief(r)}`)).toEqual([`${B} via 2001:db8:1::2`]);
    expect(g.desired().vxlanV6).toBeUndefined();
  });

  it('both families of a node move together: IPv4 over vxlan.calico, IPv6 over vxlan-v6.calico', () => {
    const r = routesOf(graphWith([...cluster('Never'), down('node-c')]));
    expect(brief(r.get('10.244.3.0/26'))).toBe('via 10.244.255.3 dev vxlan.calico onlink');
    expect(brief(r.get(C))).toBe('via fd00:255::3 dev vxlan-v6.calico onlink');
  });

  it('per family: IPv6 sessions down, IPv4 up: only the IPv6 blocks take the tunnel; the status names the family', () => {
    const g = graphWith([...cluster('Never'), { type: 'bgp-route-update', prefix: '10.244.3.0/26', nextHop: '172.16.2.3' }, { type: 'bgp-node-state', node: 'node-c', available: false, since: 0, family: 6 }]);
    const r = routesOf(g);
    expect(brief(r.get(C))).toBe('via fd00:255::3 dev vxlan-v6.calico onlink');
    expect(r.get('10.244.3.0/26')?.source).toBe('bgp');
    expect(g.fallbackStatus()).toEqual([{ node: 'node-c', since: 0, families: [6] }]);
    g.apply({ type: 'bgp-node-state', node: 'node-c', available: false, since: 100, family: 4 });
    expect(brief(g.flush(100).upserts.find((u) => u.dst === '10.244.3.0/26'))).toBe('via 10.244.255.3 dev vxlan.calico onlink');
    expect(g.fallbackStatus()).toEqual([{ node: 'node-c', since: 0, families: [4, 6] }]);
  });

  it('without IPv6 VTEPs: directly within our IPv6 subnet, else no route (no IPv6 IPIP)', () => {
    const noVtep6 = (n: string, h: number, s: number): FelixEvent => node(n, h, s, { vxlanTunnelAddressV6: undefined });
    const r = routesOf(graphWith([...cluster('Never'), noVtep6('node-a', 1, 1), noVtep6('node-b', 2, 1), noVtep6('node-c', 3, 2), down('node-b'), down('node-c')]));
    expect(brief(r.get(B))).toBe('via 2001:db8:1::2');
    expect(r.has(C)).toBe(false);
  });

  it('with the fallback enabled, vxlan-v6.calico stays up while no node is in fallback', () => {
    const g = graphWith([...cluster('Never'), { type: 'fallback-enabled', enabled: true }]);
    g.flush(0);
    expect(g.desired().vxlanV6?.address).toBe('fd00:255::1');
    expect(g.desired().vxlanPeersV6.size).toBe(2);
    expect(brief(g.desired().routes.get(C))).toBe('via 2001:db8:2::3'); // BGP still routes
  });

  it('a CrossSubnet IPv6 pool: a same-subnet node in fallback is reached directly, another subnet over vxlan-v6.calico', () => {
    const events = [...cluster('CrossSubnet').filter((e) => e.type !== 'bgp-route-update'), down('node-b'), down('node-c')];
    const r = routesOf(graphWith(events));
    expect(brief(r.get(B))).toBe('via 2001:db8:1::2');
    expect(brief(r.get(C))).toBe('via fd00:255::3 dev vxlan-v6.calico onlink');
  });
});

describe('Node and FelixConfiguration → IPv6 VXLAN fields', () => {
  it('reads ipv6VXLANTunnelAddr, vxlanTunnelMACAddrV6 and vxlanMTUV6 (0, Calico\'s auto, keeps the default)', () => {
    const n = { apiVersion: 'tabby.dev/v1', kind: 'Node', metadata: { name: 'n1' }, spec: { bgp: { ipv6Address: '2001:db8:1::1/64' }, ipv6VXLANTunnelAddr: 'fd00:255::1', vxlanTunnelMACAddrV6: '66:00:00:00:00:01' } } as AnyResource;
    expect(eventFor(n, false, 'n1')).toMatchObject({ node: { ipv6Address: '2001:db8:1::1', ipv6Subnet: '2001:db8:1::/64', vxlanTunnelAddressV6: 'fd00:255::1', vxlanTunnelMacV6: '66:00:00:00:00:01' } });
    const cfg = (vxlanMTUV6: number): AnyResource => ({ apiVersion: 'tabby.dev/v1', kind: 'FelixConfiguration', metadata: { name: 'default' }, spec: { vxlanMTUV6 } }) as AnyResource;
    expect(eventFor(cfg(1400), false, 'n1')).toMatchObject({ config: { vxlanMtuV6: 1400 } });
    const g = new RoutingGraph('node-a');
    for (const e of [...cluster('Always'), eventFor(cfg(0), false, 'node-a')!]) g.apply(e);
    g.flush(0);
    expect(g.desired().vxlanV6?.mtu).toBe(1430);
  });
});

describe('order independence (dual stack)', () => {
  it('the same IPv4 + IPv6 events in any order give the same desired state', () => {
    const events: FelixEvent[] = [
      ...cluster('CrossSubnet', 'CrossSubnet'),
      node('node-d', 4, 2, { vxlanTunnelMacV6: '66:00:00:00:00:0d' }),
      block('fd00:244::c0/122', 'node-d'),
      block('fd00:244::100/122'),
      { type: 'endpoint-update', endpoint: { key: 'p3', node: 'node-d', iface: 'calip3', ipNetworks: ['fd00:244::87/128'] } },
      { type: 'bgp-route-update', prefix: 'fd00:244::c0/122', nextHop: '2001:db8:2::4' },
      { type: 'config-update', config: { vxlanMtuV6: 1400 } },
      down('node-b'),
      down('node-d'),
    ];
    const snapshot = (g: RoutingGraph): unknown => {
      g.flush(0);
      const d = g.desired();
      return { routes: [...d.routes.values()].sort((a, b) => a.dst.localeCompare(b.dst)), vxlan: d.vxlan, vxlanV6: d.vxlanV6, peers: [...d.vxlanPeers.keys()].sort(), peers6: [...d.vxlanPeersV6.values()].sort((a, b) => a.node.localeCompare(b.node)) };
    };
    expectOrderIndependent(events, snapshot, 9);
  });
});
