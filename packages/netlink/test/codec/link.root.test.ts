import { describe, expect, it } from 'vitest';
import { decodeLink, encodeLinkAdd, encodeLinkDel, encodeLinkGet, encodeLinkSet } from '../../src/index.js';
import { encode, hex, oneMsg, toHex } from '../fixture.js';

// Hand-built from linux/{rtnetlink,if_link,if_tunnel,veth}.h; the vxlan fixture is byte-for-byte
// the length `ip link add vx0 type vxlan id 4096 local 10.0.0.1 dstport 4789 dev 3 nolearning`
// sends (100 bytes, same attributes, different order).
describe('ifinfomsg codec', () => {
  it('encodes a veth whose peer is created in another namespace (IFLA_NET_NS_FD)', () => {
    const want = hex(`
      60000000 1000 0506 01000000 00000000 # len 96, RTM_NEWLINK, REQUEST|ACK|EXCL|CREATE
      00 00 0000       # ifi_family AF_UNSPEC, pad, ifi_type
      00000000         # ifi_index 0 (new)
      01000000         # ifi_flags IFF_UP
      01000000         # ifi_change IFF_UP
      0800 0300 74763000         # IFLA_IFNAME "tv0"
      3800 1200                  # IFLA_LINKINFO, 56 bytes
        0900 0100 76657468 00 000000 # IFLA_INFO_KIND "veth" (len 9, padded)
        2800 0200                # IFLA_INFO_DATA, 40 bytes
          2400 0100              # VETH_INFO_PEER, 36 bytes: ifinfomsg + attrs
            00000000 00000000 00000000 00000000 # peer ifinfomsg
            0800 0300 74763100   # IFLA_IFNAME "tv1"
            0800 1c00 07000000   # IFLA_NET_NS_FD 7
    `);
    const got = encode((w) => encodeLinkAdd(w, { name: 'tv0', up: true, info: { kind: 'veth', peer: { name: 'tv1', netns: { fd: 7 } } } }, 1));
    expect(toHex(got)).toBe(toHex(want));
  });

  it('encodes a vxlan device (VNI, local, port, parent, learning off)', () => {
    const want = hex(`
      64000000 1000 0506 01000000 00000000 # len 100, RTM_NEWLINK
      00 00 0000 00000000 00000000 00000000 # ifinfomsg: no index, no flag change
      0800 0300 76783000          # IFLA_IFNAME "vx0"
      3c00 1200                   # IFLA_LINKINFO, 60 bytes
        0a00 0100 76786c616e00 0000 # IFLA_INFO_KIND "vxlan"
        2c00 0200                 # IFLA_INFO_DATA, 44 bytes
          0800 0100 00100000      # IFLA_VXLAN_ID 4096
          0800 0400 0a000001      # IFLA_VXLAN_LOCAL 10.0.0.1
          0800 0300 03000000      # IFLA_VXLAN_LINK 3
          0600 0f00 12b5 0000     # IFLA_VXLAN_PORT 4789 (network byte order)
          0500 0700 00 000000     # IFLA_VXLAN_LEARNING 0
    `);
    const got = encode((w) => encodeLinkAdd(w, { name: 'vx0', info: { kind: 'vxlan', vni: 4096, local: '10.0.0.1', port: 4789, dev: 3, learning: false } }, 1));
    expect(toHex(got)).toBe(toHex(want));
    const l = decodeLink(want, oneMsg(want));
    expect(l).toMatchObject({ name: 'vx0', kind: 'vxlan', vxlan: { vni: 4096, local: '10.0.0.1', port: 4789, dev: 3, learning: false } });
  });

  it('encodes an ipip tunnel (local, remote, parent) — this kernel has no ipip module', () => {
    const want = hex(`
      58000000 1000 0506 01000000 00000000 # len 88, RTM_NEWLINK
      00 00 0000 00000000 00000000 00000000 # ifinfomsg
      0a00 0300 6970697030 00 0000 # IFLA_IFNAME "ipip0" (len 10, padded)
      2c00 1200                    # IFLA_LINKINFO, 44 bytes
        0900 0100 69706970 00 000000 # IFLA_INFO_KIND "ipip"
        1c00 0200                  # IFLA_INFO_DATA, 28 bytes
          0800 0100 03000000       # IFLA_IPTUN_LINK 3
          0800 0200 0a000001       # IFLA_IPTUN_LOCAL 10.0.0.1
          0800 0300 0a000002       # IFLA_IPTUN_REMOTE 10.0.0.2
    `);
    const got = encode((w) => encodeLinkAdd(w, { name: 'ipip0', info: { kind: 'ipip', local: '10.0.0.1', remote: '10.0.0.2', dev: 3 } }, 1));
    expect(toHex(got)).toBe(toHex(want));
    expect(decodeLink(want, oneMsg(want))).toMatchObject({ name: 'ipip0', kind: 'ipip', ipip: { local: '10.0.0.1', remote: '10.0.0.2', dev: 3 } });
  });

  it('encodes a change: down, MTU, MAC, rename', () => {
    const want = hex(`
      40000000 1000 0500 01000000 00000000 # len 64, RTM_NEWLINK, REQUEST|ACK (no create)
      00 00 0000 03000000 # index 3
      00000000 01000000   # flags 0 under change mask IFF_UP: set down
      0a00 0300 63616c6931 00 0000 # IFLA_IFNAME "cali1" (new name)
      0800 0400 78050000           # IFLA_MTU 1400
      0a00 0100 eeeeeeeeeeee 0000  # IFLA_ADDRESS ee:ee:ee:ee:ee:ee
    `);
    const got = encode((w) => encodeLinkSet(w, { index: 3, up: false, newName: 'cali1', mtu: 1400, mac: 'ee:ee:ee:ee:ee:ee' }, 1));
    expect(toHex(got)).toBe(toHex(want));
  });

  it('encodes a move to another namespace by pid', () => {
    const want = hex(`
      28000000 1000 0500 01000000 00000000 # len 40, RTM_NEWLINK
      00 00 0000 03000000 00000000 00000000 # index 3
      0800 1300 d2040000 # IFLA_NET_NS_PID 1234
    `);
    expect(toHex(encode((w) => encodeLinkSet(w, { index: 3, netns: { pid: 1234 } }, 1)))).toBe(toHex(want));
  });

  it('encodes delete and get by name', () => {
    const del = hex(`
      28000000 1100 0500 01000000 00000000 # len 40, RTM_DELLINK, REQUEST|ACK
      00 00 0000 00000000 00000000 00000000 # ifinfomsg, index 0: look up by name
      0800 0300 74763000 # IFLA_IFNAME "tv0"
    `);
    expect(toHex(encode((w) => encodeLinkDel(w, { name: 'tv0' }, 1)))).toBe(toHex(del));
    const get = hex(`
      20000000 1200 0100 02000000 00000000 # len 32, RTM_GETLINK, REQUEST (one reply, no ack)
      00 00 0000 05000000 00000000 00000000 # index 5
    `);
    expect(toHex(encode((w) => encodeLinkGet(w, { index: 5 }, 2)))).toBe(toHex(get));
  });

  it('rejects bad names, MACs and VNIs', () => {
    expect(() => encode((w) => encodeLinkAdd(w, { name: 'a-name-longer-than-15', info: { kind: 'dummy' } }, 1))).toThrow(/interface name/);
    expect(() => encode((w) => encodeLinkSet(w, { index: 1, mac: 'ee:ee' }, 1))).toThrow(/mac/);
    expect(() => encode((w) => encodeLinkAdd(w, { name: 'vx', info: { kind: 'vxlan', vni: 1 << 24 } }, 1))).toThrow(/vni/);
    expect(() => encode((w) => encodeLinkAdd(w, { name: 'ip', info: { kind: 'ipip', local: 'fe80::1' } }, 1))).toThrow(/IPv4/);
  });
});
