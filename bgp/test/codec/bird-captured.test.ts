/**
 * Messages captured from a real BIRD 2.0.12 by interop.test.ts (BIRD AS 4200000002 towards a
 * 4-octet peer, and AS 65001 with `enable as4 off`), one comment per field.
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
