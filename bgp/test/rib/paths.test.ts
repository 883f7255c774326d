/** ADD-PATH path identity, IPv6 export, peer removal and counters. */
import { describe, expect, it } from 'vitest';
import type { UpdateMessage } from '../../src/codec/types.js';
import { announce6, EOR6, pfx, rib, session, updatesFor } from './helpers.js';

const addPath = (pathId: number, nextHop: string, asns: number[]): UpdateMessage => ({
  type: 'update',
  withdrawn: [],
  attributes: { origin: 0, asPath: [{ type: 2, asns }], nextHop },
  nlri: [pfx('10.7.0.0/16', pathId)],
});

describe('ADD-PATH (RFC 7911): path identity is (peer, prefix, path id)', () => {
  it('keeps several paths of one peer, picks the best, and withdraws them independently', () => {
    const r = rib();
    r.addPeer({ id: 'a', address: '10.0.0.2', asn: 65001 });
    r.peerUp('a', session('2.2.2.2'), 0);
    r.ingest('a', addPath(1, '192.0.2.1', [65001, 1, 2]));
    r.ingest('a', addPath(2, '192.0.2.2', [65001, 1]));
    expect(r.best(pfx('10.7.0.0/16'))).toMatchObject({ pathId: 2, peer: 'a' });
    expect(r.peerCounts('a').accepted).toBe(2);
    r.ingest('a', { type: 'update', withdrawn: [pfx('10.7.0.0/16', 2)], attributes: {}, nlri: [] });
    expect(r.best(pfx('10.7.0.0/16'))).toMatchObject({ pathId: 1 });
    const f = r.flush();
    expect(f.best).toHaveLength(1);
    expect(f.best[0]).toMatchObject({ type: 'add', pathId: 1 });
  });

  it('equal paths of one peer are ordered by lowest path id', () => {
    const r = rib();
    r.addPeer({ id: 'a', address: '10.0.0.2', asn: 65001 });
    r.peerUp('a', session('2.2.2.2'), 0);
    r.ingest('a', addPath(9, '192.0.2.1', [65001]));
    r.ingest('a', addPath(4, '192.0.2.1', [65001]));
    expect(r.best(pfx('10.7.0.0/16'))?.pathId).toBe(4);
  });
});

describe('IPv6', () => {
  it('exports with our IPv6 next hop toward eBGP and keeps the next hop toward iBGP', () => {
    const r = rib();
    r.addPeer({ id: 'e', address: '2001:db8::2', asn: 65001 });
    r.addPeer({ id: 'i', address: '2001:db8::3', asn: 65000 });
    r.peerUp('e', session('2.2.2.2', undefined, { localAddress6: ['2001:db8::1'] }), 0);
    r.peerUp('i', session('3.3.3.3', undefined, { localAddress6: ['2001:db8::1'] }), 0);
    r.flush();
    r.ingest('e', announce6(['2001:db8:100::/48'], '2001:db8::2', { asPath: [{ type: 2, asns: [65001] }] }));
    expect(r.ingest('e', EOR6).endOfRib).toBe('ipv6-unicast');
    const f = r.flush();
    expect(updatesFor(f, 'i').nextHops.get('2001:db8:100::/48')).toEqual(['2001:db8::2']);
    r.originate(pfx('fd00:1::/122'));
    const g = r.flush();
    expect(updatesFor(g, 'e').nextHops.get('fd00:1::/122')).toEqual(['2001:db8::1']);
    expect(updatesFor(g, 'e').announced.get('fd00:1::/122')?.nextHop).toBeUndefined(); // IPv6 next hop lives in MP_REACH
    expect(r.locRibSize('ipv6-unicast')).toBe(2);
  });

  it('does not export a family the session did not negotiate', () => {
    const r = rib();
    r.addPeer({ id: 'e', address: '10.0.0.2', asn: 65001 });
    r.peerUp('e', session('2.2.2.2', undefined, { families: ['ipv4-unicast'] }), 0);
    r.originate(pfx('fd00:1::/122'));
    r.originate(pfx('10.244.0.0/26'));
    const u = updatesFor(r.flush(), 'e');
    expect([...u.announced.keys()]).toEqual(['10.244.0.0/26']);
    expect(u.eor).toEqual(['ipv4-unicast']);
  });
});

