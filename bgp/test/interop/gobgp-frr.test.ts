/**
 * Interop with GoBGP and FRR (root): tabby-bgp (AS 65001) in the middle; GoBGP (AS 65002)
 * connects to us (we are passive toward it), we connect to FRR (AS 65003, with zebra).
 * IPv4 and IPv6 (MP-BGP over the IPv4 session) routes both ways with their attributes,
 * transit between the two, and withdrawals.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FrrDaemon, GobgpDaemon, TestNet, poll, type Netns, missingRequirements, titleWithSkip } from '@tabby/testkit';
import { startTabby, tabbyEstablished, type TabbyProc } from './helpers.js';

const missing = missingRequirements('root', 'ip', 'gobgp', 'frr');

describe.skipIf(missing !== undefined)(titleWithSkip('interop: tabby-bgp ↔ GoBGP and FRR (root)', missing), () => {
  const net = new TestNet();
  let gobgp: GobgpDaemon;
  let frr: FrrDaemon;
  let tabby: TabbyProc;
  let t: Netns;

  beforeAll(async () => {
    t = await net.netns('t');
    const g = await net.netns('g');
    const f = await net.netns('f');
    await net.veth(t, net.name('tg'), g, net.name('gt'), '10.0.2.1/30', '10.0.2.2/30');
    await net.veth(t, net.name('tf'), f, net.name('ft'), '10.0.3.1/30', '10.0.3.2/30');
    await t.ip('addr', 'add', 'fd02::1/64', 'dev', net.name('tg'), 'nodad');
    await g.ip('addr', 'add', 'fd02::2/64', 'dev', net.name('gt'), 'nodad');
    await t.ip('addr', 'add', 'fd03::1/64', 'dev', net.name('tf'), 'nodad');
    await f.ip('addr', 'add', 'fd03::2/64', 'dev', net.name('ft'), 'nodad');
    [gobgp, frr] = await Promise.all([
      GobgpDaemon.start({ ns: g, net }, `
global:
  config: { as: 65002, router-id: 10.0.2.2 }
neighbors:
  - config: { neighbor-address: 10.0.2.1, peer-as: 65001 }
    afi-safis: [{ config: { afi-safi-name: ipv4-unicast } }, { config: { afi-safi-name: ipv6-unicast } }]
`),
      FrrDaemon.start({ ns: f, net }, `
hostname frr
router bgp 65003
 bgp router-id 10.0.3.2
 no bgp ebgp-requires-policy
 no bgp network import-check
 neighbor 10.0.3.1 remote-as 65001
 neighbor 10.0.3.1 passive
 address-family ipv4 unicast
  network 10.30.0.0/24
 exit-address-family
 address-family ipv6 unicast
  neighbor 10.0.3.1 activate
  network fd30::/64
 exit-address-family
`, { zebra: true }),
    ]);
    tabby = await startTabby(net, t, {
      routerId: '10.0.2.1',
      asn: 65001,
      listen: { address: '0.0.0.0', port: 179 },
      peers: [
        { address: '10.0.2.2', asn: 65002, passive: true },
        { address: '10.0.3.2', asn: 65003 },
      ],
      prefixes: [{ prefix: '10.10.0.0/24', med: 7, communities: ['65001:1'] }, 'fd10::/64'],
    });
  });
  afterAll(async () => {
    await Promise.allSettled([tabby?.stop(), gobgp?.stop(), frr?.stop()]);
    await net.cleanup();
  });

  it('sessions come up: GoBGP connects to us, we connect to FRR', async () => {
    await tabbyEstablished(tabby, '10.0.2.2');
    await tabbyEstablished(tabby, '10.0.3.2');
    await poll(async () => (await gobgp.neighbor('10.0.2.1'))?.state === 'established', { what: 'GoBGP established' });
    await poll(async () => (await frr.peer('10.0.3.1'))?.state === 'Established', { what: 'FRR established' });
  });

  it('GoBGP and FRR learn our IPv4 and IPv6 routes with attributes', async () => {
    const g4 = await poll(async () => (await gobgp.rib('ipv4')).find((p) => p.prefix === '10.10.0.0/24'), { what: 'GoBGP to learn 10.10.0.0/24' });
    expect(g4).toMatchObject({ asPath: [65001], nextHop: '10.0.2.1', med: 7, communities: [65001 * 65536 + 1] });
    const g6 = await poll(async () => (await gobgp.rib('ipv6')).find((p) => p.prefix === 'fd10::/64'), { what: 'GoBGP to learn fd10::/64' });
    expect(g6.nextHop).toBe('fd02::1');
    const f4 = await poll(async () => (await frr.routes('ipv4')).find((p) => p.prefix === '10.10.0.0/24'), { what: 'FRR to learn 10.10.0.0/24' });
    expect(f4).toMatchObject({ asPath: '65001', nextHop: '10.0.3.1', med: 7 });
    const f6 = await poll(async () => (await frr.routes('ipv6')).find((p) => p.prefix === 'fd10::/64'), { what: 'FRR to learn fd10::/64' });
    expect(f6.nextHop).toBe('fd03::1');
  });

  it('we learn GoBGP and FRR routes (IPv4 and IPv6) and pass them on between them', async () => {
    await gobgp.addRoute('10.20.0.0/24', 'med', '20', 'community', '65002:2');
    await gobgp.addRoute('fd20::/64', 'nexthop', 'fd02::2');
    const [g] = await poll(async () => {
      const r = await tabby.routes('10.20.0.0/24');
      return r.length > 0 && r;
    }, { what: 'tabby to learn 10.20.0.0/24' });
    expect(g).toMatchObject({ nextHop: '10.0.2.2', asPath: '65002', med: 20, communities: ['65002:2'] });
    await poll(async () => (await tabby.routes('fd20::/64')).length === 1, { what: 'tabby to learn fd20::/64' });
    const [f] = await poll(async () => {
      const r = await tabby.routes('10.30.0.0/24');
      return r.length > 0 && r;
    }, { what: 'tabby to learn 10.30.0.0/24' });
    expect(f).toMatchObject({ nextHop: '10.0.3.2', asPath: '65003' });
    await poll(async () => (await tabby.routes('fd30::/64')).length === 1, { what: 'tabby to learn fd30::/64' });
    // Transit: FRR's route reaches GoBGP through us, and GoBGP's reaches FRR.
    const tr = await poll(async () => (await gobgp.rib('ipv4')).find((p) => p.prefix === '10.30.0.0/24'), { what: 'GoBGP to learn 10.30.0.0/24 via tabby' });
    expect(tr.asPath).toEqual([65001, 65003]);
    const tf = await poll(async () => (await frr.routes('ipv4')).find((p) => p.prefix === '10.20.0.0/24'), { what: 'FRR to learn 10.20.0.0/24 via tabby' });
    expect(tf.asPath).toBe('65001 65002');
  });

  it('withdrawals propagate end to end', async () => {
    await gobgp.delRoute('10.20.0.0/24');
    await poll(async () => (await tabby.routes('10.20.0.0/24')).length === 0, { what: 'tabby to drop 10.20.0.0/24' });
    await poll(async () => !(await frr.routes('ipv4')).some((p) => p.prefix === '10.20.0.0/24'), { what: 'FRR to drop 10.20.0.0/24' });
    await frr.configure('router bgp 65003', 'address-family ipv4 unicast', 'no network 10.30.0.0/24');
    await poll(async () => (await tabby.routes('10.30.0.0/24')).length === 0, { what: 'tabby to drop 10.30.0.0/24' });
    await poll(async () => !(await gobgp.rib('ipv4')).some((p) => p.prefix === '10.30.0.0/24'), { what: 'GoBGP to drop 10.30.0.0/24' });
  });
});
