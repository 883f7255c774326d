// Unit tests (no root): address autodetection methods.
import { describe, expect, it } from 'vitest';
import { autodetect, AutodetectError } from '../src/autodetect.js';

const ifaces = [
  { name: 'lo', addresses: ['127.0.0.1/8', '::1/128'] },
  { name: 'cali123', addresses: [] },
  { name: 'docker0', addresses: ['172.17.0.1/16'] },
  { name: 'eth0', addresses: ['10.0.0.5/24', 'fe80::1/64', 'fd00::5/64'] },
  { name: 'eth1', addresses: ['192.168.7.2/24'] },
];

describe('autodetect', () => {
  it('first-found skips lo, docker and cali interfaces and link-local addresses', () => {
    expect(autodetect('first-found', 4, ifaces)).toBe('10.0.0.5/24');
    expect(autodetect('first-found', 6, ifaces)).toBe('fd00::5/64');
  });
  it('interface=, skip-interface=, cidr=, can-reach=', () => {
    expect(autodetect('interface=eth1', 4, ifaces)).toBe('192.168.7.2/24');
    expect(autodetect('interface=eth.*', 4, ifaces)).toBe('10.0.0.5/24');
    expect(autodetect('skip-interface=eth0', 4, ifaces)).toBe('192.168.7.2/24');
    expect(autodetect('cidr=192.168.0.0/16', 4, ifaces)).toBe('192.168.7.2/24');
    expect(autodetect('can-reach=192.168.7.200', 4, ifaces)).toBe('192.168.7.2/24');
    expect(autodetect('can-reach=8.8.8.8', 4, ifaces, 'eth0')).toBe('10.0.0.5/24');
  });
  it('says what failed', () => {
    expect(() => autodetect('interface=wlan0', 4, ifaces)).toThrow(/no IPv4 address found by interface=wlan0/);
    expect(() => autodetect('bogus', 4, ifaces)).toThrow(AutodetectError);
    expect(() => autodetect('cidr=10.0.0/8', 4, ifaces)).toThrow(/invalid CIDR/);
  });
});
