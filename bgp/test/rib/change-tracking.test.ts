/**
 * Change tracking between flushes (loc-rib.ts `DirtySet`): a prefix is reported once per batch
 * with its best as of the last flush, also when its Loc-RIB entry is deleted and re-created
 * inside the batch; and a RIB that reports to nobody tracks nothing, yet a peer that comes up
 * later gets the whole Loc-RIB and every later change.
 */
import { describe, expect, it } from 'vitest';
import { announce, announce6, pfx, rib, upPeer, updatesFor, withdraw } from './helpers.js';

const PATH = { asPath: [{ type: 2 as const, asns: [65001] }] };

describe('change tracking', () => {
  it('reports a prefix deleted and re-created in one batch once, against its state at the last flush', () => {
    const r = rib();
    upPeer(r, { id: 'a', address: '10.0.0.2', asn: 65001 }, '2.2.2.2');
    r.ingest('a', announce(['10.1.0.0/16'], { ...PATH, med: 1 }));
    r.flush();
    r.ingest('a', withdraw(['10.1.0.0/16']));
    r.ingest('a', announce(['10.1.0.0/16'], { ...PATH, med: 2 }));
    r.ingest('a', withdraw(['10.1.0.0/16']));
    r.ingest('a', announce(['10.1.0.0/16', '10.2.0.0/16'], { ...PATH, med: 3 }));
    const f = r.flush();
    expect(f.best.map((b) => `${b.type} ${b.prefix.addr}`).sort()).toEqual(['add 10.2.0.0', 'replace 10.1.0.0']);
    r.ingest('a', withdraw(['10.2.0.0/16']));
    r.ingest('a', announce(['10.2.0.0/16'], { ...PATH, med: 3 })); // back as it was: nothing to report
    expect(r.flush().best).toEqual([]);
  });

  it('does the same for IPv6 keys', () => {
    const r = rib();
    upPeer(r, { id: 'a', address: '10.0.0.2', asn: 65001 }, '2.2.2.2', { families: ['ipv4-unicast', 'ipv6-unicast'] });
    r.ingest('a', announce6(['2001:db8::/32'], '2001:db8::1', PATH));
    r.flush();
    r.ingest('a', { type: 'update', withdrawn: [], attributes: { mpUnreach: { afi: 2, safi: 1, withdrawn: [pfx('2001:db8::/32')] } }, nlri: [] });
    r.ingest('a', announce6(['2001:db8::/32'], '2001:db8::1', { ...PATH, med: 5 }));
    expect(r.flush().best.map((b) => b.type)).toEqual(['replace']);
  });

  it('without consumers tracks nothing; a peer that comes up later gets the table and then diffs', () => {
    const r = rib({ bestChanges: false });
    r.flush(); // nobody consumes changes: tracking stops
    r.originate(pfx('10.1.0.0/16'));
    r.originate(pfx('10.2.0.0/16'));
    r.withdrawOrigin(pfx('10.1.0.0/16'));
    expect(r.flush().updates).toEqual([]);
    upPeer(r, { id: 'b', address: '10.0.0.10', asn: 65004 }, '4.4.4.4');
    r.originate(pfx('10.4.0.0/16')); // before the dump: in it
    const dump = updatesFor(r.flush(), 'b');
    expect([...dump.announced.keys()].sort()).toEqual(['10.2.0.0/16', '10.4.0.0/16']);
    r.originate(pfx('10.3.0.0/16'));
    r.withdrawOrigin(pfx('10.2.0.0/16'));
    const diff = updatesFor(r.flush(), 'b');
    expect([...diff.announced.keys()]).toEqual(['10.3.0.0/16']);
    expect(diff.withdrawn).toEqual(['10.2.0.0/16']);
  });
});
