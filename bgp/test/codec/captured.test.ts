/**
 * Messages captured from real daemons by interop.test.ts, one comment per field: BIRD 2.0.12
 * (AS 4200000002 towards a 4-octet peer, and AS 65001 with `enable as4 off`), GoBGP 3.10 (AS
 * 4200000001, ADD-PATH send) and FRR 8.4 (AS 65003).
 */
import { describe, expect, it } from 'vitest';
import { decodeMessage, isEndOfRib, type CodecContext, type DecodedMessage, type OpenMessage } from '../../src/codec/index.js';
import { hex } from './hex.js';

const M = 'ffffffffffffffffffffffffffffffff';
const ctx4: CodecContext = { fourOctetAs: true, addPath: new Set(), extendedMessage: false };
const ctx2: CodecContext = { fourOctetAs: false, addPath: new Set(), extendedMessage: false };

function upd(d: DecodedMessage) {
  if (d.type !== 'update' || d.action !== 'accept') throw new Error(`not an accepted UPDATE: ${JSON.stringify(d)}`);
  return d.update;
}

describe('BIRD 2 captured', () => {
  it('OPEN of a 4-octet AS', () => {
    const b = hex(`${M} 003b 01
      04 5ba0 00f0 0a000002   // version 4, AS_TRANS, hold 240, id 10.0.0.2
      1e 02 1c                // 30 octets of parameters: one capabilities parameter of 28
      01 04 0001 00 01        // multiprotocol IPv4 unicast
      01 04 0002 00 01        // multiprotocol IPv6 unicast
      02 00                   // route refresh
      40 02 0078              // graceful restart (aware), 120 s, no families
      41 04 fa56ea02          // 4-octet AS 4200000002
      46 00                   // enhanced route refresh
      47 00                   // long-lived graceful restart (71) → unknown`);
    const o = decodeMessage(b, ctx4) as OpenMessage;
    expect(o).toMatchObject({ type: 'open', myAs: 23456, holdTime: 240, bgpId: '10.0.0.2' });
    expect(o.capabilities.map((c) => c.type)).toEqual(['multiprotocol', 'multiprotocol', 'route-refresh', 'graceful-restart', 'four-octet-as', 'enhanced-route-refresh', 'unknown']);
  });

  it('IPv4 UPDATE with MED, communities, extended and large communities', () => {
    const u = upd(decodeMessage(hex(`${M} 005b 02
      0000 0040                          // no withdrawn; 64 octets of attributes
      40 01 01 00                        // ORIGIN IGP
      40 02 0a 02 02 fa56ea02 fa56ea63   // AS_PATH SEQUENCE 4200000002 4200000099
      40 03 04 0a000002                  // NEXT_HOP 10.0.0.2
      80 04 04 00000032                  // MULTI_EXIT_DISC 50
      c0 08 04 fde90064                  // COMMUNITIES 65001:100
      c0 10 08 0002fde900000064          // EXTENDED_COMMUNITIES rt 65001:100
      c0 20 0c fa56ea02 00000001 00000002 // LARGE_COMMUNITIES 4200000002:1:2
      18 0a0100                          // 10.1.0.0/24`), ctx4));
    expect(u.nlri).toEqual([{ afi: 1, addr: '10.1.0.0', len: 24 }]);
    expect(u.attributes).toMatchObject({ origin: 0, asPath: [{ type: 2, asns: [4200000002, 4200000099] }], nextHop: '10.0.0.2', med: 50, communities: [0xfde90064], largeCommunities: [[4200000002, 1, 2]] });
  });

  it('IPv6 MP_REACH_NLRI with extended length flag and a link-local second next hop', () => {
    const u = upd(decodeMessage(hex(`${M} 0056 02
      0000 003f                          // no withdrawn; 63 octets of attributes
      90 0e 002e                         // MP_REACH_NLRI, Extended Length set although 46 < 256
        0002 01 20                       // IPv6 unicast, next hop 32 octets
        fd000000000000000000000000000002 // fd00::2
        fe80000000000000d4543cfffed2ac27 // fe80::d454:3cff:fed2:ac27
        00                               // reserved
        40 20010db800010000              // 2001:db8:1::/64
      40 01 01 00                        // ORIGIN IGP
      40 02 06 02 01 fa56ea02            // AS_PATH 4200000002`), ctx4));
    expect(u.attributes.mpReach).toEqual({ afi: 2, safi: 1, nextHops: ['fd00::2', 'fe80::d454:3cff:fed2:ac27'], nlri: [{ afi: 2, addr: '2001:db8:1::', len: 64 }] });
  });

  it('End-of-RIB for IPv4 and IPv6', () => {
    expect(isEndOfRib(upd(decodeMessage(hex(`${M} 0017 02 0000 0000 // empty UPDATE`), ctx4)))).toBe('ipv4-unicast');
    expect(isEndOfRib(upd(decodeMessage(hex(`${M} 001d 02 0000 0006 80 0f 03 0002 01 // empty MP_UNREACH IPv6 unicast`), ctx4)))).toBe('ipv6-unicast');
  });

  it('towards a 2-octet-only peer: AS_TRANS in AS_PATH plus AS4_PATH', () => {
    const b = hex(`${M} 0064 02
      0000 0049                          // no withdrawn; 73 octets of attributes
      40 01 01 00                        // ORIGIN IGP
      40 02 06 02 02 fde9 5ba0           // AS_PATH (2-octet) 65001 AS_TRANS
      40 03 04 0a000002                  // NEXT_HOP 10.0.0.2
      80 04 04 00000032                  // MULTI_EXIT_DISC 50
      c0 08 04 fde90064                  // COMMUNITIES 65001:100
      c0 10 08 0002fde900000064          // EXTENDED_COMMUNITIES rt 65001:100
      c0 11 0a 02 02 0000fde9 fa56ea63   // AS4_PATH 65001 4200000099
      c0 20 0c fa56ea02 00000001 00000002 // LARGE_COMMUNITIES
      18 0a0100                          // 10.1.0.0/24`);
    expect(upd(decodeMessage(b, ctx2)).attributes.asPath).toEqual([{ type: 2, asns: [65001, 4200000099] }]);
    expect(upd(decodeMessage(b, ctx2, { reconcileAs4: false })).attributes.as4Path).toEqual([{ type: 2, asns: [65001, 4200000099] }]);
  });
});

