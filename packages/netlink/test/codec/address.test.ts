import { describe, expect, it } from 'vitest';
import { decodeAddress, encodeAddress, encodeAddressDump } from '../../src/index.js';
import { encode, hex, oneMsg, toHex } from '../fixture.js';

// The IPv4 fixture is exactly what `ip addr add 10.0.0.1/30 dev 3` sends (strace, seq 1).
describe('ifaddrmsg codec', () => {
  it('encodes an IPv4 address add', () => {
    const want = hex(`
      28000000 1400 0506 01000000 00000000 # len 40, RTM_NEWADDR, REQUEST|ACK|EXCL|CREATE
      02       # ifa_family AF_INET
      1e       # ifa_prefixlen 30
      00 00    # ifa_flags, ifa_scope universe
      03000000 # ifa_index 3
      0800 0200 0a000001 # IFA_LOCAL 10.0.0.1
      0800 0100 0a000001 # IFA_ADDRESS 10.0.0.1
    `);
    expect(toHex(encode((w) => encodeAddress(w, 'add', { index: 3, address: '10.0.0.1/30' }, 1)))).toBe(toHex(want));
    expect(decodeAddress(want, oneMsg(want))).toEqual({ family: 4, index: 3, address: '10.0.0.1/30', prefixLen: 30, flags: 0, scope: 0 });
  });

  it('encodes an IPv6 address delete', () => {
    const want = hex(`
      40000000 1500 0500 01000000 00000000 # len 64, RTM_DELADDR, REQUEST|ACK
      0a 40 00 00 03000000 # AF_INET6, /64, index 3
      1400 0200 fd000000000000000000000000000001 # IFA_LOCAL fd00::1
      1400 0100 fd000000000000000000000000000001 # IFA_ADDRESS fd00::1
    `);
    expect(toHex(encode((w) => encodeAddress(w, 'del', { index: 3, address: 'fd00::1/64' }, 1)))).toBe(toHex(want));
  });

  it('decodes a kernel IPv6 reply (IFA_ADDRESS only, IFA_FLAGS)', () => {
    const b = hex(`
      2c000000 1400 0200 03000000 00000000 # len 44, RTM_NEWADDR, NLM_F_MULTI
      0a 40 80 fd 03000000 # AF_INET6, /64, IFA_F_PERMANENT, scope link, index 3
      1400 0100 fe800000000000000000000000000001 # IFA_ADDRESS fe80::1
      0800 0800 80000000 # IFA_FLAGS IFA_F_PERMANENT
    `);
    expect(decodeAddress(b, oneMsg(b))).toEqual({ family: 6, index: 3, address: 'fe80::1/64', prefixLen: 64, flags: 0x80, scope: 253 });
  });

  it('encodes a dump filtered by family and index', () => {
    const want = hex(`
      18000000 1600 0103 04000000 00000000 # len 24, RTM_GETADDR, REQUEST|DUMP, seq 4
      0a 00 00 00 07000000 # AF_INET6, index 7
    `);
    expect(toHex(encode((w) => encodeAddressDump(w, { family: 6, index: 7 }, 4)))).toBe(toHex(want));
  });
});
