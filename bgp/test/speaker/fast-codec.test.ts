/**
 * The lazy IPv4 NLRI path: UPDATEs decoded by `fastSessionCodec` reach the RIB through
 * `ingestOutcome` as numbers, with the same result as the object path.
 */
import { describe, expect, it } from 'vitest';
import { encodeUpdate, type CodecContext, type Family, type UpdateMessage } from '../../src/codec/index.js';
import { Rib } from '../../src/rib/index.js';
import { fastSessionCodec, ingestOutcome, lazyNlri } from '../../src/speaker/index.js';

const CTX: CodecContext = { fourOctetAs: true, addPath: new Set(), extendedMessage: false };
const NONE: ReadonlySet<Family> = new Set();
const p4 = (a: string, len: number) => ({ afi: 1 as const, addr: a, len });
const ATTRS = { origin: 0 as const, asPath: [{ type: 2 as const, asns: [65002] }], nextHop: '10.0.0.2' };

function decode(u: UpdateMessage) {
  const e = fastSessionCodec().toEvent(encodeUpdate(u, CTX), 'o1', CTX, false);
  if (e.type !== 'update' || e.payload.kind !== 'decoded') throw new Error(`unexpected ${e.type}`);
  return e.payload.outcome;
}

function rib(): Rib {
  const r = new Rib({ asn: 65001, routerId: '10.0.0.1' });
  r.addPeer({ id: 'p', address: '10.0.0.2', asn: 65002 });
  r.peerUp('p', { routerId: '10.0.0.2', localAddress: '10.0.0.1', families: ['ipv4-unicast', 'ipv6-unicast'] }, 0);
  return r;
}

describe('fastSessionCodec + ingestOutcome', () => {
  it('announces IPv4 NLRI as numbers and applies withdrawals first', () => {
    const r = rib();
    const o = decode({ type: 'update', withdrawn: [], attributes: ATTRS, nlri: [p4('10.1.0.0', 24), p4('10.2.0.0', 24), p4('10.3.3.3', 32)] });
    expect(o.update.nlri).toEqual([]);
    expect(lazyNlri(o)).toBeInstanceOf(Uint8Array);
    expect(ingestOutcome(r, 'p', o, NONE)).toMatchObject({ announced: 3, withdrawn: 0, exceeded: false });
    expect(r.locRibSize('ipv4-unicast')).toBe(3);
    const o2 = decode({ type: 'update', withdrawn: [p4('10.1.0.0', 24)], attributes: ATTRS, nlri: [p4('10.4.0.0', 24)] });
    expect(ingestOutcome(r, 'p', o2, NONE)).toMatchObject({ announced: 1, withdrawn: 1 });
    expect([...r.routes('ipv4-unicast')].map((b) => `${b.prefix.addr}/${b.prefix.len}`).sort()).toEqual(['10.2.0.0/24', '10.3.3.3/32', '10.4.0.0/24']);
    expect(r.best(p4('10.4.0.0', 24))!.attrs.attrs.asPath).toEqual([{ type: 2, asns: [65002] }]);
  });

  it('passes End-of-RIB through (treat-as-withdraw on this path is covered by interop/malformed.test.ts)', () => {
    const r = rib();
    const eor = decode({ type: 'update', withdrawn: [], attributes: {}, nlri: [] });
    expect(ingestOutcome(r, 'p', eor, NONE).endOfRib).toBe('ipv4-unicast');
  });
});
