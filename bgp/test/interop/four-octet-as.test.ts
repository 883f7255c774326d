/**
 * Interop with a 4-octet local AS (RFC 6793, root): tabby-bgp runs as AS 4200000001 and peers
 * with two BIRDs in their own namespaces:
 * - "old" (AS 65003) with `enable as4 off`: the session runs with 2-octet AS numbers (BIRD does
 *   not report "AS4"), our OPEN carries AS_TRANS 23456 in My AS (RFC 6793 §4.2.1; read from a
 *   tcpdump capture in BIRD's namespace), and our real AS is recoverable from AS4_PATH (§4.2.3:
 *   BIRD merges AS_PATH "23456" with AS4_PATH back into "4200000001"). BIRD 2.0.12 still parses
 *   the 4-octet AS capability with as4 off and checks the neighbor AS against it (`as 23456`:
 *   Bad Peer AS), and refuses `as 4200000001` in its config with as4 off, so it is configured
 *   with `neighbor ... external` (any AS but its own);
 * - "new" (AS 65002), 4-octet capable: it sees AS_PATH `4200000001` on our routes.
 * Routes from the 2-octet BIRD (its own 2-octet AS in a 2-octet AS_PATH) arrive with that path,
 * and reach the 4-octet BIRD prepended with our 4-octet AS; routes from the 4-octet BIRD reach
 * the 2-octet BIRD with their full path recovered.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BirdDaemon, TestNet, poll, tempDir, type Proc, missingRequirements, titleWithSkip } from '@tabby/testkit';
import { startTabby, tabbyEstablished, type TabbyProc } from './helpers.js';

const LOCAL_AS = 4200000001;

const oldBird = `
router id 10.0.1.2;
protocol device {}
protocol static s4 { ipv4; route 10.30.0.0/24 blackhole; }
protocol bgp tabby { local 10.0.1.2 as 65003; neighbor 10.0.1.1 external; enable as4 off; passive on; ipv4 { import all; export where source = RTS_STATIC; }; }
`;
const newBird = `
router id 10.0.0.2;
protocol device {}
protocol static s4 { ipv4; route 10.20.0.0/24 blackhole; }
protocol bgp tabby { local 10.0.0.2 as 65002; neighbor 10.0.0.1 as ${LOCAL_AS}; passive on; ipv4 { import all; export where source = RTS_STATIC; }; }
`;

const tabbyConf = {
  routerId: '10.0.0.1',
  asn: LOCAL_AS,
  listen: null,
  holdTime: 30,
  peers: [
    { address: '10.0.0.2', asn: 65002, families: ['ipv4-unicast'] },
    { address: '10.0.1.2', asn: 65003, families: ['ipv4-unicast'] },
  ],
  prefixes: ['10.10.0.0/24'],
};

const missing = missingRequirements('root', 'ip', 'bird');

describe.skipIf(missing !== undefined)(titleWithSkip('interop: 4-octet local AS with 2-octet and 4-octet BIRD (root)', missing), () => {
  const net = new TestNet();
  let oldB: BirdDaemon;
  let newB: BirdDaemon;
  let tabby: TabbyProc;
  let capture: Proc;
  const pcap = join(tempDir('tabby-4as-').dir, 'bgp.pcap');

  beforeAll(async () => {
    const t = await net.netns('t');
    const n = await net.netns('n');
    const o = await net.netns('o');
    await net.veth(t, net.name('t0'), n, net.name('n0'), '10.0.0.1/30', '10.0.0.2/30');
    await net.veth(t, net.name('t1'), o, net.name('o0'), '10.0.1.1/30', '10.0.1.2/30');
    capture = net.spawn(o, 'tcpdump', ['-i', net.name('o0'), '-n', '-U', '-w', pcap, 'tcp', 'port', '179']);
    await poll(() => /listening on/.test(capture.output) || !capture.running, { what: 'tcpdump to listen' });
    [oldB, newB] = await Promise.all([BirdDaemon.start({ ns: o, net }, oldBird), BirdDaemon.start({ ns: n, net }, newBird)]);
    tabby = await startTabby(net, t, tabbyConf);
  });
  afterAll(async () => {
    await Promise.allSettled([tabby?.stop(), oldB?.stop(), newB?.stop(), capture?.stop()]);
    await net.cleanup();
  });

  /** My AS of the first OPEN with BGP identifier 10.0.0.1 (ours) in raw capture bytes. */
  const ourOpenMyAs = (b: Uint8Array): number | undefined => {
    for (let i = 0; i + 29 <= b.length; i++) {
      let marker = true;
      for (let k = 0; k < 16 && marker; k++) marker = b[i + k] === 0xff;
      // RFC 4271 §4.1-4.2: marker, length, type 1 (OPEN), version 4, My AS, hold time, BGP identifier.
      if (!marker || b[i + 18] !== 1 || b[i + 19] !== 4) continue;
      if ([...b.subarray(i + 24, i + 28)].join('.') === '10.0.0.1') return (b[i + 20]! << 8) | b[i + 21]!;
    }
    return undefined;
  };

  const route = async (b: BirdDaemon, prefix: string) => (await b.routes(prefix)).find((r) => r.from === 'tabby');

  it('the 2-octet BIRD gets AS_TRANS in My AS and recovers our AS from AS4_PATH', async () => {
    await tabbyEstablished(tabby, '10.0.1.2');
    await poll(async () => (await oldB.protocol('tabby'))?.bgpState === 'Established', { what: 'old BIRD Established' });
    expect(await oldB.birdc('show', 'protocols', 'all', 'tabby')).toMatch(/Session:\s+external(?! AS4)/);
    const myAs = await poll(() => ourOpenMyAs(readFileSync(pcap)), { what: 'our OPEN in the capture' });
    expect(myAs).toBe(23456); // RFC 6793 §4.2.1: AS_TRANS
    const r = await poll(() => route(oldB, '10.10.0.0/24'), { what: 'old BIRD to learn 10.10.0.0/24' });
    // RFC 6793 §4.2.3: AS_PATH "23456" + AS4_PATH "4200000001" merge back into our real AS.
    expect(r.attrs['BGP.as_path']).toBe(String(LOCAL_AS));
    expect(r.via).toBe('10.0.1.1');
  });

  it('the 4-octet BIRD sees AS_PATH 4200000001', async () => {
    await tabbyEstablished(tabby, '10.0.0.2');
    const r = await poll(() => route(newB, '10.10.0.0/24'), { what: 'new BIRD to learn 10.10.0.0/24' });
    expect(r.attrs['BGP.as_path']).toBe(String(LOCAL_AS));
    expect(r.attrs['BGP.as4_path']).toBeUndefined(); // RFC 6793 §4.1: no AS4_PATH between NEW speakers
  });

  it('a route from the 2-octet BIRD keeps its path and reaches the 4-octet BIRD behind our AS', async () => {
    const mine = await poll(async () => (await tabby.routes('10.30.0.0/24'))[0], { what: 'tabby to learn 10.30.0.0/24' });
    expect(mine.asPath).toBe('65003');
    expect(mine.from).toBe('10.0.1.2');
    const r = await poll(() => route(newB, '10.30.0.0/24'), { what: 'new BIRD to learn 10.30.0.0/24' });
    expect(r.attrs['BGP.as_path']).toBe(`${LOCAL_AS} 65003`);
  });

  it('a route from the 4-octet BIRD reaches the 2-octet BIRD with its full path recovered', async () => {
    const mine = await poll(async () => (await tabby.routes('10.20.0.0/24'))[0], { what: 'tabby to learn 10.20.0.0/24' });
    expect(mine.asPath).toBe('65002');
    const r = await poll(() => route(oldB, '10.20.0.0/24'), { what: 'old BIRD to learn 10.20.0.0/24' });
    expect(r.attrs['BGP.as_path']).toBe(`${LOCAL_AS} 65002`);
  });
});
