/**
 * The daemon fixtures prove themselves before any Tabby speaker exists: BIRD, GoBGP and FRR in
 * three namespaces joined in a triangle of veths peer with each other over eBGP, and each
 * learns the prefix the other two originate.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BirdDaemon, FrrDaemon, GobgpDaemon, TestNet, poll, parseBirdRoutes, type Netns } from '../src/index.js';

describe('BGP daemon fixtures (root)', () => {
  const net = new TestNet();
  let bird: BirdDaemon;
  let gobgp: GobgpDaemon;
  let frr: FrrDaemon;
  let a: Netns;
  let b: Netns;
  let c: Netns;

  beforeAll(async () => {
    [a, b, c] = [await net.netns('a'), await net.netns('b'), await net.netns('c')];
    // a (BIRD, AS 65001) — b (GoBGP, AS 65002) — c (FRR, AS 65003) — a
    await net.veth(a, net.name('ab'), b, net.name('ba'), '10.0.1.1/30', '10.0.1.2/30');
    await net.veth(b, net.name('bc'), c, net.name('cb'), '10.0.2.1/30', '10.0.2.2/30');
    await net.veth(c, net.name('ca'), a, net.name('ac'), '10.0.3.1/30', '10.0.3.2/30');
    [bird, gobgp, frr] = await Promise.all([
      BirdDaemon.start({ ns: a, net }, `
router id 10.0.1.1;
protocol device {}
protocol static s4 { ipv4; route 10.1.0.0/24 blackhole; }
protocol bgp gobgp { local 10.0.1.1 as 65001; neighbor 10.0.1.2 as 65002; connect delay time 1; ipv4 { import all; export all; }; }
protocol bgp frr { local 10.0.3.2 as 65001; neighbor 10.0.3.1 as 65003; connect delay time 1; ipv4 { import all; export all; }; }
`),
      GobgpDaemon.start({ ns: b, net }, `
global:
  config: { as: 65002, router-id: 10.0.2.1 }
neighbors:
  - config: { neighbor-address: 10.0.1.1, peer-as: 65001 }
    afi-safis: [{ config: { afi-safi-name: ipv4-unicast } }]
  - config: { neighbor-address: 10.0.2.2, peer-as: 65003 }
    afi-safis: [{ config: { afi-safi-name: ipv4-unicast } }]
`),
      FrrDaemon.start({ ns: c, net }, `
hostname frr
router bgp 65003
 bgp router-id 10.0.2.2
 no bgp ebgp-requires-policy
 no bgp network import-check
 neighbor 10.0.2.1 remote-as 65002
 neighbor 10.0.3.2 remote-as 65001
 address-family ipv4 unicast
  network 10.3.0.0/24
 exit-address-family
`),
    ]);
    await gobgp.addRoute('10.2.0.0/24', 'med', '20', 'community', '65002:7');
  });
  afterAll(async () => {
    await Promise.allSettled([bird?.stop(), gobgp?.stop(), frr?.stop()]);
    await net.cleanup();
  });

  it('sessions come up among BIRD, GoBGP and FRR', async () => {
    await poll(async () => (await bird.protocols()).filter((p) => p.proto === 'BGP' && p.bgpState === 'Established').length === 2, {
      timeout: 40_000,
      what: 'BIRD sessions Established',
    });
    await poll(async () => (await gobgp.neighbors()).every((n) => n.state === 'established'), { timeout: 40_000, what: 'GoBGP established' });
    await poll(async () => (await frr.peers()).every((p) => p.state === 'Established'), { timeout: 40_000, what: 'FRR established' });
  });

  it('each daemon learns the others\' routes with their attributes', async () => {
    const routes = await poll(async () => {
      const r = await bird.routes('10.2.0.0/24');
      if (!r.some((x) => x.from === 'gobgp' && x.best)) throw new Error(await bird.birdc('show', 'route', 'all'));
      return r;
    }, { what: 'BIRD to learn 10.2.0.0/24' });
    const best = routes.find((r) => r.best)!;
    expect(best.attrs['BGP.as_path']).toBe('65002');
    expect(best.attrs['BGP.med']).toBe('20');
    expect(best.attrs['BGP.community']).toBe('(65002,7)');
    await poll(async () => (await bird.routeCount('protocol', 'frr')) >= 1, { what: 'BIRD to learn from FRR' });

    const gp = await poll(async () => {
      const rib = await gobgp.rib();
      return rib.some((p) => p.prefix === '10.1.0.0/24') && rib.some((p) => p.prefix === '10.3.0.0/24') && rib;
    }, { what: 'GoBGP to learn BIRD and FRR routes' });
    const fromBird = gp.find((p) => p.prefix === '10.1.0.0/24' && p.best)!;
    expect(fromBird.asPath[0]).toBe(65001);
    expect(await gobgp.ribCount()).toBeGreaterThanOrEqual(3);

    const fr = await poll(async () => {
      const r = await frr.routes();
      return r.some((p) => p.prefix === '10.1.0.0/24') && r.some((p) => p.prefix === '10.2.0.0/24') && r;
    }, { what: 'FRR to learn BIRD and GoBGP routes' });
    const fromGobgp = fr.find((p) => p.prefix === '10.2.0.0/24' && p.nextHop === '10.0.2.1')!;
    expect(fromGobgp.asPath).toBe('65002');
    expect(fromGobgp.med).toBe(20);
    expect(await frr.routeCount()).toBeGreaterThanOrEqual(3);
    expect((await frr.peer('10.0.2.1'))?.pfxRcd.ipv4Unicast).toBeGreaterThanOrEqual(1);
  });

  it('withdrawals propagate', async () => {
    await gobgp.delRoute('10.2.0.0/24');
    await poll(async () => (await bird.routes('10.2.0.0/24')).length === 0, { what: 'BIRD to drop 10.2.0.0/24' });
  });

  it('parses stale BIRD routes', () => {
    const out = 'Table master4:\n10.9.0.0/24          unicast [p1 12:00:00.000] * (100s) [AS65001i]\n\tvia 10.0.0.2 on x\n\tBGP.as_path: 65001\n';
    expect(parseBirdRoutes(out)).toMatchObject([{ prefix: '10.9.0.0/24', stale: true, best: true, via: '10.0.0.2' }]);
  });
});
