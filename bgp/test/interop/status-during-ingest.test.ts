/**
 * The status socket answers while a large ingest is in progress (root): BIRD 2 announces 500k
 * static /32s to tabby-bgp over a veth; from the moment the session is enabled, the test asks
 * the status socket again and again (one request at a time) and records the Loc-RIB size of
 * each answer. The connection handles a bounded amount of input per event-loop turn, so some
 * answers must arrive with part of the table loaded. No duration is asserted.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BirdDaemon, TestNet, poll, missingRequirements, titleWithSkip } from '@tabby/testkit';
import { startTabby, type TabbyProc, tabbyAndPeer } from './helpers.js';

const N = 500_000;

function birdConf(): string {
  const lines = ['router id 10.0.0.2;', 'protocol device {}', 'protocol static feed { ipv4;'];
  for (let i = 0; i < N; i++) {
    const v = 0x64400000 + i;
    lines.push(`route ${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}/32 blackhole;`);
  }
  lines.push('}', 'protocol bgp p { local 10.0.0.2 as 65002; neighbor 10.0.0.1 as 65001; disabled; connect delay time 1; ipv4 { import none; export all; }; }');
  return lines.join('\n') + '\n';
}

const missing = missingRequirements('root', 'ip', 'bird');

describe.skipIf(missing !== undefined)(titleWithSkip('tabby-bgp status socket during a large ingest (root)', missing), () => {
  const net = new TestNet();
  let bird: BirdDaemon;
  let tabby: TabbyProc;

  beforeAll(async () => {
    const { t, b } = await tabbyAndPeer(net);
    bird = await BirdDaemon.start({ ns: b, net }, birdConf(), { timeoutMs: 120_000 });
    await poll(async () => (await bird.routeCount()) === N, { timeout: 120_000, interval: 200, what: `BIRD to load ${N} routes` });
    tabby = await startTabby(net, t, {
      routerId: '10.0.0.1',
      asn: 65001,
      listen: { address: '10.0.0.1', port: 179 },
      peers: [{ address: '10.0.0.2', asn: 65002, passive: true, families: ['ipv4-unicast'] }],
    }, ['--log-level', 'warn']);
  }, 300_000);
  afterAll(async () => {
    await Promise.allSettled([tabby?.stop(), bird?.stop()]);
    await net.cleanup();
  });

  it('answers status requests with part of the table loaded', async () => {
    await bird.birdc('enable', 'p');
    const seen: number[] = [];
    let done = false;
    // Keeps BIRD's sender awake (its event loop can idle between bursts otherwise).
    const awake = (async () => {
      while (!done) {
        await bird.birdc('show', 'protocols', 'p').catch(() => undefined);
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    try {
      await poll(
        async () => {
          const n = (await tabby.status()).locRib.ipv4;
          seen.push(n);
          return n === N;
        },
        { timeout: 300_000, interval: 1, what: `tabby-bgp to hold ${N} routes` },
      );
    } finally {
      done = true;
      await awake;
    }
    const partial = seen.filter((n) => n > 0 && n < N);
    expect(partial.length, `Loc-RIB sizes answered: ${seen.slice(0, 50).join(', ')}`).toBeGreaterThan(0);
  }, 400_000);
});
