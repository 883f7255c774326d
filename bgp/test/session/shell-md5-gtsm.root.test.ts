/**
 * Integration: TCP-MD5 (RFC 2385) and GTSM (RFC 5082) through @tabby/netlink's setsockopt
 * wrappers, between speakers in network namespaces. A matching key and hop count establish; a
 * wrong key never gets past the SYN (the kernel drops unsigned or mis-signed segments), so that
 * peer keeps retrying. Needs root and the built netlink addon.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { TestNet, type Netns, type Proc, missingRequirements, titleWithSkip } from '@tabby/testkit';
import { poll } from './fixtures/poll-children.js';

const child = fileURLToPath(new URL('./fixtures/speaker-child.ts', import.meta.url));
const root = fileURLToPath(new URL('../../../', import.meta.url));
const addon = fileURLToPath(new URL('../../../packages/netlink/build/Release/tabby_netlink.node', import.meta.url));
const missing = missingRequirements('root', 'ip') ?? (existsSync(addon) ? undefined : `needs the netlink addon at ${addon} (npm run build)`);

interface Ev {
  ev: string;
  peer?: string;
  [k: string]: unknown;
}
const events = (p: Proc): Ev[] =>
  p.output
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .flatMap((l) => {
      try {
        return [JSON.parse(l) as Ev];
      } catch {
        return [];
      }
    });

describe.skipIf(missing !== undefined)(titleWithSkip('TCP-MD5 and GTSM between namespaces', missing), () => {
  const net = new TestNet();
  let nsA: Netns;
  let nsB: Netns;
  const spawn = (ns: Netns, cfg: object): Proc =>
    net.spawn(ns, process.execPath, ['--import', 'tsx', child], { cwd: root, env: { ...process.env, SPEAKER: JSON.stringify(cfg), DEBUG_EVENTS: '1' } });
  const speaker = (id: string, peer: string, password: string, port: number, passive = false): object => ({
    listen: { host: '::', port },
    localAs: 64512,
    localId: id,
    netlinkSocketOptions: true,
    peers: [{ address: peer, peerAs: 64512, localAddress: id, password, ttlSecurityHops: 1, passive }],
  });

  beforeAll(async () => {
    nsA = await net.netns('ma');
    nsB = await net.netns('mb');
    await net.veth(nsA, net.name('ma0'), nsB, net.name('mb0'), '10.0.1.1/30', '10.0.1.2/30');
  });
  afterAll(() => net.cleanup());

  it('matching keys and GTSM establish over IPv4', async () => {
    const a = spawn(nsA, speaker('10.0.1.1', '10.0.1.2', 'tabby-secret', 179));
    const b = spawn(nsB, speaker('10.0.1.2', '10.0.1.1', 'tabby-secret', 179));
    const up = (p: Proc): boolean => events(p).some((e) => e.ev === 'established');
    await poll(() => up(a) && up(b), { what: 'MD5 session' }, () => [a, b]);
    expect(events(a).filter((e) => e.ev === 'log' && e.level === 'error')).toEqual([]);
    await a.stop();
    await b.stop();
  });

  it('a wrong key never gets a connection through', async () => {
    const a = spawn(nsA, speaker('10.0.1.1', '10.0.1.2', 'right-key', 179, true));
    const b = spawn(nsB, speaker('10.0.1.2', '10.0.1.1', 'wrong-key', 179));
    // A's kernel drops B's SYNs (signed with another key): B's ConnectRetry timer keeps firing (Connect → Connect).
    const attempts = (): number =>
      events(b).filter((e) => e.ev === 'debug' && (e.event as { type: string; timer?: string }).timer === 'connect-retry').length;
    await poll(() => attempts() >= 3, { what: '3 attempts by B' }, () => [a, b]);
    expect(events(a).some((e) => e.ev === 'established' || (e.ev === 'state' && e.to === 'OpenSent'))).toBe(false);
    expect(events(b).some((e) => e.ev === 'established' || (e.ev === 'state' && e.to === 'OpenSent'))).toBe(false);
    await a.stop();
    await b.stop();
  });
});
