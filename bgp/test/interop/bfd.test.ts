/**
 * BFD interop (root): tabby-bgp (AS 65001) and BIRD 2 (AS 65002, `protocol bfd`, `bfd on`) in
 * two namespaces over a veth, BFD 300 ms × 3, BGP hold time 90 s. When the link goes dark
 * (no FIN, no RST), BFD must take the BGP session down at once — long before the hold time.
 * The detection is seen by polling; no duration is asserted.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BirdDaemon, FrrDaemon, TestNet, poll, type Netns, missingRequirements, titleWithSkip } from '@tabby/testkit';
import { startTabby, tabbyEstablished, type TabbyProc, tabbyAndPeer } from './helpers.js';

const birdConf = `
router id 10.0.0.2;
protocol device {}
protocol static s4 { ipv4; route 10.20.0.0/24 blackhole; }
protocol bfd { interface "*" { min rx interval 300 ms; min tx interval 300 ms; multiplier 3; }; }
protocol bgp tabby { local 10.0.0.2 as 65002; neighbor 10.0.0.1 as 65001; passive on; hold time 90; bfd on; ipv4 { import all; export all; }; }
`;

const missing = missingRequirements('root', 'ip', 'bird');

describe.skipIf(missing !== undefined)(titleWithSkip('interop: BFD with BIRD 2 (root)', missing), () => {
  const net = new TestNet();
  let bird: BirdDaemon;
  let tabby: TabbyProc;
  let t: Netns;
  let b: Netns;

  beforeAll(async () => {
    ({ t, b } = await tabbyAndPeer(net));
    bird = await BirdDaemon.start({ ns: b, net }, birdConf);
    tabby = await startTabby(net, t, {
      routerId: '10.0.0.1',
      asn: 65001,
      listen: { address: '0.0.0.0', port: 179 },
      holdTime: 90,
      peers: [{ address: '10.0.0.2', asn: 65002, families: ['ipv4-unicast'], bfd: { minRx: 300, minTx: 300, multiplier: 3 } }],
      prefixes: ['10.10.0.0/24'],
    });
  });
  afterAll(async () => {
    await Promise.allSettled([tabby?.stop(), bird?.stop()]);
    await net.cleanup();
  });

  it('BFD comes Up with BIRD, and a dark link takes the BGP session down at once', async () => {
    await tabbyEstablished(tabby, '10.0.0.2');
    await poll(async () => /10\.0\.0\.1\s+\S+\s+Up/.test(await bird.birdc('show', 'bfd', 'sessions')), { what: 'BIRD BFD session Up', timeout: 30_000 });
    // drop everything from BIRD's side: no FIN, no RST; only BFD can notice within the 90 s hold time
    await b.ip('link', 'set', net.name('b0'), 'down');
    const st = await poll(async () => {
      const p = (await tabby.status()).peers.find((x) => x.address === '10.0.0.2');
      return p && p.state !== 'Established' && p;
    }, { what: 'tabby-bgp session down by BFD', timeout: 20_000 });
    expect(st.info).toMatch(/BFD down/);
    // the link comes back: BFD and BGP recover
    await b.ip('link', 'set', net.name('b0'), 'up');
    await tabbyEstablished(tabby, '10.0.0.2', 60_000);
  });
});

const missingFrr = missingRequirements('root', 'ip', 'frr');

describe.skipIf(missingFrr !== undefined)(titleWithSkip('interop: BFD with FRR bfdd (root)', missingFrr), () => {
  const net = new TestNet();
  let frr: FrrDaemon;
  let tabby: TabbyProc;
  let f: Netns;

  beforeAll(async () => {
    const t = await net.netns('t');
    f = await net.netns('f');
    await net.veth(t, net.name('t0'), f, net.name('f0'), '10.0.0.1/30', '10.0.0.2/30');
    frr = await FrrDaemon.start(
      { ns: f, net },
      'hostname f\nrouter bgp 65002\n bgp router-id 10.0.0.2\n no bgp ebgp-requires-policy\n timers bgp 30 90\n neighbor 10.0.0.1 remote-as 65001\n neighbor 10.0.0.1 passive\n neighbor 10.0.0.1 bfd\n',
      { bfdd: true },
    );
    tabby = await startTabby(net, t, {
      routerId: '10.0.0.1',
      asn: 65001,
      listen: { address: '0.0.0.0', port: 179 },
      holdTime: 90,
      peers: [{ address: '10.0.0.2', asn: 65002, families: ['ipv4-unicast'], bfd: { minRx: 300, minTx: 300, multiplier: 3 } }],
      prefixes: ['10.10.0.0/24'],
    });
  });
  afterAll(async () => {
    await Promise.allSettled([tabby?.stop(), frr?.stop()]);
    await net.cleanup();
  });

  it('bfdd brings the BFD session Up, and a dark link takes the BGP session down at once', async () => {
    await tabbyEstablished(tabby, '10.0.0.2');
    await poll(async () => {
      const peers = JSON.parse(await frr.vtysh('bfdd', 'show bfd peers json')) as Array<{ peer?: string; status?: string }>;
      return peers.some((p) => p.peer === '10.0.0.1' && p.status === 'up');
    }, { what: 'FRR bfdd session up', timeout: 30_000 });
    await f.ip('link', 'set', net.name('f0'), 'down');
    const st = await poll(async () => {
      const p = (await tabby.status()).peers.find((x) => x.address === '10.0.0.2');
      return p && p.state !== 'Established' && p;
    }, { what: 'tabby-bgp session down by BFD', timeout: 20_000 });
    expect(st.info).toMatch(/BFD down/);
  });
});