describe('GoBGP 3 captured', () => {
  it('OPEN: FQDN and extended next hop capabilities kept as unknown, ADD-PATH send', () => {
    const o = decodeMessage(hex(`${M} 0047 01
      04 5ba0 005a 0a000002   // version 4, AS_TRANS, hold 90, id 10.0.0.2
      2a 02 28                // one capabilities parameter of 40 octets
      02 00                   // route refresh
      49 04 02 766d 00        // FQDN (73): hostname "vm" → unknown
      01 04 0001 00 01        // multiprotocol IPv4 unicast
      01 04 0002 00 01        // multiprotocol IPv6 unicast
      41 04 fa56ea01          // 4-octet AS 4200000001
      05 06 0001 0001 0002    // extended next hop (5, RFC 8950): IPv4 unicast over IPv6 → unknown
      45 04 0001 01 02        // ADD-PATH IPv4 unicast, send`), ctx4) as OpenMessage;
    expect(o.capabilities).toContainEqual({ type: 'add-path', families: [{ afi: 1, safi: 1, mode: 2 }] });
    expect(o.capabilities).toContainEqual({ type: 'unknown', code: 5, value: hex('000100010002') });
  });

  it('ADD-PATH: two paths of 10.1.0.0/24 in two UPDATEs', () => {
    const ctx: CodecContext = { ...ctx4, addPath: new Set(['ipv4-unicast']) };
    const a = upd(decodeMessage(hex(`${M} 0033 02
      0000 0014                          // no withdrawn; 20 octets of attributes
      40 01 01 02                        // ORIGIN INCOMPLETE
      40 02 06 02 01 fa56ea01            // AS_PATH 4200000001
      40 03 04 0a000009                  // NEXT_HOP 10.0.0.9
      00000002 18 0a0100                 // path id 2: 10.1.0.0/24`), ctx));
    const b = upd(decodeMessage(hex(`${M} 0050 02
      0000 0031                          // no withdrawn; 49 octets of attributes
      40 01 01 02                        // ORIGIN INCOMPLETE
      40 02 06 02 01 fa56ea01            // AS_PATH 4200000001
      40 03 04 0a000002                  // NEXT_HOP 10.0.0.2
      80 04 04 00000032                  // MULTI_EXIT_DISC 50
      c0 08 04 fde90064                  // COMMUNITIES 65001:100
      c0 20 0c fa56ea01 00000001 00000002 // LARGE_COMMUNITIES 4200000001:1:2
      00000001 18 0a0100                 // path id 1: 10.1.0.0/24`), ctx));
    expect([...a.nlri, ...b.nlri]).toEqual([
      { afi: 1, addr: '10.1.0.0', len: 24, pathId: 2 },
      { afi: 1, addr: '10.1.0.0', len: 24, pathId: 1 },
    ]);
  });

  it('IPv6: MP_REACH_NLRI after ORIGIN and AS_PATH (RFC 7606 §5.1 tolerance)', () => {
    const u = upd(decodeMessage(hex(`${M} 0045 02
      0000 002e                          // no withdrawn; 46 octets of attributes
      40 01 01 02                        // ORIGIN INCOMPLETE
      40 02 06 02 01 fa56ea01            // AS_PATH 4200000001
      80 0e 1e 0002 01 10                // MP_REACH_NLRI IPv6 unicast, next hop 16 octets
        20010db8000000000000000000000002 // 2001:db8::2
        00 40 20010db800010000           // reserved; 2001:db8:1::/64`), ctx4));
    expect(u.attributes.mpReach).toEqual({ afi: 2, safi: 1, nextHops: ['2001:db8::2'], nlri: [{ afi: 2, addr: '2001:db8:1::', len: 64 }] });
  });
});

