/**
 * Captured-style messages as commented hex: what BIRD 2, GoBGP and FRR put on the wire, decoded
 * field by field, then re-encoded where the encoding is canonical.
 */
import { describe, expect, it } from 'vitest';
import {
  decodeMessage,
  encodeMessage,
  encodeOpen,
  MessageReader,
  type CodecContext,
  type DecodedMessage,
  type OpenMessage,
} from '../../src/codec/index.js';
import { hex, toHex } from './hex.js';

const MARKER = 'ffffffffffffffffffffffffffffffff';
const ctx2: CodecContext = { fourOctetAs: false, addPath: new Set(), extendedMessage: false };
const ctx4: CodecContext = { fourOctetAs: true, addPath: new Set(), extendedMessage: false };

function accepted(m: DecodedMessage) {
  if (m.type !== 'update' || m.action !== 'accept') throw new Error(`expected an accepted UPDATE, got ${JSON.stringify(m)}`);
  return m;
}

describe('OPEN fixtures', () => {
  it('BIRD 2: all capabilities in one parameter', () => {
    const b = hex(`${MARKER}
      0033 01        // length 51, OPEN
      04             // version 4
      fde9           // my AS 65001
      00f0           // hold time 240
      0a000001       // BGP identifier 10.0.0.1
      16             // optional parameters length 22
      02 14          // parameter: capabilities, 20 octets
        01 04 0001 00 01   // multiprotocol IPv4 unicast
        02 00              // route refresh
        40 02 0078         // graceful restart, restart time 120, no families
        41 04 0000fde9     // 4-octet AS 65001
        46 00              // enhanced route refresh
    `);
    const open: OpenMessage = {
      type: 'open', version: 4, myAs: 65001, holdTime: 240, bgpId: '10.0.0.1',
      capabilities: [
        { type: 'multiprotocol', afi: 1, safi: 1 },
        { type: 'route-refresh' },
        { type: 'graceful-restart', restarting: false, notification: false, restartTime: 120, families: [] },
        { type: 'four-octet-as', asn: 65001 },
        { type: 'enhanced-route-refresh' },
      ],
    };
    expect(decodeMessage(b, ctx2)).toEqual(open);
    expect(toHex(encodeMessage(open, ctx2))).toBe(toHex(b));
  });

  it('GoBGP: one capability per parameter, FQDN capability kept as unknown', () => {
    const b = hex(`${MARKER}
      0041 01        // length 65, OPEN
      04 fde9 005a   // version 4, AS 65001, hold time 90
      c0a80101       // BGP identifier 192.168.1.1
      24             // optional parameters length 36
      02 06 01 04 0001 0001        // multiprotocol IPv4 unicast
      02 02 02 00                  // route refresh
      02 06 41 04 0000fde9         // 4-octet AS 65001
      02 06 45 04 0001 01 03       // ADD-PATH IPv4 unicast, send and receive
      02 06 49 04 02 6777 00       // FQDN (73): hostname "gw", no domain → unknown
    `);
    const open: OpenMessage = {
      type: 'open', version: 4, myAs: 65001, holdTime: 90, bgpId: '192.168.1.1',
      capabilities: [
        { type: 'multiprotocol', afi: 1, safi: 1 },
        { type: 'route-refresh' },
        { type: 'four-octet-as', asn: 65001 },
        { type: 'add-path', families: [{ afi: 1, safi: 1, mode: 3 }] },
        { type: 'unknown', code: 73, value: hex('02677700') },
      ],
    };
    expect(decodeMessage(b, ctx2)).toEqual(open);
    expect(toHex(encodeOpen(open, { capabilityPerParameter: true }))).toBe(toHex(b));
  });

  it('FRR 8: old Cisco route refresh, hostname, long-lived GR are kept and ignored', () => {
    const b = hex(`${MARKER}
      003e 01        // length 62, OPEN
      04 5ba0 00b4   // version 4, AS_TRANS 23456 (4-octet AS in capability), hold 180
      0a000002       // BGP identifier 10.0.0.2
      21             // optional parameters length 33
      02 1f          // capabilities, 31 octets
        01 04 0002 00 01   // multiprotocol IPv6 unicast
        80 00              // Cisco pre-standard route refresh (128) → unknown
        02 00              // route refresh
        46 00              // enhanced route refresh
        41 04 fa56ea00     // 4-octet AS 4200000000
        49 05 03 667272 00 // FQDN "frr" → unknown
        40 02 40 78        // graceful restart: N bit, restart time 120
        47 00              // long-lived graceful restart (71), empty → unknown
    `);
    const m = decodeMessage(b, ctx2) as OpenMessage;
    expect(m.myAs).toBe(23456);
    expect(m.capabilities).toEqual([
      { type: 'multiprotocol', afi: 2, safi: 1 },
      { type: 'unknown', code: 128, value: new Uint8Array(0) },
      { type: 'route-refresh' },
      { type: 'enhanced-route-refresh' },
      { type: 'four-octet-as', asn: 4200000000 },
      { type: 'unknown', code: 73, value: hex('0366727200') },
      { type: 'graceful-restart', restarting: false, notification: true, restartTime: 120, families: [] },
      { type: 'unknown', code: 71, value: new Uint8Array(0) },
    ]);
    expect(toHex(encodeMessage(m, ctx2))).toBe(toHex(b));
  });

  it('RFC 9072 extended optional parameters length', () => {
    const b = hex(`${MARKER}
      0029 01        // length 41, OPEN
      04 fde9 005a 0a000001
      ff             // non-extended length 255 ...
      ff             // ... and type 255: extended format follows
      0009           // extended optional parameters length 9
      02 0006        // capabilities, 2-octet length 6
        41 04 0000fde9 // 4-octet AS 65001
    `);
    const m = decodeMessage(b, ctx2) as OpenMessage;
    expect(m.capabilities).toEqual([{ type: 'four-octet-as', asn: 65001 }]);
    expect(toHex(encodeOpen(m, { extendedParameters: true }))).toBe(toHex(b));
    // Capabilities beyond 255 octets switch to the extended format automatically.
    const big: OpenMessage = { ...m, capabilities: Array.from({ length: 70 }, (_, i) => ({ type: 'unknown' as const, code: 200, value: Uint8Array.of(i, 1) })) };
    const enc = encodeOpen(big);
    expect(enc[28]).toBe(255);
    expect(decodeMessage(enc, ctx2)).toEqual(big);
  });
});

