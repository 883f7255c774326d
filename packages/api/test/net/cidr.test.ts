import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  addressIndex, canonicalIp, cidrContains, cidrOverlaps, cidrSize, formatIp, isCanonicalCidr, isTabbyError,
  nthAddress, nthSubnet, parseCidr, parseCidrOrIp, parseIp, subnetCount, tryParseIp,
} from '../../src/index.js';

describe('parseIp / formatIp', () => {
  it('parses IPv4', () => {
    expect(parseIp('10.1.2.3')).toEqual({ family: 4, addr: 0x0a010203n });
    expect(formatIp(4, 0x0a010203n)).toBe('10.1.2.3');
  });
  it.each(['1.2.3', '1.2.3.4.5', '256.1.1.1', '01.2.3.4', '1.2.3.x', '', ' 1.2.3.4', '1..2.3'])('rejects IPv4 %j', (t) => {
    expect(tryParseIp(t)).toBeUndefined();
  });
  it.each([
    ['2001:DB8:0:0:0:0:0:1', '2001:db8::1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'], // RFC 5952 §4.2.3: first of equal runs
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'], // §4.2.2: a single 0 is not shortened
    ['::', '::'],
    ['::1', '::1'],
    ['fe80::', 'fe80::'],
    ['0:0:0:0:0:ffff:1.2.3.4', '::ffff:1.2.3.4'],
    ['2001:0db8:0000:0000:0000:0000:0002:0001', '2001:db8::2:1'],
    ['1:0:0:2:0:0:0:3', '1:0:0:2::3'], // longest run wins
  ])('canonical IPv6 %s → %s', (input, out) => {
    expect(canonicalIp(input)).toBe(out);
  });
  it.each([':::', '1::2::3', '1:2:3:4:5:6:7:8:9', '12345::', 'g::1', '1:2:3:4:5:6:7::8', 'fe80::1%eth0'])('rejects IPv6 %j', (t) => {
    expect(tryParseIp(t)).toBeUndefined();
  });
  it('throws InvalidIp with the input in the message', () => {
    try {
      parseIp('10.0.0.300');
      expect.fail('no throw');
    } catch (e: unknown) {
      expect(isTabbyError(e, 'InvalidIp')).toBe(true);
      expect((e as Error).message).toBe('"10.0.0.300" is not a valid IPv4 or IPv6 address');
    }
  });
  it('round-trips any IPv6 value', () => {
    fc.assert(fc.property(fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }), (v) => {
      expect(parseIp(formatIp(6, v)).addr).toBe(v);
    }));
  });
  it('round-trips any IPv4 value', () => {
    fc.assert(fc.property(fc.bigInt({ min: 0n, max: (1n << 32n) - 1n }), (v) => {
      expect(parseIp(formatIp(4, v)).addr).toBe(v);
    }));
  });
});

describe('parseCidr', () => {
  it('parses and canonicalises', () => {
    expect(parseCidr('10.0.0.1/24')).toEqual({ family: 4, addr: 0x0a000000n, prefixLen: 24, text: '10.0.0.0/24' });
    expect(parseCidr('FD00:0::1/64').text).toBe('fd00::/64');
    expect(parseCidr('0.0.0.0/0').text).toBe('0.0.0.0/0');
  });
  it.each([
    ['10.0.0.0', '"10.0.0.0" is not a valid CIDR: missing "/prefix-length" (for example 10.0.0.0/24)'],
    ['10.0.0.0/33', '"10.0.0.0/33" is not a valid CIDR: prefix length "33" must be a number from 0 to 32'],
    ['fd00::/129', '"fd00::/129" is not a valid CIDR: prefix length "129" must be a number from 0 to 128'],
    ['10.0.0/8', '"10.0.0/8" is not a valid CIDR: "10.0.0" is not an IPv4 or IPv6 address'],
    ['10.0.0.0/', '"10.0.0.0/" is not a valid CIDR: prefix length "" must be a number from 0 to 32'],
    ['10.0.0.0/08', '"10.0.0.0/08" is not a valid CIDR: prefix length "08" must be a number from 0 to 32'],
  ])('rejects %j', (t, msg) => {
    expect(() => parseCidr(t)).toThrow(msg);
    try { parseCidr(t); } catch (e: unknown) { expect(isTabbyError(e, 'InvalidCidr')).toBe(true); }
  });
  it('isCanonicalCidr checks host bits', () => {
    expect(isCanonicalCidr('10.0.0.0/24')).toBe(true);
    expect(isCanonicalCidr('10.0.0.1/24')).toBe(false);
    expect(isCanonicalCidr('fd00::1/64')).toBe(false);
    expect(isCanonicalCidr('nonsense')).toBe(false);
  });
  it('parseCidrOrIp makes host routes', () => {
    expect(parseCidrOrIp('10.0.0.5').text).toBe('10.0.0.5/32');
    expect(parseCidrOrIp('fd00::5').text).toBe('fd00::5/128');
  });
});

