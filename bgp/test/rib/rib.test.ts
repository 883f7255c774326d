import { describe, expect, it } from 'vitest';
import { announce, announce6, EOR4, pfx, rib, session, upPeer, updatesFor, withdraw } from './helpers.js';

describe('Rib basics', () => {
  it('learns a route, emits an add, and withdraws it', () => {
    const r = rib();
    upPeer(r, { id: 'a', address: '10.0.0.2', asn: 65001 }, '2.2.2.2');
    r.flush();
    const res = r.ingest('a', announce(['10.1.0.0/16', '10.2.0.0/16'], { asPath: [{ type: 2, asns: [65001] }] }));
    expect(res).toMatchObject({ announced: 2, withdrawn: 0, exceeded: false });
    const f = r.flush();
    expect(f.best.map((b) => [b.type, `${b.prefix.addr}/${b.prefix.len}`]).sort()).toEqual([
      ['add', '10.1.0.0/16'],
      ['add', '10.2.0.0/16'],
    ]);
    expect(r.best(pfx('10.1.0.0/16'))?.peer).toBe('a');
    expect(r.locRibSize('ipv4-unicast')).toBe(2);
    r.ingest('a', withdraw(['10.1.0.0/16']));
    const g = r.flush();
    expect(g.best).toEqual([{ type: 'withdraw', family: 'ipv4-unicast', prefix: { afi: 1, addr: '10.1.0.0', len: 16 } }]);
    expect(r.peerCounts('a')).toEqual({ received: 1, accepted: 1, advertised: 0 });
  });

  it('interns attribute sets: equal attributes share one object and die with their last route', () => {
    const r = rib();
    upPeer(r, { id: 'a', address: '10.0.0.2', asn: 65001 }, '2.2.2.2');
    r.ingest('a', announce(['10.1.0.0/24', '10.1.1.0/24'], { asPath: [{ type: 2, asns: [65001] }] }));
    r.ingest('a', announce(['10.1.2.0/24'], { asPath: [{ type: 2, asns: [65001] }] }));
    expect(r.best(pfx('10.1.0.0/24'))!.attrs).toBe(r.best(pfx('10.1.2.0/24'))!.attrs);
    expect(Object.isFrozen(r.best(pfx('10.1.0.0/24'))!.attrs.attrs)).toBe(true);
    r.flush();
    // the received set, and its exported form in a's export group (held for members other than a)
    expect(r.attrSetCount).toBe(2);
    r.ingest('a', withdraw(['10.1.0.0/24', '10.1.1.0/24', '10.1.2.0/24']));
    r.flush();
    expect(r.attrSetCount).toBe(0);
  });

  it('a flap inside one batch produces no event', () => {
    const r = rib();
    upPeer(r, { id: 'a', address: '10.0.0.2', asn: 65001 }, '2.2.2.2');
    r.ingest('a', announce(['10.1.0.0/16']));
    r.flush();
    r.ingest('a', withdraw(['10.1.0.0/16']));
    r.ingest('a', announce(['10.1.0.0/16']));
    expect(r.flush().best).toEqual([]);
  });

  it('dumps the Loc-RIB to a newly established peer, then End-of-RIB per family', () => {
    const r = rib();
    r.originate(pfx('10.244.1.0/26'));
    r.originate(pfx('fd00:1::/122'));
    upPeer(r, { id: 'b', address: '10.0.0.3', asn: 65000 }, '3.3.3.3');
    const f = r.flush();
    const u = updatesFor(f, 'b');
    expect([...u.announced.keys()].sort()).toEqual(['10.244.1.0/26', 'fd00:1::/122']);
    expect(u.nextHops.get('10.244.1.0/26')).toEqual(['192.0.2.254']);
    expect(u.nextHops.get('fd00:1::/122')).toEqual(['2001:db8::fe']);
    expect(u.announced.get('10.244.1.0/26')).toMatchObject({ origin: 0, asPath: [], localPref: 100, nextHop: '192.0.2.254' });
    expect(u.eor.sort()).toEqual(['ipv4-unicast', 'ipv6-unicast']);
    r.withdrawOrigin(pfx('10.244.1.0/26'));
    expect(updatesFor(r.flush(), 'b').withdrawn).toEqual(['10.244.1.0/26']);
  });

  it('handles IPv6 via MP_REACH and End-of-RIB detection', () => {
    const r = rib();
    upPeer(r, { id: 'a', address: '10.0.0.2', asn: 65001 }, '2.2.2.2');
    r.ingest('a', announce6(['2001:db8:1::/48'], '2001:db8::2', { asPath: [{ type: 2, asns: [65001] }] }));
    expect(r.best(pfx('2001:db8:1::/48'))?.attrs.nextHops).toEqual(['2001:db8::2']);
    expect(r.ingest('a', EOR4).endOfRib).toBe('ipv4-unicast');
  });

  it('treat-as-withdraw removes the listed prefixes', () => {
    const r = rib();
    upPeer(r, { id: 'a', address: '10.0.0.2', asn: 65001 }, '2.2.2.2');
    r.ingest('a', announce(['10.1.0.0/16']));
    const u = withdraw(['10.1.0.0/16']);
    expect(r.ingest('a', { action: 'treat-as-withdraw', update: u, issues: [] }).withdrawn).toBe(1);
    expect(r.locRibSize('ipv4-unicast')).toBe(0);
  });

  it('reports max-prefix excess', () => {
    const r = rib();
    upPeer(r, { id: 'a', address: '10.0.0.2', asn: 65001, maxPrefixes: 2 }, '2.2.2.2');
    expect(r.ingest('a', announce(['10.1.0.0/16', '10.2.0.0/16'])).exceeded).toBe(false);
    expect(r.ingest('a', announce(['10.3.0.0/16'])).exceeded).toBe(true);
  });

  it('applies import filters: reject, modify (LOCAL_PREF for an eBGP route)', () => {
    const r = rib();
    r.addPeer({
      id: 'a',
      address: '10.0.0.2',
      asn: 65001,
      importFilter: (rt) =>
        rt.prefix.addr.startsWith('10.9.') ? { action: 'reject' } : { action: 'modify', attrs: { ...rt.attrs, localPref: 300 } },
    });
    r.peerUp('a', session('2.2.2.2'), 0);
    const res = r.ingest('a', announce(['10.9.0.0/16', '10.1.0.0/16'], { localPref: 999 }));
    expect(res).toMatchObject({ announced: 1, rejected: 1 });
    expect(r.best(pfx('10.1.0.0/16'))?.attrs.localPref).toBe(300);
    expect(r.peerCounts('a')).toMatchObject({ received: 2, accepted: 1 });
  });

  it('strips LOCAL_PREF received from an eBGP peer (RFC 4271 §5.1.5)', () => {
    const r = rib();
    upPeer(r, { id: 'a', address: '10.0.0.2', asn: 65001 }, '2.2.2.2');
    r.ingest('a', announce(['10.1.0.0/16'], { localPref: 999 }));
    expect(r.best(pfx('10.1.0.0/16'))?.attrs.attrs.localPref).toBeUndefined();
  });

  it('throws a typed error for an unknown peer', () => {
    const r = rib();
    expect(() => r.ingest('nope', EOR4)).toThrow(expect.objectContaining({ code: 'rib-unknown-peer' }));
  });

  it('an empty treat-as-withdraw outcome is not an End-of-RIB', () => {
    const r = rib();
    upPeer(r, { id: 'a', address: '10.0.0.2', asn: 65001 }, '2.2.2.2');
    expect(r.ingest('a', { action: 'treat-as-withdraw', update: withdraw([]), issues: [] }).endOfRib).toBeUndefined();
    expect(r.ingest('a', { action: 'accept', update: EOR4, discarded: [] }).endOfRib).toBe('ipv4-unicast');
  });

  it('does not freeze the caller objects it interns', () => {
    const r = rib();
    upPeer(r, { id: 'a', address: '10.0.0.2', asn: 65001 }, '2.2.2.2');
    const msg = announce(['10.1.0.0/16'], { asPath: [{ type: 2, asns: [65001] }], communities: [1] });
    r.ingest('a', msg);
    expect(Object.isFrozen(msg.attributes.asPath)).toBe(false);
    expect(Object.isFrozen(msg.attributes.asPath![0]!.asns)).toBe(false);
    const stored = r.best(pfx('10.1.0.0/16'))!.attrs.attrs;
    expect(Object.isFrozen(stored.asPath![0]!.asns)).toBe(true);
  });
});