describe('UPDATE fixtures', () => {
  it('every attribute, 4-octet AS session', () => {
    const b = hex(`${MARKER}
      009a 02        // length 154, UPDATE
      0000           // withdrawn routes length 0
      007a           // total path attribute length 122
      40 01 01 00                            // ORIGIN IGP
      40 02 0e 02 03 0000fde9 0000fdea fa56ea00  // AS_PATH SEQUENCE 65001 65002 4200000000
      40 03 04 c0000201                      // NEXT_HOP 192.0.2.1
      80 04 04 00000064                      // MULTI_EXIT_DISC 100
      40 05 04 000000c8                      // LOCAL_PREF 200
      40 06 00                               // ATOMIC_AGGREGATE
      c0 07 08 0000fde9 0a000001             // AGGREGATOR 65001 10.0.0.1
      c0 08 08 fde90064 ffffff01             // COMMUNITIES 65001:100 NO_EXPORT
      80 09 04 0a000002                      // ORIGINATOR_ID 10.0.0.2
      80 0a 08 0a000003 0a000004             // CLUSTER_LIST 10.0.0.3 10.0.0.4
      c0 10 08 0002fde900000064              // EXTENDED_COMMUNITIES route target 65001:100
      c0 20 0c fa56ea00 00000001 00000002    // LARGE_COMMUNITIES 4200000000:1:2
      c0 63 03 010203                        // unknown optional transitive 99
      80 64 02 0102                          // unknown optional non-transitive 100
      18 0a0100                              // NLRI 10.1.0.0/24
      20 0a020304                            // NLRI 10.2.3.4/32
    `);
    const m = accepted(decodeMessage(b, ctx4));
    expect(m.discarded).toEqual([]);
    expect(m.update.nlri).toEqual([{ afi: 1, addr: '10.1.0.0', len: 24 }, { afi: 1, addr: '10.2.3.4', len: 32 }]);
    expect(m.update.attributes).toEqual({
      origin: 0,
      asPath: [{ type: 2, asns: [65001, 65002, 4200000000] }],
      nextHop: '192.0.2.1',
      med: 100,
      localPref: 200,
      atomicAggregate: true,
      aggregator: { asn: 65001, address: '10.0.0.1' },
      communities: [0xfde90064, 0xffffff01],
      originatorId: '10.0.0.2',
      clusterList: ['10.0.0.3', '10.0.0.4'],
      extendedCommunities: [hex('0002fde900000064')],
      largeCommunities: [[4200000000, 1, 2]],
      unknown: [
        { flags: 0xc0, type: 99, value: hex('010203') },
        { flags: 0x80, type: 100, value: hex('0102') },
      ],
    });
    // Re-encoded: the transitive unknown gets Partial (0xe0), the non-transitive one is dropped.
    const re = toHex(encodeMessage(m.update, ctx4));
    expect(re).toBe(toHex(b).replace('c06303010203', 'e06303010203').replace('8064020102', '').replace('009a02', '009502').replace('007a', '0075'));
  });

  it('IPv6 MP_REACH_NLRI with a 32-octet next hop (global + link-local), as BIRD sends', () => {
    const b = hex(`${MARKER}
      005c 02        // length 92
      0000 0045      // no withdrawn, attributes 69
      80 0e 35       // MP_REACH_NLRI, 53 octets
        0002 01      // AFI IPv6, SAFI unicast
        20           // next hop length 32
        20010db8000000000000000000000001  // 2001:db8::1
        fe800000000000000000000000000001  // fe80::1
        00           // reserved
        40 20010db800010000   // 2001:db8:1::/64
        30 20010db80002       // 2001:db8:2::/48
      40 01 01 00                 // ORIGIN IGP
      40 02 06 02 01 0000fde9     // AS_PATH 65001
    `);
    const m = accepted(decodeMessage(b, ctx4));
    expect(m.update.attributes.mpReach).toEqual({
      afi: 2, safi: 1, nextHops: ['2001:db8::1', 'fe80::1'],
      nlri: [{ afi: 2, addr: '2001:db8:1::', len: 64 }, { afi: 2, addr: '2001:db8:2::', len: 48 }],
    });
    expect(toHex(encodeMessage(m.update, ctx4))).toBe(toHex(b));
  });

  it('ADD-PATH NLRI (two paths for one prefix)', () => {
    const ctx: CodecContext = { ...ctx4, addPath: new Set(['ipv4-unicast']) };
    const b = hex(`${MARKER}
      003c 02 0000 0015   // length 60, attributes 21
      40 01 01 02         // ORIGIN INCOMPLETE
      40 02 00            // AS_PATH empty (iBGP)
      40 03 04 0a000001   // NEXT_HOP 10.0.0.1
      40 05 04 00000064   // LOCAL_PREF 100
      00000001 18 0a0100  // path 1: 10.1.0.0/24
      00000002 18 0a0100  // path 2: 10.1.0.0/24
    `);
    const m = accepted(decodeMessage(b, ctx));
    expect(m.update.nlri).toEqual([
      { afi: 1, addr: '10.1.0.0', len: 24, pathId: 1 },
      { afi: 1, addr: '10.1.0.0', len: 24, pathId: 2 },
    ]);
    expect(toHex(encodeMessage(m.update, ctx))).toBe(toHex(b));
  });

  it('2-octet AS_PATH with AS4_PATH and AS4_AGGREGATOR from an OLD speaker (RFC 6793 §4.2.3)', () => {
    const b = hex(`${MARKER}
      0058 02 0000 003d          // length 88, attributes 61
      40 01 01 00                // ORIGIN IGP
      40 02 0a 02 04 fde9 5ba0 5ba0 fdea      // AS_PATH 65001 23456 23456 65002
      40 03 04 0a000001          // NEXT_HOP 10.0.0.1
      c0 07 06 5ba0 0a000009     // AGGREGATOR AS_TRANS 10.0.0.9
      c0 11 0e 02 03 fa56ea00 fa56ea01 0000fdea // AS4_PATH 4200000000 4200000001 65002
      c0 12 08 fa56ea00 0a000009 // AS4_AGGREGATOR 4200000000 10.0.0.9
      18 0a0100                  // NLRI 10.1.0.0/24
    `);
    const m = accepted(decodeMessage(b, ctx2));
    expect(m.update.attributes.asPath).toEqual([{ type: 2, asns: [65001, 4200000000, 4200000001, 65002] }]);
    expect(m.update.attributes.aggregator).toEqual({ asn: 4200000000, address: '10.0.0.9' });
    expect(m.update.attributes.as4Path).toBeUndefined();
    // Without reconciliation the raw attributes are visible.
    const raw = accepted(decodeMessage(b, ctx2, { reconcileAs4: false }));
    expect(raw.update.attributes.asPath).toEqual([{ type: 2, asns: [65001, 23456, 23456, 65002] }]);
    expect(raw.update.attributes.as4Path).toEqual([{ type: 2, asns: [4200000000, 4200000001, 65002] }]);
    // Re-encoding towards a 2-octet peer substitutes AS_TRANS only for ASNs > 65535 and adds AS4_*.
    const again = accepted(decodeMessage(encodeMessage(m.update, ctx2), ctx2, { reconcileAs4: false }));
    expect(again.update.attributes.asPath).toEqual([{ type: 2, asns: [65001, 23456, 23456, 65002] }]);
    expect(again.update.attributes.as4Path).toEqual([{ type: 2, asns: [65001, 4200000000, 4200000001, 65002] }]);
    expect(again.update.attributes.as4Aggregator).toEqual({ asn: 4200000000, address: '10.0.0.9' });
    // Towards a 4-octet peer no AS4_* attribute is sent.
    const four = accepted(decodeMessage(encodeMessage(m.update, ctx4), ctx4));
    expect(four.update.attributes.asPath).toEqual(m.update.attributes.asPath);
    expect(four.discarded).toEqual([]);
  });
});

