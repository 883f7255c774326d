import { describe, expect, it } from 'vitest';
import { toPrefix } from '../../src/speaker/prefix.js';

describe('toPrefix', () => {
  it.each([
    ['10.1.2.0/24', { afi: 1, addr: '10.1.2.0', len: 24 }],
    ['10.1.2.3/24', { afi: 1, addr: '10.1.2.0', len: 24 }],
    ['0.0.0.0/0', { afi: 1, addr: '0.0.0.0', len: 0 }],
    ['255.255.255.255/32', { afi: 1, addr: '255.255.255.255', len: 32 }],
    ['fd00:0::1/64', { afi: 2, addr: 'fd00::', len: 64 }],
  ])('%s', (text, p) => expect(toPrefix(text)).toEqual(p));
  it.each(['10.1.2/24', '10.1.2.256/24', '10.1.2.0/33', '10.1.2.0/', '10.1.2.0', 'x'])('rejects %s', (t) => expect(() => toPrefix(t)).toThrow());
});
