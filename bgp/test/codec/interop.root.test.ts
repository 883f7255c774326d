/**
 * Codec against real BIRD 2 bytes (root; skipped otherwise): BIRD in one namespace, two raw
 * peers (interop/raw-peer.ts, codec only, no session logic) in another, over a veth. BIRD sends
 * its OPEN, IPv4 and IPv6 (MP_REACH) UPDATEs with MED, communities, extended and large
 * communities and a 4-octet ASN, to a 4-octet peer and to a 2-octet-only peer (AS_TRANS +
 * AS4_PATH), and End-of-RIB. Every captured message must decode, re-encode and decode again to
 * the same value.
 */
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BirdDaemon, FrrDaemon, GobgpDaemon, TestNet, poll, type Netns, type Proc, missingRequirements, titleWithSkip } from '@tabby/testkit';
import { decodeMessage, encodeMessage, isEndOfRib, type CodecContext, type DecodedMessage, type OpenMessage, type UpdateMessage } from '../../src/codec/index.js';
import { hex } from './hex.js';

const has = (cmd: string, ...args: string[]): boolean => {
  try {
    execFileSync(cmd, args, { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
};
const hasBird = has('bird', '--version');
const hasGobgp = has('gobgpd', '--version');
const hasFrr = has('/usr/lib/frr/bgpd', '--version');
const missing = {
  bird: missingRequirements('root', 'ip') ?? (hasBird ? undefined : 'needs bird (Debian package bird2)'),
  gobgp: missingRequirements('root', 'ip') ?? (hasGobgp ? undefined : 'needs gobgpd (Debian package gobgpd)'),
  frr: missingRequirements('root', 'ip') ?? (hasFrr ? undefined : 'needs /usr/lib/frr/bgpd (Debian package frr)'),
};
const peerScript = join(dirname(fileURLToPath(import.meta.url)), 'interop', 'raw-peer.ts');
const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

const birdConf = `
router id 10.0.0.2;
protocol device {}
protocol static s4 { ipv4; route 10.1.0.0/24 blackhole; route 10.2.0.0/16 blackhole; route 10.3.0.1/32 blackhole; }
protocol static s6 { ipv6; route 2001:db8:1::/64 blackhole; }
filter out4 {
  if net = 10.1.0.0/24 then {
    bgp_med = 50; bgp_community.add((65001,100)); bgp_large_community.add((4200000002,1,2));
    bgp_ext_community.add((rt,65001,100)); bgp_path.prepend(4200000099);
  }
  accept;
}
protocol bgp four { local 10.0.0.2 as 4200000002; neighbor 10.0.0.1 as 65002; connect delay time 1;
  ipv4 { import none; export filter out4; }; ipv6 { import none; export all; next hop address fd00::2; }; }
protocol bgp old { local 10.0.0.2 as 65001; neighbor 10.0.0.3 as 65003; enable as4 off; connect delay time 1;
  ipv4 { import none; export filter out4; }; }
`;

interface Capture {
  messages: Uint8Array[];
  done: string;
}

function captured(p: Proc): Capture | undefined {
  const lines = p.output.split('\n').filter((l) => l.startsWith('{'));
  const objs = lines.map((l) => JSON.parse(l) as { hex?: string; done?: string });
  const done = objs.find((o) => o.done !== undefined)?.done;
  if (done === undefined) return undefined;
  return { done, messages: objs.filter((o) => o.hex).map((o) => hex(o.hex!)) };
}

describe.skipIf(missing.bird !== undefined)(titleWithSkip('codec with real BIRD 2 messages (root)', missing.bird), () => {
  const net = new TestNet();
  let four: Capture;
  let old: Capture;

  beforeAll(async () => {
    const p = await net.netns('cp');
    const b = await net.netns('cb');
    await net.veth(p, net.name('cp0'), b, net.name('cb0'), '10.0.0.1/24', '10.0.0.2/24');
    await p.ip('addr', 'add', '10.0.0.3/24', 'dev', net.name('cp0'));
    const spawnPeer = (addr: string, as: string, families: string, fourOctet: string): Proc =>
      net.spawn(p, process.execPath, ['--import', 'tsx', peerScript, 'listen', addr, '179', as, addr, families, fourOctet], { cwd: repoRoot });
    const pFour = spawnPeer('10.0.0.1', '65002', 'ipv4-unicast,ipv6-unicast', '1');
    const pOld = spawnPeer('10.0.0.3', '65003', 'ipv4-unicast', '0');
    await poll(() => pFour.output.includes('listening') && pOld.output.includes('listening'), { timeout: 30_000, what: 'raw peers listening' });
    await BirdDaemon.start({ ns: b, net }, birdConf);
    four = await poll(() => captured(pFour), { timeout: 30_000, what: 'capture from BIRD (4-octet peer)' });
    old = await poll(() => captured(pOld), { timeout: 30_000, what: 'capture from BIRD (2-octet peer)' });
  }, 90_000);

  afterAll(async () => {
    await net.cleanup();
  });

  function replay(c: Capture, ctx: CodecContext): DecodedMessage[] {
    return c.messages.map((m) => {
      const d = decodeMessage(m, ctx);
      if (d.type === 'update') {
        expect(d.action).toBe('accept');
        // Idempotent: what we decoded re-encodes into something that decodes to the same value.
        const again = decodeMessage(encodeMessage(d.update, ctx), ctx);
        expect(again.type === 'update' && again.update).toEqual(d.update);
      }
      return d;
    });
  }

  it('4-octet session: OPEN, IPv4 and IPv6 UPDATEs with every BIRD attribute, End-of-RIB', () => {
    expect(four.done).toBe('end-of-rib');
    const ctx: CodecContext = { fourOctetAs: true, addPath: new Set(), extendedMessage: false };
    const ds = replay(four, ctx);
    const open = ds.find((d): d is OpenMessage => d.type === 'open')!;
    expect(open.myAs).toBe(23456);
    expect(open.capabilities).toContainEqual({ type: 'four-octet-as', asn: 4200000002 });
    expect(open.capabilities).toContainEqual({ type: 'multiprotocol', afi: 2, safi: 1 });
    const updates = ds.flatMap((d) => (d.type === 'update' ? [d.update] : []));
    const byPrefix = new Map<string, UpdateMessage>();
    for (const u of updates) {
      for (const p of [...u.nlri, ...(u.attributes.mpReach?.nlri ?? [])]) byPrefix.set(`${p.addr}/${p.len}`, u);
    }
    expect([...byPrefix.keys()].sort()).toEqual(['10.1.0.0/24', '10.2.0.0/16', '10.3.0.1/32', '2001:db8:1::/64']);
    const a = byPrefix.get('10.1.0.0/24')!.attributes;
    expect(a.asPath).toEqual([{ type: 2, asns: [4200000002, 4200000099] }]);
    expect(a.med).toBe(50);
    expect(a.communities).toEqual([(65001 * 65536 + 100) >>> 0]);
    expect(a.largeCommunities).toEqual([[4200000002, 1, 2]]);
    expect(a.extendedCommunities?.map((c) => Buffer.from(c).toString('hex'))).toEqual(['0002fde900000064']);
    expect(a.nextHop).toBe('10.0.0.2');
    const v6 = byPrefix.get('2001:db8:1::/64')!.attributes.mpReach!;
    expect(v6.nextHops[0]).toBe('fd00::2');
    expect(updates.map(isEndOfRib).filter((f) => f !== null).sort()).toEqual(['ipv4-unicast', 'ipv6-unicast']);
  });

  it('2-octet-only session: AS_TRANS in AS_PATH, AS4_PATH reconciled (RFC 6793)', () => {
    expect(old.done).toBe('end-of-rib');
    const ctx: CodecContext = { fourOctetAs: false, addPath: new Set(), extendedMessage: false };
    const raw = old.messages.map((m) => decodeMessage(m, ctx, { reconcileAs4: false }));
    const u = raw.find((d) => d.type === 'update' && d.update.nlri.some((p) => p.addr === '10.1.0.0'));
    if (!u || u.type !== 'update') throw new Error('no UPDATE for 10.1.0.0/24');
    expect(u.update.attributes.asPath).toEqual([{ type: 2, asns: [65001, 23456] }]);
    expect(u.update.attributes.as4Path).toEqual([{ type: 2, asns: [65001, 4200000099] }]);
    const ds = replay(old, ctx);
    const r = ds.find((d) => d.type === 'update' && d.update.nlri.some((p) => p.addr === '10.1.0.0'));
    expect(r?.type === 'update' && r.update.attributes.asPath).toEqual([{ type: 2, asns: [65001, 4200000099] }]);
    // Print one captured UPDATE for the fixtures (visible with --reporter verbose).
    const first = old.messages.find((m) => m[18] === 2 && m.length > 23);
    expect(first).toBeDefined();
  });
});

/** The context a capture decodes under: 4-octet AS and ADD-PATH as the OPENs negotiated. */
function negotiated(c: Capture, four: boolean, addPath: boolean): CodecContext {
  const open = c.messages.map((m) => decodeMessage(m, { fourOctetAs: false, addPath: new Set(), extendedMessage: false })).find((d): d is OpenMessage => d.type === 'open');
  const ctx: CodecContext = { fourOctetAs: four && !!open?.capabilities.some((x) => x.type === 'four-octet-as'), addPath: new Set(), extendedMessage: false };
  for (const x of open?.capabilities ?? []) {
    if (x.type !== 'add-path' || !addPath) continue;
    for (const f of x.families) if (f.safi === 1 && f.mode !== 1) ctx.addPath = new Set([...ctx.addPath, f.afi === 1 ? 'ipv4-unicast' : 'ipv6-unicast']);
  }
  return ctx;
}

function replayAll(c: Capture, ctx: CodecContext): UpdateMessage[] {
  const out: UpdateMessage[] = [];
  for (const m of c.messages) {
    const d = decodeMessage(m, ctx);
    if (d.type !== 'update') continue;
    expect(d.action).toBe('accept');
    expect(decodeMessage(encodeMessage(d.update, ctx), ctx)).toEqual(d);
    out.push(d.update);
  }
  return out;
}

async function rawPeer(net: TestNet, ns: Netns, addr: string, as: string, families: string, addPath: boolean, minPrefixes: number): Promise<Proc> {
  const args = [peerScript, 'listen', addr, '179', as, addr, families, '1', addPath ? '1' : '0', String(minPrefixes)];
  const p = net.spawn(ns, process.execPath, ['--import', 'tsx', ...args], { cwd: repoRoot });
  await poll(() => p.output.includes('listening'), { timeout: 30_000, what: 'raw peer listening' });
  return p;
}

describe.skipIf(missing.gobgp !== undefined)(titleWithSkip('codec with real GoBGP messages (root)', missing.gobgp), () => {
  const net = new TestNet();
  let cap: Capture;

  beforeAll(async () => {
    const p = await net.netns('gp');
    const g = await net.netns('gg');
    await net.veth(p, net.name('gp0'), g, net.name('gg0'), '10.0.0.1/24', '10.0.0.2/24');
    const peer = await rawPeer(net, p, '10.0.0.1', '65002', 'ipv4-unicast,ipv6-unicast', true, 3);
    const gobgp = await GobgpDaemon.start({ ns: g, net }, `
global:
  config: { as: 4200000001, router-id: 10.0.0.2, port: -1 }
neighbors:
  - config: { neighbor-address: 10.0.0.1, peer-as: 65002 }
    timers: { config: { connect-retry: 1 } }
    afi-safis:
      - config: { afi-safi-name: ipv4-unicast }
        add-paths: { config: { send-max: 4 } }
      - config: { afi-safi-name: ipv6-unicast }
`);
    await gobgp.addRoute('10.1.0.0/24', 'identifier', '1', 'nexthop', '10.0.0.2', 'med', '50', 'community', '65001:100', 'large-community', '4200000001:1:2');
    await gobgp.addRoute('10.1.0.0/24', 'identifier', '2', 'nexthop', '10.0.0.9');
    await gobgp.addRoute('2001:db8:1::/64', 'nexthop', '2001:db8::2');
    cap = await poll(() => captured(peer), { timeout: 40_000, what: 'capture from GoBGP' });
  }, 90_000);

  afterAll(async () => {
    await net.cleanup();
  });

  it('OPEN, ADD-PATH IPv4 NLRI and IPv6 MP_REACH decode and re-encode', () => {
    const ctx = negotiated(cap, true, true);
    expect(ctx.fourOctetAs).toBe(true);
    const updates = replayAll(cap, ctx);
    const v4 = updates.flatMap((u) => u.nlri.map((p) => ({ p, a: u.attributes })));
    const paths = v4.filter((x) => x.p.addr === '10.1.0.0' && x.p.len === 24);
    expect(paths.length).toBeGreaterThanOrEqual(1);
    if (ctx.addPath.has('ipv4-unicast')) expect(new Set(paths.map((x) => x.p.pathId)).size).toBe(paths.length);
    const withMed = paths.find((x) => x.a.med === 50)!;
    expect(withMed.a.communities).toEqual([(65001 * 65536 + 100) >>> 0]);
    expect(withMed.a.largeCommunities).toEqual([[4200000001, 1, 2]]);
    expect(withMed.a.asPath).toEqual([{ type: 2, asns: [4200000001] }]);
    const v6 = updates.flatMap((u) => u.attributes.mpReach?.nlri ?? []);
    expect(v6).toContainEqual({ afi: 2, addr: '2001:db8:1::', len: 64 });
  });
});

describe.skipIf(missing.frr !== undefined)(titleWithSkip('codec with real FRR messages (root)', missing.frr), () => {
  const net = new TestNet();
  let cap: Capture;

  beforeAll(async () => {
    const p = await net.netns('fp');
    const f = await net.netns('ff');
    await net.veth(p, net.name('fp0'), f, net.name('ff0'), '10.0.0.1/24', '10.0.0.2/24');
    const peer = await rawPeer(net, p, '10.0.0.1', '65002', 'ipv4-unicast,ipv6-unicast', false, 3);
    await FrrDaemon.start({ ns: f, net }, `
hostname frr
route-map OUT permit 10
 set community 65001:100
 set large-community 65001:1:2
 set as-path prepend 4200000099
router bgp 65003
 bgp router-id 10.0.0.2
 no bgp ebgp-requires-policy
 no bgp network import-check
 neighbor 10.0.0.1 remote-as 65002
 neighbor 10.0.0.1 timers connect 1
 address-family ipv4 unicast
  network 10.1.0.0/24
  network 10.3.0.1/32
  neighbor 10.0.0.1 route-map OUT out
 exit-address-family
 address-family ipv6 unicast
  neighbor 10.0.0.1 activate
  network 2001:db8:1::/64
 exit-address-family
`);
    cap = await poll(() => captured(peer), { timeout: 40_000, what: 'capture from FRR' });
  }, 90_000);

  afterAll(async () => {
    await net.cleanup();
  });

  it('OPEN with FRR capabilities, IPv4 and IPv6 UPDATEs decode and re-encode', () => {
    const ctx = negotiated(cap, true, false);
    const updates = replayAll(cap, ctx);
    const v4 = new Map(updates.flatMap((u) => u.nlri.map((p) => [`${p.addr}/${p.len}`, u.attributes] as const)));
    expect([...v4.keys()].sort()).toEqual(['10.1.0.0/24', '10.3.0.1/32']);
    const a = v4.get('10.1.0.0/24')!;
    expect(a.asPath).toEqual([{ type: 2, asns: [65003, 4200000099] }]);
    expect(a.communities).toEqual([(65001 * 65536 + 100) >>> 0]);
    expect(a.largeCommunities).toEqual([[65001, 1, 2]]);
    const v6 = updates.flatMap((u) => u.attributes.mpReach?.nlri ?? []);
    expect(v6).toContainEqual({ afi: 2, addr: '2001:db8:1::', len: 64 });
  });
});