describe('other messages', () => {
  it('KEEPALIVE, NOTIFICATION, ROUTE-REFRESH', () => {
    expect(decodeMessage(hex(`${MARKER} 0013 04`), ctx4)).toEqual({ type: 'keepalive' });
    const n = hex(`${MARKER} 0018 03 06 02 02 6869 // Cease / Administrative Shutdown, RFC 8203 message "hi"`);
    expect(decodeMessage(n, ctx4)).toEqual({ type: 'notification', code: 6, subcode: 2, data: hex('026869') });
    expect(toHex(encodeMessage({ type: 'notification', code: 6, subcode: 2, data: hex('026869') }, ctx4))).toBe(toHex(n));
    const rr = hex(`${MARKER} 0017 05 0002 01 01 // ROUTE-REFRESH IPv6 unicast, BoRR (RFC 7313)`);
    expect(decodeMessage(rr, ctx4)).toEqual({ type: 'route-refresh', afi: 2, safi: 1, subtype: 1 });
    expect(toHex(encodeMessage({ type: 'route-refresh', afi: 2, safi: 1, subtype: 1 }, ctx4))).toBe(toHex(rr));
  });

  it('MessageReader splits a stream at any chunk boundary', () => {
    const ka = hex(`${MARKER} 0013 04`);
    const rr = hex(`${MARKER} 0017 05 0001 00 01`);
    const stream = new Uint8Array([...ka, ...rr, ...ka]);
    for (let cut = 0; cut <= stream.length; cut++) {
      const r = new MessageReader();
      const got = [...r.push(stream.subarray(0, cut)), ...r.push(stream.subarray(cut))];
      expect(got.map(toHex)).toEqual([ka, rr, ka].map(toHex));
      expect(r.buffered).toBe(0);
    }
  });

  it('MessageReader takes a 65535-octet message one octet at a time', () => {
    const big = new Uint8Array(65535);
    big.fill(0xff, 0, 16);
    big.set([0xff, 0xff, 2, 0, 0, 0xff, 0xe8], 16); // length 65535, UPDATE, no withdrawn, 65512 octets of attributes
    const r = new MessageReader({ extendedMessage: true });
    const got: Uint8Array[] = [];
    for (let i = 0; i < big.length; i++) got.push(...r.push(big.subarray(i, i + 1)));
    expect(got.length).toBe(1);
    expect(got[0]!.length).toBe(65535);
    expect(r.buffered).toBe(0);
  });
});
