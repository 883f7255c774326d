// Unit tests (no root): the routing calculation graph, every mode and transition, and the
// order-independence property.
import { describe, expect, it } from 'vitest';
import { brief, expectOrderIndependent, graphWith, ME, routesOf } from './helpers.js';
import { defaultVtepMac, RoutingGraph, type EncapMode, type FelixEvent, type NodeInfo } from '../../src/index.js';

const node = (name: string, ip: string, subnet: string, extra: Partial<NodeInfo> = {}): FelixEvent => ({
  type: 'node-update',
  node: { name, ipv4Address: ip, ipv4Subnet: subnet, vxlanTunnelAddress: `10.244.255.${ip.split('.')[3]}`, ipipTunnelAddress: `10.244.254.${ip.split('.')[3]}`, ...extra },
});
const pool = (ipip: EncapMode, vxlan: EncapMode, cidr = '10.244.0.0/16'): FelixEvent => ({ type: 'pool-update', pool: { name: 'p', cidr, ipipMode: ipip, vxlanMode: vxlan, disabled: false } });
const block = (cidr: string, n?: string): FelixEvent => ({ type: 'block-update', block: { cidr, node: n } });
const ep = (key: string, n: string, ip: string, iface = `cali${key}`): FelixEvent => ({ type: 'endpoint-update', endpoint: { key, node: n, iface, ipNetworks: [`${ip}/32`] } });

/** Node a and b on 172.16.1.0/24, c on 172.16.2.0/24; a block each; a BGP path to each block. */
function cluster(ipip: EncapMode, vxlan: EncapMode): FelixEvent[] {
  return [
    node('node-a', '172.16.1.1', '172.16.1.0/24'),
    node('node-b', '172.16.1.2', '172.16.1.0/24'),
    node('node-c', '172.16.2.3', '172.16.2.0/24'),
    pool(ipip, vxlan),
    block('10.244.1.0/26', 'node-a'),
    block('10.244.2.0/26', 'node-b'),
    block('10.244.3.0/26', 'node-c'),
    { type: 'bgp-route-update', prefix: '10.244.2.0/26', nextHop: '172.16.1.2' },
    { type: 'bgp-route-update', prefix: '10.244.3.0/26', nextHop: '172.16.2.3' },
    ep('p1', ME, '10.244.1.5'),
  ];
}




describe('routes per encapsulation mode', () => {
  it('local workloads get a link-scope /32 on their veth, local blocks a blackhole', () => {
    const r = routesOf(graphWith(cluster('Never', 'Never')));
    expect(r.get('10.244.1.5/32')).toMatchObject({ type: 'unicast', iface: 'calip1', scopeLink: true, source: 'workload' });
    expect(brief(r.get('10.244.1.0/26'))).toBe('blackhole');
  });

  it.each<[EncapMode, EncapMode, string, string]>([
    ['Never', 'Never', 'via 172.16.1.2', 'via 172.16.2.3'],
    ['Always', 'Never', 'via 172.16.1.2 dev tunl0 onlink', 'via 172.16.2.3 dev tunl0 onlink'],
    ['CrossSubnet', 'Never', 'via 172.16.1.2', 'via 172.16.2.3 dev tunl0 onlink'],
    ['Never', 'Always', 'via 10.244.255.2 dev vxlan.calico onlink', 'via 10.244.255.3 dev vxlan.calico onlink'],
    ['Never', 'CrossSubnet', 'via 172.16.1.2', 'via 10.244.255.3 dev vxlan.calico onlink'],
  ])('ipip %s, vxlan %s: same subnet %s, other subnet %s', (ipip, vxlan, same, other) => {
    const r = routesOf(graphWith(cluster(ipip, vxlan)));
    expect(brief(r.get('10.244.2.0/26'))).toBe(same);
    expect(brief(r.get('10.244.3.0/26'))).toBe(other);
  });

  it('VXLAN routes need no BGP; the device and peers follow the nodes', () => {
    const g = graphWith(cluster('Never', 'Always').filter((e) => e.type !== 'bgp-route-update'));
    g.flush(0);
    const d = g.desired();
    expect(brief(d.routes.get('10.244.3.0/26'))).toBe('via 10.244.255.3 dev vxlan.calico onlink');
    expect(d.vxlan).toEqual({ vni: 4096, port: 4789, mtu: 1450, local: '172.16.1.1', address: '10.244.255.1', mac: defaultVtepMac('node-a') });
    expect([...d.vxlanPeers.values()].map((p) => `${p.node} ${p.vtep} ${p.nodeIp}`).sort()).toEqual(['node-b 10.244.255.2 172.16.1.2', 'node-c 10.244.255.3 172.16.2.3']);
    expect(d.ipip).toBeUndefined();
  });

  it('VXLAN CrossSubnet without BGP reaches same-subnet nodes directly', () => {
    const g = graphWith(cluster('Never', 'CrossSubnet').filter((e) => e.type !== 'bgp-route-update'));
    const r = routesOf(g);
    expect(brief(r.get('10.244.2.0/26'))).toBe('via 172.16.1.2');
    expect(brief(r.get('10.244.3.0/26'))).toBe('via 10.244.255.3 dev vxlan.calico onlink');
  });

  it('a VTEP MAC from the Node wins over the default; the default is 66 + sha1(name)[0:5]', () => {
    expect(defaultVtepMac('node-a')).toMatch(/^66(:[0-9a-f]{2}){5}$/);
    const g = graphWith([...cluster('Never', 'Always'), node('node-c', '172.16.2.3', '172.16.2.0/24', { vxlanTunnelMac: 'AA:BB:CC:00:00:03' })]);
    g.flush(0);
    expect(g.desired().vxlanPeers.get('node-c')?.mac).toBe('aa:bb:cc:00:00:03');
  });

  it('tunl0 is wanted exactly while an IPIP pool is; routes without a BGP path stay absent', () => {
    const g = graphWith(cluster('Always', 'Never').filter((e) => e.type !== 'bgp-route-update'));
    g.flush(0);
    expect(g.desired().ipip).toEqual({ address: '10.244.254.1', mtu: 1480 });
    expect(g.desired().routes.has('10.244.3.0/26')).toBe(false);
    g.apply(pool('Never', 'Never'));
    g.flush(0);
    expect(g.desired().ipip).toBeUndefined();
  });

  it('only pool routes are programmed from BGP; our own prefixes coming back are ignored', () => {
    const g = graphWith([...cluster('Never', 'Never'), { type: 'bgp-route-update', prefix: '192.0.2.0/24', nextHop: '172.16.1.2' }, { type: 'bgp-route-update', prefix: '10.244.1.0/26', nextHop: '172.16.1.2' }]);
    const r = routesOf(g);
    expect(r.has('192.0.2.0/24')).toBe(false);
    expect(brief(r.get('10.244.1.0/26'))).toBe('blackhole');
  });
});

