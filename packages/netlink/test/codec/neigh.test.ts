import { describe, expect, it } from 'vitest';
import { decodeNeigh, encodeNeigh, encodeNeighDump } from '../../src/index.js';
import { encode, hex, oneMsg, toHex } from '../fixture.js';

// The ARP fixture is what `ip neigh add 10.1.2.9 lladdr 66:aa:bb:cc:dd:ee dev 3 nud permanent`
// sends; the FDB one matches `bridge fdb add 66:aa:bb:cc:dd:ee dev 5 dst 10.0.0.2 self permanent`
// (same 48 bytes, attributes in the other order, without iproute2's extra NUD_NOARP bit).
describe('ndmsg codec', () => {
  it('encodes a permanent ARP entry', () => {
    const want = hex(`
      30000000 1c00 0506 01000000 00000000 # len 48, RTM_NEWNEIGH, REQUEST|ACK|EXCL|CREATE
      02 00 0000 # ndm_family AF_INET, pads
      03000000   # ndm_ifindex 3
      8000       # ndm_state NUD_PERMANENT
      00 00      # ndm_flags, ndm_type
      0800 0100 0a010209         # NDA_DST 10.1.2.9
      0a00 0200 66aabbccddee 0000 # NDA_LLADDR 66:aa:bb:cc:dd:ee
    `);
    const spec = { family: 4 as const, index: 3, dst: '10.1.2.9', lladdr: '66:aa:bb:cc:dd:ee' };
    expect(toHex(encode((w) => encodeNeigh(w, 'add', spec, 1)))).toBe(toHex(want));
    expect(decodeNeigh(want, oneMsg(want))).toEqual({ family: 4, index: 3, state: 0x80, flags: 0, dst: '10.1.2.9', lladdr: '66:aa:bb:cc:dd:ee' });
  });

  it('encodes a vxlan FDB entry (AF_BRIDGE, NTF_SELF, NDA_DST = remote VTEP)', () => {
    const want = hex(`
      30000000 1c00 0506 01000000 00000000 # len 48, RTM_NEWNEIGH
      07 00 0000 # ndm_family AF_BRIDGE
      05000000   # ndm_ifindex 5 (the vxlan device)
      8000       # NUD_PERMANENT
      02 00      # ndm_flags NTF_SELF
      0800 0100 0a000002         # NDA_DST 10.0.0.2
      0a00 0200 66aabbccddee 0000 # NDA_LLADDR
    `);
    const spec = { family: 'bridge' as const, index: 5, dst: '10.0.0.2', lladdr: '66:aa:bb:cc:dd:ee' };
    expect(toHex(encode((w) => encodeNeigh(w, 'add', spec, 1)))).toBe(toHex(want));
    expect(decodeNeigh(want, oneMsg(want))).toMatchObject({ family: 'bridge', index: 5, flags: 2, dst: '10.0.0.2' });
  });

  it('encodes an IPv6 NDP delete and a dump', () => {
    const del = hex(`
      30000000 1d00 0500 01000000 00000000 # len 48, RTM_DELNEIGH, REQUEST|ACK
      0a 00 0000 03000000 8000 00 00       # AF_INET6, index 3, permanent
      1400 0100 fd000000000000000000000000000009 # NDA_DST fd00::9
    `);
    expect(toHex(encode((w) => encodeNeigh(w, 'del', { family: 6, index: 3, dst: 'fd00::9' }, 1)))).toBe(toHex(del));
    const dump = hex(`
      24000000 1e00 0103 02000000 00000000 # len 36, RTM_GETNEIGH, REQUEST|DUMP
      07 00 0000 00000000 0000 00 00       # AF_BRIDGE
      0800 0800 05000000                   # NDA_IFINDEX 5
    `);
    expect(toHex(encode((w) => encodeNeighDump(w, { family: 'bridge', index: 5 }, 2)))).toBe(toHex(dump));
  });
});
