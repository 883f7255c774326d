/**
 * Graceful restart with BIRD (root), RFC 4724: tabby-bgp is killed with SIGKILL; BIRD, as the
 * helper, keeps our routes ("Neighbor graceful restart active"); tabby-bgp comes back with
 * `--graceful-restart` (R bit, forwarding-state bit set), re-announces and sends End-of-RIB.
 * The restarted speaker no longer originates 10.11.0.0/24: BIRD drops that stale route only when
 * our End-of-RIB arrives, which proves the marker was sent and honoured; 10.10.0.0/24 was never
 * withdrawn (checked on every poll and by BIRD's import-withdraw count).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BirdDaemon, TestNet, poll, missingRequirements, titleWithSkip } from '@tabby/testkit';
import { startTabby, tabbyEstablished, type TabbyProc, tabbyAndPeer } from './helpers.js';

const config = (prefixes: string[]) => ({
  routerId: '10.0.0.1',
  asn: 65001,
  listen: { address: '0.0.0.0', port: 179 },
  peers: [{ address: '10.0.0.2', asn: 65002, families: ['ipv4-unicast'], gracefulRestart: { restartTime: 120 } }],
  prefixes,
});

const missing = missingRequirements('root', 'ip', 'bird');

describe.skipIf(missing !== undefined)(titleWithSkip('interop: graceful restart with BIRD (root)', missing), () => {
  const net = new TestNet();
  let bird: BirdDaemon;
  let tabby: TabbyProc;

  beforeAll(async () => {
    const { t, b } = await tabbyAndPeer(net);
    bird = await BirdDaemon.start({ ns: b, net }, `
router id 10.0.0.2;
protocol device {}
protocol static s4 { ipv4; route 10.20.0.0/24 blackhole; }
protocol bgp tabby { local 10.0.0.2 as 65002; neighbor 10.0.0.1 as 65001; passive on; graceful restart on; graceful restart time 120; ipv4 { import all; export all; }; }
`);
    tabby = await startTabby(net, t, config(['10.10.0.0/24', '10.11.0.0/24']));
  });
  afterAll(async () => {
    await Promise.allSettled([tabby?.stop(), bird?.stop()]);
    await net.cleanup();
  });

  const has = async (prefix: string): Promise<boolean> => (await bird.routes('protocol', 'tabby')).some((r) => r.prefix === prefix);

  it('keeps our routes across kill -9 and refreshes them after our End-of-RIB, withdrawing nothing', async () => {
    await tabbyEstablished(tabby, '10.0.0.2');
    await poll(async () => (await has('10.10.0.0/24')) && (await has('10.11.0.0/24')), { what: 'BIRD to learn our prefixes' });
    const withdrawsBefore = (await bird.protocol('tabby'))!.channels.ipv4!.importWithdraws ?? 0;
    const seen: boolean[] = [];

    await tabby.kill();
    await poll(async () => {
      seen.push(await has('10.10.0.0/24'));
      return (await bird.protocol('tabby'))?.grActive === true && (await has('10.11.0.0/24'));
    }, { what: 'BIRD to hold our routes for the restart' });

    tabby = await tabby.restart(['--graceful-restart'], config(['10.10.0.0/24']));
    await tabbyEstablished(tabby, '10.0.0.2');
    await poll(async () => {
      seen.push(await has('10.10.0.0/24'));
      const p = await bird.protocol('tabby');
      return p?.bgpState === 'Established' && !p.grActive && !(await has('10.11.0.0/24'));
    }, { what: 'BIRD to end the restart on our End-of-RIB and drop the stale 10.11.0.0/24' });

    expect(seen.length).toBeGreaterThan(0);
    expect(seen.every(Boolean)).toBe(true);
    expect(await has('10.10.0.0/24')).toBe(true);
    expect((await bird.protocol('tabby'))!.channels.ipv4!.importWithdraws ?? 0).toBe(withdrawsBefore);
    await poll(async () => (await tabby.routes('10.20.0.0/24')).length === 1, { what: 'tabby to relearn 10.20.0.0/24' });
  });
});
