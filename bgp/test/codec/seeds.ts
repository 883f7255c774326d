/** Valid messages of every kind, the starting points of the fuzz test and the benchmark. */
import { encodeMessage, encodeUpdates, type CodecContext, type PathAttributes, type Prefix } from '../../src/codec/index.js';

/** The contexts the fuzz test decodes under. */
export const CONTEXTS: CodecContext[] = [
  { fourOctetAs: true, addPath: new Set(), extendedMessage: false },
  { fourOctetAs: false, addPath: new Set(), extendedMessage: false },
  { fourOctetAs: true, addPath: new Set(['ipv4-unicast', 'ipv6-unicast']), extendedMessage: true },
];

const every: PathAttributes = {
  origin: 0,
  asPath: [{ type: 2, asns: [65001, 4200000000] }, { type: 1, asns: [65003, 65004] }],
  nextHop: '192.0.2.1',
  med: 100,
  localPref: 200,
  atomicAggregate: true,
  aggregator: { asn: 4200000000, address: '10.0.0.1' },
  communities: [0xfde90064, 0xffffff01],
  originatorId: '10.0.0.2',
  clusterList: ['10.0.0.3'],
  extendedCommunities: [Uint8Array.of(0, 2, 0xfd, 0xe9, 0, 0, 0, 100)],
  largeCommunities: [[4200000000, 1, 2]],
  unknown: [{ flags: 0xe0, type: 99, value: Uint8Array.of(1, 2, 3) }],
};

function v4(n: number, len = 32): Prefix[] {
  return Array.from({ length: n }, (_, i) => ({ afi: 1 as const, addr: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, len }));
}

/** Seed messages (each whole, header included). */
export function seedMessages(): Uint8Array[] {
  const c4 = CONTEXTS[0]!;
  const c2 = CONTEXTS[1]!;
  const cap = CONTEXTS[2]!;
  const out: Uint8Array[] = [];
  out.push(encodeMessage({ type: 'open', version: 4, myAs: 23456, holdTime: 90, bgpId: '10.0.0.1', capabilities: [
    { type: 'multiprotocol', afi: 1, safi: 1 }, { type: 'multiprotocol', afi: 2, safi: 1 }, { type: 'route-refresh' }, { type: 'enhanced-route-refresh' },
    { type: 'four-octet-as', asn: 4200000000 }, { type: 'extended-message' },
    { type: 'graceful-restart', restarting: true, notification: true, restartTime: 120, families: [{ afi: 1, safi: 1, forwardingState: true }] },
    { type: 'add-path', families: [{ afi: 1, safi: 1, mode: 3 }] }, { type: 'unknown', code: 73, value: Uint8Array.of(2, 0x67, 0x77, 0) },
  ] }, c4));
  out.push(encodeMessage({ type: 'keepalive' }, c4));
  out.push(encodeMessage({ type: 'notification', code: 6, subcode: 2, data: Uint8Array.of(2, 0x68, 0x69) }, c4));
  out.push(encodeMessage({ type: 'route-refresh', afi: 1, safi: 1, subtype: 1 }, c4));
  out.push(encodeMessage({ type: 'update', withdrawn: v4(3, 24), attributes: every, nlri: v4(5) }, c4));
  out.push(encodeMessage({ type: 'update', withdrawn: [], attributes: every, nlri: v4(4, 24) }, c2));
  out.push(encodeMessage({ type: 'update', withdrawn: [], attributes: { origin: 0, asPath: [{ type: 2, asns: [65001] }], mpReach: { afi: 2, safi: 1, nextHops: ['2001:db8::1', 'fe80::1'], nlri: [{ afi: 2, addr: '2001:db8:1::', len: 64 }, { afi: 2, addr: '2001:db8::', len: 32 }] } }, nlri: [] }, c4));
  out.push(encodeMessage({ type: 'update', withdrawn: [], attributes: { mpUnreach: { afi: 2, safi: 1, withdrawn: [{ afi: 2, addr: '2001:db8:1::', len: 64, pathId: 7 }] } }, nlri: [] }, cap));
  out.push(encodeMessage({ type: 'update', withdrawn: [], attributes: { origin: 2, asPath: [], nextHop: '10.0.0.1', localPref: 100 }, nlri: v4(6).map((p, i) => ({ ...p, pathId: i })) }, cap));
  // A BIRD-like UPDATE of /32s sharing one attribute set (100 here to keep the fuzz loop fast).
  out.push(encodeUpdates({ origin: 0, asPath: [{ type: 2, asns: [65001] }], nextHop: '10.0.0.1' }, v4(100), [], 'ipv4-unicast', c4)[0]!);
  return out;
}
