// Unit tests (no root): the speaker's best paths as felix events.
import { describe, expect, it } from 'vitest';
import type { BestChange } from '@tabby/bgp';
import { BgpRouteFeed } from '../src/bgp-routes.js';

const add = (addr: string, len: number, nextHop: string, peer = '10.0.0.2', type: 'add' | 'replace' = 'add'): BestChange =>
  ({ type, family: 'ipv4-unicast', prefix: { afi: 1, addr, len }, attrs: { nextHop }, peer, pathId: 0 }) as unknown as BestChange;
const withdraw = (addr: string, len: number): BestChange => ({ type: 'withdraw', family: 'ipv4-unicast', prefix: { afi: 1, addr, len } });

describe('BgpRouteFeed', () => {
  it('turns flush changes into updates and removes, once per next hop; local paths are not routes', () => {
    const f = new BgpRouteFeed();
    expect(f.changes([add('10.244.1.0', 26, '10.0.0.2'), add('10.244.9.0', 26, '10.0.0.1', 'local')])).toEqual([{ type: 'bgp-route-update', prefix: '10.244.1.0/26', nextHop: '10.0.0.2' }]);
    expect(f.changes([add('10.244.1.0', 26, '10.0.0.2', '10.0.0.3', 'replace')])).toEqual([]); // same next hop
    expect(f.changes([add('10.244.1.0', 26, '10.0.0.3', '10.0.0.3', 'replace')])).toEqual([{ type: 'bgp-route-update', prefix: '10.244.1.0/26', nextHop: '10.0.0.3' }]);
    expect(f.changes([withdraw('10.244.1.0', 26), withdraw('10.244.2.0', 26)])).toEqual([{ type: 'bgp-route-remove', prefix: '10.244.1.0/26' }]);
  });

  it('a whole-table read adds what is missing and removes what the speaker no longer has', () => {
    const f = new BgpRouteFeed();
    f.changes([add('10.244.1.0', 26, '10.0.0.2'), add('10.244.2.0', 26, '10.0.0.2')]);
    const table = [
      { prefix: '10.244.2.0/26', nextHop: '10.0.0.2', from: '10.0.0.2', asPath: '', origin: 'IGP' },
      { prefix: '10.244.3.0/26', nextHop: '10.0.0.4', from: '10.0.0.4', asPath: '', origin: 'IGP' },
      { prefix: '10.244.9.0/26', nextHop: '10.0.0.1', from: 'local', asPath: '', origin: 'IGP' },
    ];
    expect(f.table(table)).toEqual([
      { type: 'bgp-route-update', prefix: '10.244.3.0/26', nextHop: '10.0.0.4' },
      { type: 'bgp-route-remove', prefix: '10.244.1.0/26' },
    ]);
    expect(f.table(table)).toEqual([]);
  });
});