describe('FRR 8 captured', () => {
  it('OPEN: one capability per parameter, hostname, GR and long-lived GR', () => {
    const o = decodeMessage(hex(`${M} 0072 01
      04 fdeb 00b4 0a000002   // version 4, AS 65003, hold 180, id 10.0.0.2
      55                      // 85 octets of parameters
      02 06 01 04 0001 00 01  // multiprotocol IPv4 unicast
      02 06 01 04 0002 00 01  // multiprotocol IPv6 unicast
      02 02 80 00             // Cisco route refresh (128) → unknown
      02 02 02 00             // route refresh
      02 02 46 00             // enhanced route refresh
      02 06 41 04 0000fdeb    // 4-octet AS 65003
      02 02 06 00             // extended message (RFC 8654)
      02 0a 45 08 0001 01 01 0002 01 01 // ADD-PATH receive for IPv4 and IPv6 unicast
      02 07 49 05 03 667272 00          // FQDN "frr" → unknown
      02 04 40 02 c0 78       // graceful restart: R and N bits, 120 s
      02 10 47 0e 0001 01 80 000000 0002 01 80 000000 // long-lived GR (71) → unknown`), ctx4) as OpenMessage;
    expect(o.myAs).toBe(65003);
    expect(o.capabilities).toContainEqual({ type: 'extended-message' });
    expect(o.capabilities).toContainEqual({ type: 'graceful-restart', restarting: true, notification: true, restartTime: 120, families: [] });
    expect(o.capabilities).toContainEqual({ type: 'add-path', families: [{ afi: 1, safi: 1, mode: 1 }, { afi: 2, safi: 1, mode: 1 }] });
  });

  it('AS_PATH with the Extended Length flag, and an IPv4-mapped IPv6 next hop', () => {
    const v4 = upd(decodeMessage(hex(`${M} 0056 02
      0000 0036                          // no withdrawn; 54 octets of attributes
      40 01 01 00                        // ORIGIN IGP
      50 02 000a 02 02 0000fdeb fa56ea63 // AS_PATH, Extended Length: 65003 4200000099
      40 03 04 0a000002                  // NEXT_HOP 10.0.0.2
      80 04 04 00000000                  // MULTI_EXIT_DISC 0
      c0 08 04 fde90064                  // COMMUNITIES 65001:100
      c0 20 0c 0000fde9 00000001 00000002 // LARGE_COMMUNITIES 65001:1:2
      18 0a0100 20 0a030001              // 10.1.0.0/24, 10.3.0.1/32`), ctx4));
    expect(v4.attributes.asPath).toEqual([{ type: 2, asns: [65003, 4200000099] }]);
    expect(v4.nlri.map((p) => `${p.addr}/${p.len}`)).toEqual(['10.1.0.0/24', '10.3.0.1/32']);
    const v6 = upd(decodeMessage(hex(`${M} 004e 02
      0000 0037                          // no withdrawn; 55 octets of attributes
      90 0e 001e 0002 01 10              // MP_REACH_NLRI (Extended Length), IPv6 unicast, next hop 16
        00000000000000000000ffff0a000002 // ::ffff:10.0.0.2 (IPv6 over an IPv4 session)
        00 40 20010db800010000           // reserved; 2001:db8:1::/64
      40 01 01 00                        // ORIGIN IGP
      50 02 0006 02 01 0000fdeb          // AS_PATH 65003 (Extended Length)
      80 04 04 00000000                  // MULTI_EXIT_DISC 0`), ctx4));
    expect(v6.attributes.mpReach?.nextHops).toEqual(['::ffff:10.0.0.2']);
  });
});
