import { describe, expect, it } from 'vitest';
import { decodeLink, decodeNeigh, encodeLinkAdd, encodeNeigh } from '../../src/index.js';
import { encode, hex, oneMsg, toHex } from '../fixture.js';

// IPv6 VXLAN (vxlan-v6.calico) at byte level, hand-built from linux/{rtnetlink,if_link,
// neighbour}.h: the device with an IPv6 source (IFLA_VXLAN_LOCAL6, 16 bytes), a permanent NDP
// entry for a remote VTEP, and an FDB entry whose NDA_DST is the remote node's IPv6 address —
// what `ip link add vx6 type vxlan id 4096 local fd00::1 dstport 4789 dev 3 nolearning`,
// `ip -6 neigh add fd00:255::2 lladdr 66:aa:bb:cc:dd:ee dev 5 nud permanent` and
// `bridge fdb add 66:aa:bb:cc:dd:ee dev 5 dst 2001:db8::2 self permanent` send (same attributes).
describe('IPv6 VXLAN codec', () => {
  it('encodes a vxlan device with an IPv6 source (IFLA_VXLAN_LOCAL6) and decodes it back', () => {
    const want = hex(`
      70000000 1000 0506 01000000 00000000 # len 112, RTM_NEWLINK, REQUEST|ACK|EXCL|CREATE
      00 00 0000 00000000 00000000 00000000 # ifinfomsg: no index, no flag change
      0800 0300 76783600          # IFLA_IFNAME "vx6"
      4800 1200                   # IFLA_LINKINFO, 72 bytes
        0a00 0100 76786c616e00 0000 # IFLA_INFO_KIND "vxlan"
        3800 0200                 # IFLA_INFO_DATA, 56 bytes
          0800 0100 00100000      # IFLA_VXLAN_ID 4096
          1400 1100 fd000000000000000000000000000001 # IFLA_VXLAN_LOCAL6 fd00::1
          0800 0300 03000000      # IFLA_VXLAN_LINK 3
          0600 0f00 12b5 0000     # IFLA_VXLAN_PORT 4789 (network byte order)
          0500 0700 00 000000     # IFLA_VXLAN_LEARNING 0
    `);
    const got = encode((w) => encodeLinkAdd(w, { name: 'vx6', info: { kind: 'vxlan', vni: 4096, local: 'fd00::1', port: 4789, dev: 3, learning: false } }, 1));
    expect(toHex(got)).toBe(toHex(want));
    expect(decodeLink(want, oneMsg(want))).toMatchObject({ name: 'vx6', kind: 'vxlan', vxlan: { vni: 4096, local: 'fd00::1', port: 4789, dev: 3, learning: false } });
  });

  it('rejects a malformed IPv6 source, naming the field', () => {
    expect(() => encode((w) => encodeLinkAdd(w, { name: 'vx6', info: { kind: 'vxlan', vni: 4096, local: 'fd00::1::2' } }, 1))).toThrow(/vxlan local/);
  });

  it('encodes a permanent NDP entry for a remote IPv6 VTEP', () => {
    const want = hex(`
      3c000000 1c00 0506 01000000 00000000 # len 60, RTM_NEWNEIGH, REQUEST|ACK|EXCL|CREATE
      0a 00 0000 # ndm_family AF_INET6, pads
      05000000   # ndm_ifindex 5 (vxlan-v6.calico)
      8000       # ndm_state NUD_PERMANENT
      00 00      # ndm_flags, ndm_type
      1400 0100 fd000255000000000000000000000002 # NDA_DST fd00:255::2
      0a00 0200 66aabbccddee 0000 # NDA_LLADDR 66:aa:bb:cc:dd:ee
    `);
    const spec = { family: 6 as const, index: 5, dst: 'fd00:255::2', lladdr: '66:aa:bb:cc:dd:ee' };
    expect(toHex(encode((w) => encodeNeigh(w, 'add', spec, 1)))).toBe(toHex(want));
    expect(decodeNeigh(want, oneMsg(want))).toEqual({ family: 6, index: 5, state: 0x80, flags: 0, dst: 'fd00:255::2', lladdr: '66:aa:bb:cc:dd:ee' });
  });

  it('encodes an FDB entry toward a remote node IPv6 address (AF_BRIDGE, NTF_SELF, 16-byte NDA_DST)', () => {
    const want = hex(`
      3c000000 1c00 0506 01000000 00000000 # len 60, RTM_NEWNEIGH
      07 00 0000 # ndm_family AF_BRIDGE
      05000000   # ndm_ifindex 5
      8000       # NUD_PERMANENT
      02 00      # ndm_flags NTF_SELF
      1400 0100 20010db8000000000000000000000002 # NDA_DST 2001:db8::2
      0a00 0200 66aabbccddee 0000 # NDA_LLADDR
    `);
    const spec = { family: 'bridge' as const, index: 5, dst: '2001:db8::2', lladdr: '66:aa:bb:cc:dd:ee' };
    expect(toHex(encode((w) => encodeNeigh(w, 'add', spec, 1)))).toBe(toHex(want));
    expect(decodeNeigh(want, oneMsg(want))).toMatchObject({ family: 'bridge', index: 5, flags: 2, dst: '2001:db8::2', lladdr: '66:aa:bb:cc:dd:ee' });
  });

  it('refuses an IPv4 address in an NDP entry', () => {
    expect(() => encode((w) => encodeNeigh(w, 'add', { family: 6, index: 5, dst: '10.0.0.2', lladdr: '66:aa:bb:cc:dd:ee' }, 1))).toThrow(/not an IPv6 address/);
  });
});
