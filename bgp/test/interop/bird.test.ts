/**
 * Interop with BIRD 2 (root): tabby-bgp (AS 65001) and BIRD (AS 65002) in two namespaces over
 * a veth. An IPv4 session where we connect (BIRD passive) and an IPv6 session where we listen
 * (BIRD connects); routes both ways with their attributes, withdrawals both ways, a reload that
 * keeps the sessions, a 2-octet-only BIRD peer, and a SIGTERM that sends Cease.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BirdDaemon, TestNet, poll, type Netns, missingRequirements, titleWithSkip } from '@tabby/testkit';
import { startTabby, tabbyEstablished, type TabbyProc, tabbyAndPeer } from './helpers.js';

const birdConf = (extraStatic4 = '') => `
router id 10.0.0.2;
protocol device {}
protocol static s4 { ipv4; route 10.20.0.0/24 blackhole; ${extraStatic4} }
protocol static s6 { ipv6; route fd20::/64 blackhole; }
filter out4 { if net = 10.20.0.0/24 then { bgp_med = 50; bgp_community.add((65002,9)); } accept; }
protocol bgp tabby4 { local 10.0.0.2 as 65002; neighbor 10.0.0.1 as 65001; passive on; ipv4 { import all; export filter out4; }; }
protocol bgp tabby6 { local fd00::2 as 65002; neighbor fd00::1 as 65001; connect delay time 1; connect retry time 2; ipv6 { import all; export where source = RTS_STATIC; }; }
protocol bgp old { local 10.0.1.2 as 65003; neighbor 10.0.1.1 as 65001; enable as4 off; passive on; ipv4 { import all; export none; }; }
`;

const tabbyConf = (prefixes: unknown[]) => ({
  routerId: '10.0.0.1',
  asn: 65001,
  listen: { address: '::', port: 179 },
  holdTime: 30,
  peers: [
    { address: '10.0.0.2', asn: 65002, families: ['ipv4-unicast'] },
    { address: 'fd00::2', asn: 65002, passive: true, families: ['ipv6-unicast'] },
  ],
  prefixes,
});

const missing = missingRequirements('root', 'ip', 'bird');

describe.skipIf(missing !== undefined)(titleWithSkip('interop: tabby-bgp ↔ BIRD 2 (root)', missing), () => {
  const net = new TestNet();
  let bird: BirdDaemon;
  let tabby: TabbyProc;
  let t: Netns;
  let b: Netns;
  const prefixes = [{ prefix: '10.10.0.0/24', med: 10, communities: ['65001:5'] }, '10.11.0.0/24', 'fd10::/64'];

  beforeAll(async () => {
    ({ t, b } = await tabbyAndPeer(net));
    await t.ip('addr', 'add', 'fd00::1/64', 'dev', net.name('t0'), 'nodad');
    await b.ip('addr', 'add', 'fd00::2/64', 'dev', net.name('b0'), 'nodad');
    await net.veth(t, net.name('t1'), b, net.name('b1'), '10.0.1.1/30', '10.0.1.2/30');
    bird = await BirdDaemon.start({ ns: b, net }, birdConf());
    tabby = await startTabby(net, t, tabbyConf(prefixes));
  });
  afterAll(async () => {
    await Promise.allSettled([tabby?.stop(), bird?.stop()]);
    await net.cleanup();
  });

  it('brings up an IPv4 session (we connect) and an IPv6 session (BIRD connects)', async () => {
    await tabbyEstablished(tabby, '10.0.0.2');
    await tabbyEstablished(tabby, 'fd00::2');
    await poll(async () => (await bird.protocol('tabby4'))?.bgpState === 'Established', { what: 'BIRD tabby4 Established' });
    await poll(async () => (await bird.protocol('tabby6'))?.bgpState === 'Established', { what: 'BIRD tabby6 Established' });
  });

  it('announces our IPv4 and IPv6 prefixes with AS path, next hop, MED and communities', async () => {
    const r4 = await poll(async () => (await bird.routes('10.10.0.0/24')).find((r) => r.from === 'tabby4'), { what: 'BIRD to learn 10.10.0.0/24' });
    expect(r4.attrs['BGP.as_path']).toBe('65001');
    expect(r4.attrs['BGP.next_hop']).toBe('10.0.0.1');
    expect(r4.attrs['BGP.med']).toBe('10');
    expect(r4.attrs['BGP.community']).toBe('(65001,5)');
    expect(r4.attrs['BGP.origin']).toBe('IGP');
    const r6 = await poll(async () => (await bird.routes('table', 'master6', 'fd10::/64')).find((r) => r.from === 'tabby6'), { what: 'BIRD to learn fd10::/64' });
    expect(r6.attrs['BGP.as_path']).toBe('65001');
    expect(r6.attrs['BGP.next_hop']).toMatch(/^fd00::1\b/);
  });

  it('learns BIRD\'s IPv4 and IPv6 routes with their attributes', async () => {
    const [r] = await poll(async () => {
      const x = await tabby.routes('10.20.0.0/24');
      return x.length > 0 && x;
    }, { what: 'tabby to learn 10.20.0.0/24' });
    expect(r).toMatchObject({ prefix: '10.20.0.0/24', nextHop: '10.0.0.2', from: '10.0.0.2', asPath: '65002', med: 50, communities: ['65002:9'] });
    const [r6] = await poll(async () => {
      const x = await tabby.routes('fd20::/64');
      return x.length > 0 && x;
    }, { what: 'tabby to learn fd20::/64' });
    expect(r6).toMatchObject({ prefix: 'fd20::/64', nextHop: 'fd00::2', asPath: '65002' });
    const st = await tabby.status();
    expect(st.locRib.ipv4).toBeGreaterThanOrEqual(3);
    expect(st.peers.find((p) => p.address === '10.0.0.2')).toMatchObject({ asn: 65002, prefixesReceived: 1, prefixesAccepted: 1 });
  });

  it('propagates withdrawals both ways; a reload keeps unchanged sessions up', async () => {
    const since4 = (await bird.protocol('tabby4'))!.since;
    tabby.reload(tabbyConf(prefixes.filter((p) => p !== '10.11.0.0/24')));
    await poll(async () => (await bird.routes('10.11.0.0/24')).length === 0, { what: 'BIRD to drop 10.11.0.0/24' });
    expect((await bird.protocol('tabby4'))!.since).toBe(since4);
    expect(await bird.routes('10.10.0.0/24')).toHaveLength(1);
    await bird.configure(birdConf().replace('route 10.20.0.0/24 blackhole;', 'route 10.21.0.0/24 blackhole;'));
    await poll(async () => (await tabby.routes('10.20.0.0/24')).length === 0 && (await tabby.routes('10.21.0.0/24')).length === 1, {
      what: 'tabby to swap 10.20.0.0/24 for 10.21.0.0/24',
    });
  });

  it('peers with a 2-octet-only BIRD (enable as4 off) using AS_TRANS', async () => {
    tabby.reload({ ...tabbyConf(prefixes), peers: [...tabbyConf(prefixes).peers, { address: '10.0.1.2', asn: 65003, families: ['ipv4-unicast'] }] });
    // Our AS here stays 65001 (2-octet); the peer must work without the 4-octet capability.
    await tabbyEstablished(tabby, '10.0.1.2');
    const r = await poll(async () => (await bird.routes('10.10.0.0/24')).find((x) => x.from === 'old'), { what: 'old BIRD to learn 10.10.0.0/24' });
    expect(r.attrs['BGP.as_path']).toBe('65001');
  });

  it('answers BIRD\'s ROUTE-REFRESH (birdc reload in) by re-sending our routes', async () => {
    const before = (await bird.protocol('tabby4'))!.channels.ipv4!.importUpdates ?? 0;
    await bird.birdc('reload', 'in', 'tabby4');
    await poll(async () => ((await bird.protocol('tabby4'))!.channels.ipv4!.importUpdates ?? 0) > before, { what: 'BIRD to receive our routes again' });
    expect((await bird.routes('10.10.0.0/24')).some((r) => r.from === 'tabby4')).toBe(true);
  });

  it('SIGTERM sends Cease (Administrative Shutdown) and exits', async () => {
    await tabby.stop();
    expect(tabby.proc.running).toBe(false);
    await poll(async () => /Administrative shutdown/i.test((await bird.protocol('tabby4'))?.info ?? ''), { what: 'BIRD to report the Cease' });
  });
});