describe('transitions', () => {
  it('Never → CrossSubnet → Always moves the routes, in place', () => {
    const g = graphWith(cluster('Never', 'Never'));
    g.flush(0);
    g.apply(pool('CrossSubnet', 'Never'));
    const d1 = g.flush(0);
    expect(d1.upserts.map((r) => `${r.dst} ${brief(r)}`)).toEqual(['10.244.3.0/26 via 172.16.2.3 dev tunl0 onlink']);
    expect(d1.removes).toEqual([]);
    g.apply(pool('Always', 'Never'));
    expect(g.flush(0).upserts.map((r) => r.dst)).toEqual(['10.244.2.0/26']);
  });

  it('a pool removed takes its remote routes and tunnels away; blackholes and workloads stay', () => {
    const g = graphWith(cluster('Never', 'Always'));
    g.flush(0);
    g.apply({ type: 'pool-remove', name: 'p' });
    const d = g.flush(0);
    expect(d.removes.sort()).toEqual(['10.244.2.0/26', '10.244.3.0/26']);
    expect(g.desired().vxlan).toBeUndefined();
    expect(brief(g.desired().routes.get('10.244.1.0/26'))).toBe('blackhole');
  });

  it('a node that moves subnet changes CrossSubnet decisions', () => {
    const g = graphWith(cluster('Never', 'CrossSubnet'));
    g.flush(0);
    g.apply(node('node-c', '172.16.1.3', '172.16.1.0/24'));
    g.apply({ type: 'bgp-route-update', prefix: '10.244.3.0/26', nextHop: '172.16.1.3' });
    expect(brief(routesOf(g).get('10.244.3.0/26'))).toBe('via 172.16.1.3');
  });

  it('a borrowed address is routed to the node its pod is on (VXLAN) or left to BGP', () => {
    const events = [...cluster('Never', 'Always'), ep('p9', 'node-c', '10.244.2.9')];
    let r = routesOf(graphWith(events));
    expect(brief(r.get('10.244.2.9/32'))).toBe('via 10.244.255.3 dev vxlan.calico onlink');
    // A pod of ours borrowed from b's block: our /32 wins over b's block route.
    r = routesOf(graphWith([...events, ep('p8', ME, '10.244.2.8')]));
    expect(brief(r.get('10.244.2.8/32'))).toBe('dev calip8');
    // In BGP mode the owner announces the /32; with no BGP path there is no route yet.
    r = routesOf(graphWith([...cluster('Never', 'Never'), ep('p9', 'node-c', '10.244.2.9')]));
    expect(r.has('10.244.2.9/32')).toBe(false);
  });

  it('an endpoint that moves to another node turns its /32 from local to remote', () => {
    const g = graphWith([...cluster('Never', 'Always'), ep('p5', ME, '10.244.3.5')]);
    expect(brief(routesOf(g).get('10.244.3.5/32'))).toBe('dev calip5');
    g.apply(ep('p5', 'node-c', '10.244.3.5'));
    const d = g.flush(0);
    expect(d.removes).toEqual(['10.244.3.5/32']); // the block's route covers it now
    expect(g.workloadIfaces().has('calip5')).toBe(false);
  });

  it('BGP fallback: a node whose session cannot establish is reached over the tunnel, and back after the hold', () => {
    const g = graphWith(cluster('Never', 'Never'));
    expect(brief(routesOf(g, 0).get('10.244.3.0/26'))).toBe('via 172.16.2.3');
    g.apply({ type: 'bgp-node-state', node: 'node-c', available: false, since: 1000 });
    let d = g.flush(1000);
    expect(d.upserts.map((r) => `${r.dst} ${brief(r)} ${r.source}`)).toEqual(['10.244.3.0/26 via 10.244.255.3 dev vxlan.calico onlink fallback']);
    expect(g.desired().vxlan).toBeDefined(); // the device comes up for the fallback
    g.apply({ type: 'bgp-node-state', node: 'node-c', available: true, since: 5000 });
    expect(g.flush(6000).upserts).toEqual([]); // held: a flapping session does not flap routes
    expect(g.nextDeadline()).toBe(15_000);
    g.apply({ type: 'bgp-node-state', node: 'node-c', available: true, since: 9000 }); // repeated: hold not restarted
    d = g.flush(15_000);
    expect(d.upserts.map((r) => `${r.dst} ${brief(r)}`)).toEqual(['10.244.3.0/26 via 172.16.2.3']);
    expect(g.desired().vxlan).toBeUndefined();
  });

  it('with the fallback enabled, vxlan.calico stays up while no node is in fallback (peers may fall back toward us)', () => {
    const g = graphWith([...cluster('Never', 'Never'), { type: 'fallback-enabled', enabled: true }]);
    g.flush(0);
    expect(g.desired().vxlan?.address).toBe('10.244.255.1');
    expect(brief(g.desired().routes.get('10.244.3.0/26'))).toBe('via 172.16.2.3'); // BGP still routes
    g.apply({ type: 'fallback-enabled', enabled: false });
    g.flush(0);
    expect(g.desired().vxlan).toBeUndefined();
  });

  it('fallback without VTEPs uses tunl0 when an IPIP pool exists, else a direct route within the subnet', () => {
    const noVtep = (n: string, ip: string, subnet: string): FelixEvent => node(n, ip, subnet, { vxlanTunnelAddress: undefined });
    const base = [...cluster('Never', 'Never'), noVtep('node-a', '172.16.1.1', '172.16.1.0/24'), noVtep('node-b', '172.16.1.2', '172.16.1.0/24'), noVtep('node-c', '172.16.2.3', '172.16.2.0/24')];
    const down = (n: string): FelixEvent => ({ type: 'bgp-node-state', node: n, available: false, since: 0 });
    let r = routesOf(graphWith([...base, down('node-b'), down('node-c')]));
    expect(brief(r.get('10.244.2.0/26'))).toBe('via 172.16.1.2');
    expect(r.has('10.244.3.0/26')).toBe(false); // nothing could carry it
    r = routesOf(graphWith([...base, pool('CrossSubnet', 'Never'), down('node-c')]));
    expect(brief(r.get('10.244.3.0/26'))).toBe('via 172.16.2.3 dev tunl0 onlink');
  });
});

