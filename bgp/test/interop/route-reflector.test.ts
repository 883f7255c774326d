/**
 * Route reflection interop (root), all in AS 65000 on one bridged LAN (10.0.9.0/24):
 *   tabby-bgp RR (.1, cluster 1.1.1.1) with clients BIRD (.2) and GoBGP (.3);
 *   a BIRD RR (.4, cluster 2.2.2.2) with clients tabby-bgp (.5) and the same BIRD (.2).
 * RFC 4456: reflected routes keep their next hop and carry ORIGINATOR_ID and CLUSTER_LIST.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BirdDaemon, GobgpDaemon, TestNet, poll, type Netns, missingRequirements, titleWithSkip } from '@tabby/testkit';
import { startTabby, tabbyEstablished, type TabbyProc } from './helpers.js';

const missing = missingRequirements('root', 'ip', 'bird', 'gobgp');

describe.skipIf(missing !== undefined)(titleWithSkip('interop: route reflection with BIRD and GoBGP (root)', missing), () => {
  const net = new TestNet();
  let client: BirdDaemon;
  let birdRr: BirdDaemon;
  let gobgp: GobgpDaemon;
  let rr: TabbyProc;
  let rrClient: TabbyProc;

  beforeAll(async () => {
    const lan = await net.netns('lan');
    await lan.ip('link', 'add', 'br0', 'type', 'bridge');
    await lan.ip('link', 'set', 'br0', 'up');
    const hosts: Netns[] = [];
    for (const [i, n] of ['t', 'b', 'g', 'r', 'u'].entries()) {
      const ns = await net.netns(n);
      await net.veth(ns, 'eth0', lan, net.name(`l${n}`), `10.0.9.${i + 1}/24`);
      await lan.ip('link', 'set', net.name(`l${n}`), 'master', 'br0');
      hosts.push(ns);
    }
    const [t, b, g, r, u] = hosts as [Netns, Netns, Netns, Netns, Netns];
    [client, birdRr, gobgp] = await Promise.all([
      BirdDaemon.start({ ns: b, net }, `
router id 10.0.9.2;
protocol device {}
protocol direct { ipv4; }
protocol static s4 { ipv4; route 10.40.0.0/24 blackhole; }
protocol bgp trr { local 10.0.9.2 as 65000; neighbor 10.0.9.1 as 65000; connect delay time 1; ipv4 { import all; export where source = RTS_STATIC; }; }
protocol bgp brr { local 10.0.9.2 as 65000; neighbor 10.0.9.4 as 65000; connect delay time 1; ipv4 { import all; export where source = RTS_STATIC; }; }
`),
      BirdDaemon.start({ ns: r, net }, `
router id 10.0.9.4;
protocol device {}
protocol direct { ipv4; }
template bgp c { local 10.0.9.4 as 65000; rr client; rr cluster id 2.2.2.2; connect delay time 1; ipv4 { import all; export where source = RTS_BGP; }; }
protocol bgp tabby from c { neighbor 10.0.9.5 as 65000; }
protocol bgp cli2 from c { neighbor 10.0.9.2 as 65000; }
`),
      GobgpDaemon.start({ ns: g, net }, `
global:
  config: { as: 65000, router-id: 10.0.9.3 }
neighbors:
  - config: { neighbor-address: 10.0.9.1, peer-as: 65000 }
    afi-safis: [{ config: { afi-safi-name: ipv4-unicast } }]
`),
    ]);
    [rr, rrClient] = await Promise.all([
      startTabby(net, t, {
        routerId: '10.0.9.1',
        asn: 65000,
        clusterId: '1.1.1.1',
        listen: { address: '0.0.0.0', port: 179 },
        peers: [
          { address: '10.0.9.2', asn: 65000, routeReflectorClient: true, families: ['ipv4-unicast'] },
          { address: '10.0.9.3', asn: 65000, routeReflectorClient: true, passive: true, families: ['ipv4-unicast'] },
        ],
      }),
      startTabby(net, u, {
        routerId: '10.0.9.5',
        asn: 65000,
        listen: { address: '0.0.0.0', port: 179 },
        peers: [{ address: '10.0.9.4', asn: 65000, families: ['ipv4-unicast'], type: 'route reflector' }],
        prefixes: ['10.70.0.0/24'],
      }),
    ]);
    await gobgp.addRoute('10.50.0.0/24', 'nexthop', '10.0.9.3');
  });
  afterAll(async () => {
    await Promise.allSettled([rr?.stop(), rrClient?.stop(), client?.stop(), birdRr?.stop(), gobgp?.stop()]);
    await net.cleanup();
  });

  it('our reflector reflects BIRD\'s route to GoBGP with next hop kept, ORIGINATOR_ID and CLUSTER_LIST', async () => {
    await tabbyEstablished(rr, '10.0.9.2');
    await tabbyEstablished(rr, '10.0.9.3');
    const p = await poll(async () => (await gobgp.rib()).find((x) => x.prefix === '10.40.0.0/24'), { what: 'GoBGP to learn 10.40.0.0/24' });
    expect(p).toMatchObject({ nextHop: '10.0.9.2', originatorId: '10.0.9.2', clusterList: ['1.1.1.1'], asPath: [] });
  });

  it('our reflector reflects GoBGP\'s route to BIRD (read off show route all)', async () => {
    const r = await poll(async () => (await client.routes('10.50.0.0/24')).find((x) => x.from === 'trr'), { what: 'BIRD to learn 10.50.0.0/24 from tabby' });
    expect(r.attrs['BGP.next_hop']).toBe('10.0.9.3');
    expect(r.attrs['BGP.originator_id']).toBe('10.0.9.3');
    expect(r.attrs['BGP.cluster_list']).toBe('1.1.1.1');
  });

  it('a client of a BIRD reflector learns reflected routes and its own are reflected', async () => {
    await tabbyEstablished(rrClient, '10.0.9.4');
    const [r] = await poll(async () => {
      const x = await rrClient.routes('10.40.0.0/24');
      return x.length > 0 && x;
    }, { what: 'tabby client to learn 10.40.0.0/24' });
    expect(r).toMatchObject({ nextHop: '10.0.9.2', originatorId: '10.0.9.2', clusterList: ['2.2.2.2'], asPath: '' });
    const b = await poll(async () => (await client.routes('10.70.0.0/24')).find((x) => x.from === 'brr'), { what: 'BIRD to learn 10.70.0.0/24 via the BIRD RR' });
    expect(b.attrs['BGP.originator_id']).toBe('10.0.9.5');
    expect(b.attrs['BGP.cluster_list']).toBe('2.2.2.2');
    expect(b.attrs['BGP.next_hop']).toBe('10.0.9.5');
    const st = await rrClient.status();
    expect(st.peers[0]).toMatchObject({ address: '10.0.9.4', type: 'route reflector', state: 'Established' });
  });
});
