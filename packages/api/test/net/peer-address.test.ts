import { describe, expect, it } from 'vitest';
import { parsePeerAddress, tryParsePeerAddress } from '../../src/index.js';

describe('peer addresses', () => {
  it.each([
    ['10.0.0.1', { family: 4, ip: '10.0.0.1' }],
    ['10.0.0.1:1179', { family: 4, ip: '10.0.0.1', port: 1179 }],
    ['FD00::1', { family: 6, ip: 'fd00::1' }],
    ['[fd00:0::1]:1179', { family: 6, ip: 'fd00::1', port: 1179 }],
  ])('%s', (text, want) => {
    expect(parsePeerAddress(text)).toMatchObject(want);
  });
  it.each(['10.0.0.1:0', '10.0.0.1:65536', '[10.0.0.1]:179', 'fd00::1:179x', 'host:179', ''])('rejects %j', (text) => {
    expect(tryParsePeerAddress(text)).toBeUndefined();
  });
  it('says which forms are accepted', () => {
    expect(() => parsePeerAddress('router')).toThrow('"router" is not a peer address (use 10.0.0.1, 10.0.0.1:1179, fd00::1 or [fd00::1]:1179)');
  });
});