describe('order independence', () => {
  it('the same events in any order give the same desired state', () => {
    const events: FelixEvent[] = [
      ...cluster('CrossSubnet', 'CrossSubnet'),
      node('node-d', '172.16.2.4', '172.16.2.0/24'),
      block('10.244.4.0/26', 'node-d'),
      block('10.244.5.0/26'),
      ep('p2', ME, '10.244.1.6'),
      ep('p3', 'node-d', '10.244.3.7'),
      ep('p4', ME, '10.244.4.8'),
      { type: 'bgp-route-update', prefix: '10.244.4.0/26', nextHop: '172.16.2.4' },
      { type: 'bgp-route-update', prefix: '10.244.3.7/32', nextHop: '172.16.2.4' },
      { type: 'config-update', config: { vxlanMtu: 1400 } },
      { type: 'bgp-node-state', node: 'node-b', available: false, since: 0 },
    ];
    const snapshot = (g: RoutingGraph): unknown => {
      g.flush(0);
      const d = g.desired();
      return { routes: [...d.routes.values()].sort((a, b) => a.dst.localeCompare(b.dst)), vxlan: d.vxlan, ipip: d.ipip, peers: [...d.vxlanPeers.keys()].sort(), ifaces: [...d.workloadIfaces].sort() };
    };
    expectOrderIndependent(events, snapshot, 8);
  });
});
