/**
 * TCP-MD5 (RFC 2385) and GTSM (RFC 5082) with BIRD (root): the options go through the session's
 * socket options (the netlink addon's setsockopt). One session where we connect, one where BIRD
 * connects to our listener, both signed and TTL-protected.
 */
import { afterAll, beforeAll, describe, it } from 'vitest';
import { BirdDaemon, TestNet, poll, missingRequirements, titleWithSkip } from '@tabby/testkit';
import { startTabby, tabbyEstablished, type TabbyProc, tabbyAndPeer } from './helpers.js';

const missing = missingRequirements('root', 'ip', 'bird');

describe.skipIf(missing !== undefined)(titleWithSkip('interop: TCP-MD5 and TTL security with BIRD (root)', missing), () => {
  const net = new TestNet();
  let bird: BirdDaemon;
  let tabby: TabbyProc;

  beforeAll(async () => {
    const { t, b } = await tabbyAndPeer(net);
    await net.veth(t, net.name('t1'), b, net.name('b1'), '10.0.1.1/30', '10.0.1.2/30');
    bird = await BirdDaemon.start({ ns: b, net }, `
router id 10.0.0.2;
protocol device {}
protocol static s4 { ipv4; route 10.20.0.0/24 blackhole; }
protocol bgp act { local 10.0.0.2 as 65002; neighbor 10.0.0.1 as 65001; passive on; password "s3cret-1"; ttl security on; ipv4 { import all; export all; }; }
protocol bgp pas { local 10.0.1.2 as 65002; neighbor 10.0.1.1 as 65001; password "s3cret-2"; ttl security on; connect delay time 1; connect retry time 2; ipv4 { import all; export all; }; }
`);
    tabby = await startTabby(net, t, {
      routerId: '10.0.0.1',
      asn: 65001,
      listen: { address: '0.0.0.0', port: 179 },
      peers: [
        { address: '10.0.0.2', asn: 65002, password: 's3cret-1', ttlSecurity: 1, families: ['ipv4-unicast'] },
        { address: '10.0.1.2', asn: 65002, password: 's3cret-2', ttlSecurity: true, passive: true, families: ['ipv4-unicast'] },
      ],
      prefixes: ['10.10.0.0/24'],
    });
  });
  afterAll(async () => {
    await Promise.allSettled([tabby?.stop(), bird?.stop()]);
    await net.cleanup();
  });

  it('establishes signed, TTL-protected sessions in both directions and exchanges routes', async () => {
    await tabbyEstablished(tabby, '10.0.0.2');
    await tabbyEstablished(tabby, '10.0.1.2');
    await poll(async () => (await bird.routes('10.10.0.0/24')).length === 2, { what: 'BIRD to learn 10.10.0.0/24 on both sessions' });
    await poll(async () => (await tabby.routes('10.20.0.0/24')).length === 1, { what: 'tabby to learn 10.20.0.0/24' });
  });
});
