/**
 * eBGP-vs-iBGP import rules in the RIB (defence in depth behind the codec's RFC 7606 discards):
 * attributes that must never be taken from an external neighbour are stripped on import, so a
 * raw-UPDATE path or a codec without the session's eBGP facts cannot smuggle them in.
 */
import { describe, expect, it } from 'vitest';
import { announce, pfx, rib, upPeer } from './helpers.js';

describe('import from an external peer', () => {
  it('RFC 7606 §7.5 / RFC 4271 §5.1.5: LOCAL_PREF is ignored (the default applies)', () => {
    const r = rib();
    upPeer(r, { id: 'e', address: '10.0.0.2', asn: 65001 }, '2.2.2.2');
    r.ingest('e', announce(['10.9.0.0/16'], { asPath: [{ type: 2, asns: [65001] }], localPref: 5000 }));
    expect(r.best(pfx('10.9.0.0/16'))?.attrs.attrs.localPref).toBeUndefined();
  });

  it('RFC 7606 §7.9/§7.10: ORIGINATOR_ID and CLUSTER_LIST are ignored (no false loop rejection)', () => {
    const r = rib({ clusterId: '9.9.9.9' });
    upPeer(r, { id: 'e', address: '10.0.0.2', asn: 65001 }, '2.2.2.2');
    // our own router id / cluster id from an external peer is meaningless, not a reflection loop
    r.ingest('e', announce(['10.9.0.0/16'], { asPath: [{ type: 2, asns: [65001] }], originatorId: '1.1.1.1', clusterList: ['9.9.9.9'] }));
    const b = r.best(pfx('10.9.0.0/16'));
    expect(b?.peer).toBe('e');
    expect(b?.attrs.attrs.originatorId).toBeUndefined();
    expect(b?.attrs.attrs.clusterList).toBeUndefined();
  });

  it('from an internal peer the same attributes are kept and loops are caught (RFC 4456 §8)', () => {
    const r = rib({ clusterId: '9.9.9.9' });
    upPeer(r, { id: 'i', address: '10.0.0.3', asn: 65000 }, '3.3.3.3');
    r.ingest('i', announce(['10.9.0.0/16'], { localPref: 300, originatorId: '4.4.4.4', clusterList: ['8.8.8.8'] }));
    expect(r.best(pfx('10.9.0.0/16'))?.attrs.attrs).toMatchObject({ localPref: 300, originatorId: '4.4.4.4', clusterList: ['8.8.8.8'] });
    r.ingest('i', announce(['10.9.0.0/16'], { originatorId: '1.1.1.1' }));
    expect(r.best(pfx('10.9.0.0/16'))).toBeUndefined();
  });
});
