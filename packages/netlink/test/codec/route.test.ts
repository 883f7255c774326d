import { describe, expect, it } from 'vitest';
import { isTabbyError } from '@tabby/api';
import { decodeRoute, encodeRoute, encodeRouteDump } from '../../src/index.js';
import { encode, hex, oneMsg, toHex } from '../fixture.js';

// Fixtures match, field for field, what `ip route ...` sends (captured with strace in a test
// namespace), with seq 1; attribute order follows this encoder.
describe('rtmsg codec', () => {
  it('encodes a /32 scope-link route with protocol 80 (ip route add 10.1.2.3/32 dev 3 scope link proto 80)', () => {
    const want = hex(`
      2c000000 # nlmsg_len 44
      1800     # RTM_NEWROUTE
      0506     # NLM_F_REQUEST|NLM_F_ACK|NLM_F_EXCL|NLM_F_CREATE
      01000000 # seq 1
      00000000 # pid 0
      02       # rtm_family AF_INET
      20       # rtm_dst_len 32
      00 00    # src_len, tos
      fe       # rtm_table RT_TABLE_MAIN
      50       # rtm_protocol 80
      fd       # rtm_scope RT_SCOPE_LINK
      01       # rtm_type RTN_UNICAST
      00000000 # rtm_flags
      0800 0100 0a010203 # RTA_DST 10.1.2.3
      0800 0400 03000000 # RTA_OIF 3
    `);
    expect(toHex(encode((w) => encodeRoute(w, 'add', { dst: '10.1.2.3/32', oif: 3, scope: 253, protocol: 80 }, 1)))).toBe(toHex(want));
    // scope link is also the default for a unicast route without gateway
    expect(toHex(encode((w) => encodeRoute(w, 'add', { dst: '10.1.2.3/32', oif: 3, protocol: 80 }, 1)))).toBe(toHex(want));
  });

  it('encodes gateway, onlink, table > 255 (RTA_TABLE), metric', () => {
    const want = hex(`
      44000000 1800 0506 01000000 00000000 # nlmsghdr: len 68, RTM_NEWROUTE, create|excl|ack
      02 18 00 00 # AF_INET, dst_len 24
      00          # rtm_table RT_TABLE_UNSPEC: the id is in RTA_TABLE
      50 00 01    # proto 80, scope universe, unicast
      04000000    # rtm_flags RTNH_F_ONLINK
      0800 0f00 e8030000 # RTA_TABLE 1000
      0800 0100 0a020000 # RTA_DST 10.2.0.0
      0800 0600 14000000 # RTA_PRIORITY 20
      0800 0500 0a010203 # RTA_GATEWAY 10.1.2.3
      0800 0400 03000000 # RTA_OIF 3
    `);
    const got = encode((w) => encodeRoute(w, 'add', { dst: '10.2.0.0/24', gateway: '10.1.2.3', oif: 3, onlink: true, protocol: 80, table: 1000, priority: 20 }, 1));
    expect(toHex(got)).toBe(toHex(want));
  });

  it('encodes a blackhole route', () => {
    const want = hex(`
      24000000 1800 0506 01000000 00000000 # len 36, RTM_NEWROUTE
      02 1a 00 00 fe 50 # AF_INET, /26, main, proto 80
      00                # scope universe (not link: blackhole has no device)
      06                # RTN_BLACKHOLE
      00000000
      0800 0100 0a090000 # RTA_DST 10.9.0.0
    `);
    expect(toHex(encode((w) => encodeRoute(w, 'add', { dst: '10.9.0.0/26', type: 'blackhole', protocol: 80 }, 1)))).toBe(toHex(want));
  });

  it('encodes an IPv6 multipath replace', () => {
    const want = hex(`
      6c000000 1800 0505 01000000 00000000 # len 108, RTM_NEWROUTE, REQUEST|ACK|REPLACE|CREATE
      0a 40 00 00 fe 03 00 01 00000000     # AF_INET6, /64, main, proto boot, universe, unicast
      1400 0100 20010db8000000000000000000000000 # RTA_DST 2001:db8::
      3c00 0900                            # RTA_MULTIPATH, 60 bytes
      1c00 00 00 03000000                  # rtnexthop len 28, flags 0, hops 0 (weight 1), ifindex 3
      1400 0500 fe800000000000000000000000000001 # RTA_GATEWAY fe80::1
      1c00 00 01 04000000                  # rtnexthop len 28, flags 0, hops 1 (weight 2), ifindex 4
      1400 0500 fe800000000000000000000000000002 # RTA_GATEWAY fe80::2
    `);
    const spec = { dst: '2001:db8::/64', multipath: [{ gateway: 'fe80::1', oif: 3 }, { gateway: 'fe80::2', oif: 4, weight: 2 }] };
    expect(toHex(encode((w) => encodeRoute(w, 'replace', spec, 1)))).toBe(toHex(want));
    const r = decodeRoute(want, oneMsg(want))!;
    expect(r.multipath).toEqual([{ gateway: 'fe80::1', oif: 3, weight: 1 }, { gateway: 'fe80::2', oif: 4, weight: 2 }]);
  });

  it('encodes a delete as a wildcard on unspecified fields', () => {
    const want = hex(`
      2c000000 1900 0500 01000000 00000000 # len 44, RTM_DELROUTE, REQUEST|ACK
      02 20 00 00 fe 50 # AF_INET, /32, main, proto 80 (must match)
      ff 00             # scope RT_SCOPE_NOWHERE, type RTN_UNSPEC: wildcards
      00000000
      0800 0100 0a010203 # RTA_DST
      0800 0400 03000000 # RTA_OIF
    `);
    expect(toHex(encode((w) => encodeRoute(w, 'del', { dst: '10.1.2.3/32', oif: 3, protocol: 80 }, 1)))).toBe(toHex(want));
  });

  it('encodes a filtered dump request (strict checking: table and protocol in the header)', () => {
    const want = hex(`
      24000000 1a00 0103 09000000 00000000 # len 36, RTM_GETROUTE, REQUEST|DUMP, seq 9
      02 00 00 00 # AF_INET
      00          # table in RTA_TABLE
      50 00 00 00000000 # protocol 80
      0800 0f00 e8030000 # RTA_TABLE 1000
    `);
    expect(toHex(encode((w) => encodeRouteDump(w, { family: 4, table: 1000, protocol: 80 }, 9)))).toBe(toHex(want));
  });

  it('decodes a kernel dump reply', () => {
    // Captured from a dump of `10.1.2.3/32 dev 3 scope link proto 80`.
    const b = hex(`
      34000000 1800 2200 05000000 eb5d0000 # len 52, RTM_NEWROUTE, NLM_F_MULTI|NLM_F_DUMP_FILTERED
      02 20 00 00 fe 50 fd 01 00000000     # AF_INET /32 main proto 80 scope link unicast
      0800 0f00 fe000000 # RTA_TABLE 254
      0800 0100 0a010203 # RTA_DST 10.1.2.3
      0800 0400 03000000 # RTA_OIF 3
    `);
    expect(decodeRoute(b, oneMsg(b))).toEqual({
      family: 4, dst: '10.1.2.3/32', type: 'unicast', typeNum: 1, table: 254, protocol: 80, scope: 253, flags: 0, onlink: false, oif: 3,
    });
  });

  it('rejects malformed requests with a typed error', () => {
    for (const dst of ['10.0.0.1/33', '10.0.0/24', '10.0.0.1/', 'fe80::1::2/64']) {
      let err: unknown;
      try {
        encode((w) => encodeRoute(w, 'add', { dst }, 1));
      } catch (e: unknown) {
        err = e;
      }
      expect(isTabbyError(err, 'NETLINK_INVALID_REQUEST'), dst).toBe(true);
    }
    expect(() => encode((w) => encodeRoute(w, 'add', { dst: '10.0.0.0/24', gateway: 'fe80::1' }, 1))).toThrow(/not an IPv4/);
  });
});