describe('arithmetic', () => {
  it('sizes, containment and overlap', () => {
    expect(cidrSize('10.0.0.0/26')).toBe(64n);
    expect(cidrSize('fd00::/64')).toBe(1n << 64n);
    expect(cidrContains('10.0.0.0/16', '10.0.5.0/24')).toBe(true);
    expect(cidrContains('10.0.0.0/16', '10.1.0.0/24')).toBe(false);
    expect(cidrContains('10.0.0.0/24', '10.0.0.0/16')).toBe(false);
    expect(cidrContains('10.0.0.0/24', '10.0.0.77')).toBe(true);
    expect(cidrContains('10.0.0.0/24', parseIp('10.0.1.77'))).toBe(false);
    expect(cidrContains('::/0', '10.0.0.1')).toBe(false);
    expect(cidrOverlaps('10.0.0.0/16', '10.0.255.0/24')).toBe(true);
    expect(cidrOverlaps('10.0.255.0/24', '10.0.0.0/16')).toBe(true);
    expect(cidrOverlaps('10.0.0.0/24', '10.0.1.0/24')).toBe(false);
  });
  it('nthAddress and addressIndex are inverse', () => {
    expect(nthAddress('10.0.0.64/26', 3)).toBe('10.0.0.67');
    expect(addressIndex('10.0.0.64/26', '10.0.0.67')).toBe(3);
    expect(nthAddress('fd00::/122', 63)).toBe('fd00::3f');
    expect(() => nthAddress('10.0.0.64/26', 64)).toThrow('address index 64 is outside 10.0.0.64/26 (size 64)');
    expect(() => addressIndex('10.0.0.64/26', '10.0.0.1')).toThrow('10.0.0.1 is not in 10.0.0.64/26');
    fc.assert(fc.property(fc.integer({ min: 0, max: 255 }), (n) => {
      expect(addressIndex('192.168.7.0/24', nthAddress('192.168.7.0/24', n))).toBe(n);
    }));
  });
  it('subnets', () => {
    expect(subnetCount('10.0.0.0/16', 26)).toBe(1024n);
    expect(nthSubnet('10.0.0.0/16', 26, 5).text).toBe('10.0.1.64/26');
    expect(subnetCount('10.0.0.0/26', 16)).toBe(0n);
  });
});

describe('properties', () => {
  const v4cidr = fc.tuple(fc.bigInt({ min: 0n, max: (1n << 32n) - 1n }), fc.integer({ min: 0, max: 32 })).map(([a, l]) => parseCidr(`${formatIp(4, a)}/${l}`));
  const v6cidr = fc.tuple(fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }), fc.integer({ min: 0, max: 128 })).map(([a, l]) => parseCidr(`${formatIp(6, a)}/${l}`));
  const anyCidr = fc.oneof(v4cidr, v6cidr);

  it('canonical text re-parses to the same CIDR', () => {
    fc.assert(fc.property(anyCidr, (c) => {
      expect(parseCidr(c.text)).toEqual(c);
      expect(isCanonicalCidr(c.text)).toBe(true);
    }));
  });
  it('containment agrees with a reference on address ranges, and overlap is symmetric', () => {
    fc.assert(fc.property(anyCidr, anyCidr, (a, b) => {
      const bits = a.family === 4 ? 32 : 128;
      const lastA = a.addr + (1n << BigInt(bits - a.prefixLen)) - 1n;
      const lastB = b.addr + (1n << BigInt((b.family === 4 ? 32 : 128) - b.prefixLen)) - 1n;
      const same = a.family === b.family;
      expect(cidrContains(a, b)).toBe(same && b.addr >= a.addr && lastB <= lastA);
      expect(cidrOverlaps(a, b)).toBe(same && b.addr <= lastA && a.addr <= lastB);
      expect(cidrOverlaps(a, b)).toBe(cidrOverlaps(b, a));
    }));
  });
  it('nthSubnet stays inside its parent and addressIndex inverts nthAddress', () => {
    fc.assert(fc.property(v6cidr, fc.integer({ min: 0, max: 8 }), fc.bigInt({ min: 0n, max: 1n << 40n }), (c, extra, n) => {
      const len = Math.min(128, c.prefixLen + extra);
      const sub = nthSubnet(c, len, n % subnetCount(c, len));
      expect(cidrContains(c, sub)).toBe(true);
      const i = n % cidrSize(sub);
      if (i <= BigInt(Number.MAX_SAFE_INTEGER)) expect(addressIndex(sub, nthAddress(sub, i))).toBe(Number(i));
    }));
  });
});