describe('peer lifecycle', () => {
  it('removePeer withdraws its routes from the others and frees attribute sets', () => {
    const r = rib();
    r.addPeer({ id: 'a', address: '10.0.0.2', asn: 65001 });
    r.addPeer({ id: 'b', address: '10.0.0.3', asn: 65002 });
    r.peerUp('a', session('2.2.2.2'), 0);
    r.peerUp('b', session('3.3.3.3'), 0);
    r.ingest('a', { type: 'update', withdrawn: [], attributes: { origin: 0, asPath: [{ type: 2, asns: [65001] }], nextHop: '10.0.0.2' }, nlri: [pfx('10.9.0.0/16')] });
    expect(updatesFor(r.flush(), 'b').announced.has('10.9.0.0/16')).toBe(true);
    r.removePeer('a');
    const f = r.flush();
    expect(updatesFor(f, 'b').withdrawn).toEqual(['10.9.0.0/16']);
    expect(r.attrSetCount).toBe(0);
    expect(() => r.peerCounts('a')).toThrow(expect.objectContaining({ code: 'rib-unknown-peer' }));
    r.addPeer({ id: 'a', address: '10.0.0.2', asn: 65001 }); // the index is reused cleanly
    expect(r.peerCounts('a')).toEqual({ received: 0, accepted: 0, advertised: 0 });
  });

  it('rejects duplicate peers with a typed error', () => {
    const r = rib();
    r.addPeer({ id: 'a', address: '10.0.0.2', asn: 65001 });
    expect(() => r.addPeer({ id: 'a', address: '10.0.0.2', asn: 65001 })).toThrow(expect.objectContaining({ code: 'rib-duplicate-peer' }));
  });

  it('a session that comes back gets a fresh full dump', () => {
    const r = rib();
    r.addPeer({ id: 'b', address: '10.0.0.3', asn: 65002 });
    r.originate(pfx('10.244.0.0/26'));
    r.peerUp('b', session('3.3.3.3'), 0);
    expect(updatesFor(r.flush(), 'b').announced.size).toBe(1);
    r.peerDown('b', { kind: 'transport' }, 1);
    expect(r.flush().updates).toEqual([]);
    r.peerUp('b', session('3.3.3.3'), 2);
    const u = updatesFor(r.flush(), 'b');
    expect(u.announced.size).toBe(1);
    expect(u.eor.sort()).toEqual(['ipv4-unicast', 'ipv6-unicast']);
  });
});

describe('numeric IPv4 fast path (beginUpdate)', () => {
  it('gives the same RIB as ingest, including filters, rejections and withdrawals', () => {
    const attrs = { origin: 0 as const, asPath: [{ type: 2 as const, asns: [65001] }], nextHop: '10.0.0.2' };
    const mk = () => {
      const r = rib();
      r.addPeer({ id: 'a', address: '10.0.0.2', asn: 65001, importFilter: (rt) => (rt.prefix.len === 24 ? { action: 'reject' } : { action: 'accept' }), maxPrefixes: 2 });
      r.peerUp('a', session('2.2.2.2'), 0);
      return r;
    };
    const viaObjects = mk();
    viaObjects.ingest('a', { type: 'update', withdrawn: [], attributes: attrs, nlri: ['10.1.0.0/16', '10.2.0.0/24', '10.3.0.0/16', '10.4.0.0/16'].map((p) => pfx(p)) });
    viaObjects.ingest('a', { type: 'update', withdrawn: [pfx('10.3.0.0/16')], attributes: {}, nlri: [] });
    const viaNumbers = mk();
    const s = viaNumbers.beginUpdate('a', attrs);
    for (const [o2, len] of [[1, 16], [2, 24], [3, 16], [4, 16]] as const) s.announce4(((10 << 24) | (o2 << 16)) >>> 0, len, 0);
    const res = s.end();
    expect(res).toMatchObject({ announced: 3, rejected: 1, exceeded: true });
    const w = viaNumbers.beginUpdate('a', {});
    w.withdraw4(((10 << 24) | (3 << 16)) >>> 0, 16, 0);
    expect(w.end()).toMatchObject({ withdrawn: 1, exceeded: false });
    const dump = (x: typeof viaObjects) => [...x.routes('ipv4-unicast')].map((b) => `${b.prefix.addr}/${b.prefix.len} ${JSON.stringify([b.attrs.attrs, b.attrs.nextHops])}`).sort();
    expect(dump(viaNumbers)).toEqual(dump(viaObjects));
    expect(viaNumbers.peerCounts('a')).toEqual(viaObjects.peerCounts('a'));
  });

  it('applies announcements it queues in batches in order, also around a withdrawal in the same UPDATE', () => {
    // The sink queues IPv4 announcements (to touch their table slots together): a withdrawal
    // and the end of the UPDATE must see every announcement made before them.
    const attrs = { origin: 0 as const, asPath: [{ type: 2 as const, asns: [65001] }], nextHop: '10.0.0.2' };
    const r = rib();
    r.addPeer({ id: 'a', address: '10.0.0.2', asn: 65001 });
    r.peerUp('a', session('2.2.2.2'), 0);
    const at = (i: number): number => ((10 << 24) | (i << 8)) >>> 0;
    const s = r.beginUpdate('a', attrs);
    for (let i = 0; i < 100; i++) s.announce4(at(i), 24, 0);
    s.withdraw4(at(99), 24, 0); // the last announcement is always still queued
    for (let i = 100; i < 140; i++) s.announce4(at(i), 24, 0);
    expect(s.end()).toMatchObject({ announced: 140, withdrawn: 1 });
    expect(r.peerCounts('a').accepted).toBe(139);
    const held = new Set([...r.routes('ipv4-unicast')].map((b) => b.prefix.addr));
    expect(held.size).toBe(139);
    expect(held.has('10.0.99.0')).toBe(false);
    expect(held.has('10.0.139.0')).toBe(true);
  });
});
