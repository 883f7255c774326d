/**
 * Integration: two speakers (fixtures/speaker-child.ts), each in its own network namespace,
 * joined by a veth pair with IPv4 and IPv6 addresses, peer over real TCP on both transports.
 * Both sides are active and passive at once, so connection collisions happen for real.
 * Needs root (namespaces); waits only with `poll`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { TestNet, type Netns, type Proc, missingRequirements, titleWithSkip } from '@tabby/testkit';
import { poll } from './fixtures/poll-children.js';

const child = fileURLToPath(new URL('./fixtures/speaker-child.ts', import.meta.url));
const root = fileURLToPath(new URL('../../../', import.meta.url));
const missing = missingRequirements('root', 'ip');

interface Ev {
  ev: string;
  peer?: string;
  [k: string]: unknown;
}

function events(p: Proc): Ev[] {
  return p.output
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .flatMap((l) => {
      try {
        return [JSON.parse(l) as Ev];
      } catch {
        return [];
      }
    });
}

const count = (p: Proc, f: (e: Ev) => boolean): number => events(p).filter(f).length;

describe.skipIf(missing !== undefined)(titleWithSkip('session shell over real TCP in network namespaces', missing), () => {
  const net = new TestNet();
  let a: Proc;
  let b: Proc;
  let nsA: Netns;

  beforeAll(async () => {
    nsA = await net.netns('sa');
    const nsB = await net.netns('sb');
    const ifA = net.name('sa0');
    const ifB = net.name('sb0');
    await net.veth(nsA, ifA, nsB, ifB, '10.0.0.1/30', '10.0.0.2/30');
    await nsA.ip('addr', 'add', 'fd00::1/64', 'dev', ifA, 'nodad');
    await nsB.ip('addr', 'add', 'fd00::2/64', 'dev', ifB, 'nodad');
    const spawn = (ns: typeof nsA, cfg: object): Proc =>
      net.spawn(ns, process.execPath, ['--import', 'tsx', child], { cwd: root, env: { ...process.env, SPEAKER: JSON.stringify(cfg) } });
    a = spawn(nsA, {
      listen: { host: '::', port: 179 },
      localAs: 64512,
      localId: '10.0.0.1',
      peers: [
        { address: '10.0.0.2', peerAs: 64512, localAddress: '10.0.0.1', announce: '192.168.1.0/24' },
        { address: 'fd00::2', peerAs: 64512, localAddress: 'fd00::1', announce: '2001:db8:1::/48' },
      ],
    });
    b = spawn(nsB, {
      listen: { host: '::', port: 179 },
      localAs: 64512,
      localId: '10.0.0.2',
      peers: [
        { address: '10.0.0.1', peerAs: 64512, localAddress: '10.0.0.2' },
        { address: 'fd00::1', peerAs: 64512, localAddress: 'fd00::2' },
      ],
    });
  });

  afterAll(async () => {
    await net.cleanup();
  });

  const established = (p: Proc, peer: string): number => count(p, (e) => e.ev === 'established' && e.peer === peer);
  const what = (s: string): { what: string; timeout: number } => ({ what: s, timeout: 30_000 });
  const both = (): Proc[] => [a, b];

  it('reaches Established over IPv4 and IPv6 on both sides', async () => {
    await poll(() => established(a, '10.0.0.2') >= 1 && established(b, '10.0.0.1') >= 1, what('IPv4 Established'), both);
    await poll(() => established(a, 'fd00::2') >= 1 && established(b, 'fd00::1') >= 1, what('IPv6 Established'), both);
    const e = events(a).find((x) => x.ev === 'established' && x.peer === '10.0.0.2');
    expect(e).toMatchObject({ holdTime: 3, families: ['ipv4-unicast', 'ipv6-unicast'] });
  });

  it('keeps exactly one TCP connection per peer after collisions are resolved', async () => {
    const sessions = async (): Promise<string> => nsA.exec('ss', '-Htn', 'state', 'established', '( sport = :179 or dport = :179 )');
    await poll(
      async () => {
        const lines = (await sessions()).trim().split('\n').filter(Boolean);
        return lines.length === 2 && lines.some((l) => l.includes('10.0.0.2')) && lines.some((l) => l.includes('fd00::2'));
      },
      what('one connection per transport'),
      both,
    );
  });

  it('delivers UPDATEs sent with sendUpdates, on both transports', async () => {
    await poll(() => count(b, (e) => e.ev === 'update' && e.peer === '10.0.0.1' && (e.prefixes as string[]).includes('192.168.1.0/24')) > 0, what('IPv4 UPDATE'), both);
    await poll(() => count(b, (e) => e.ev === 'update' && e.peer === 'fd00::1' && (e.prefixes as string[]).includes('2001:db8:1::/48')) > 0, what('IPv6 UPDATE'), both);
  });

  it('keeps the session up with keepalives (hold time 3 s)', async () => {
    const base = count(a, (e) => e.ev === 'keepalive' && e.peer === '10.0.0.2');
    await poll(() => count(a, (e) => e.ev === 'keepalive' && e.peer === '10.0.0.2') >= base + 4, what('4 more keepalives'), both);
    expect(count(a, (e) => e.ev === 'down')).toBe(0);
  });

  it('a NOTIFICATION tears the session down and both sides reconnect', async () => {
    const before = established(a, '10.0.0.2');
    process.kill(b.pid, 'SIGUSR1'); // B: AutomaticStop with Cease / Administrative Reset, restart after 300 ms
    await poll(
      () =>
        events(a).some(
          (e) => e.ev === 'down' && e.peer === '10.0.0.2' && JSON.stringify(e.reason).includes('"cause":"notification-received"') && JSON.stringify(e.reason).includes('"subcode":4'),
        ),
      what('down with Cease 4 at A'),
      both,
    );
    await poll(() => established(a, '10.0.0.2') > before && established(a, 'fd00::2') > 1, what('re-established'), both);
    // the announcement is sent again on the new session
    await poll(() => count(b, (e) => e.ev === 'update' && e.peer === '10.0.0.1' && (e.prefixes as string[]).includes('192.168.1.0/24')) >= 2, what('UPDATE again'), both);
  });

  it('a stopped peer refuses connections and stays down', async () => {
    process.kill(b.pid, 'SIGUSR2'); // B: ManualStop, Cease / Administrative Shutdown
    await poll(() => events(a).some((e) => e.ev === 'down' && JSON.stringify(e.reason).includes('"subcode":2')), what('down with Cease 2'), both);
    await poll(() => {
      const last = events(a).filter((e) => e.ev === 'state' && e.peer === '10.0.0.2').at(-1);
      return last !== undefined && last.to !== 'Established';
    }, what('A not Established'), both);
  });
});
