/** The NLRI walkers agree with each other: text, numbers, syntax check; and the lazy UPDATE path. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  BgpCodecError,
  checkNlri,
  decodeMessage,
  decodeNlri,
  encodeUpdates,
  forEachIpv4Nlri,
  formatIpv4Number,
  locateUpdateFields,
  type CodecContext,
  type Prefix,
} from '../../src/codec/index.js';
import { update } from './hex.js';

function outcome<T>(f: () => T): T | string {
  try {
    return f();
  } catch (e: unknown) {
    if (e instanceof BgpCodecError) return `${e.notification.code}/${e.notification.subcode}`;
    throw e;
  }
}

describe('NLRI walkers', () => {
  it('forEachIpv4Nlri, checkNlri and decodeNlri agree on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.boolean(), (b, addPath) => {
        const text = outcome(() => decodeNlri(b, 0, b.length, 1, addPath, []));
        const nums = outcome(() => {
          const out: Prefix[] = [];
          forEachIpv4Nlri(b, 0, b.length, addPath, (a, len, id) => out.push(addPath ? { afi: 1, addr: formatIpv4Number(a), len, pathId: id } : { afi: 1, addr: formatIpv4Number(a), len }));
          return out;
        });
        expect(nums).toEqual(text);
        const count = outcome(() => checkNlri(b, 0, b.length, 1, addPath));
        expect(count).toEqual(typeof text === 'string' ? text : text.length);
        const v6 = outcome(() => decodeNlri(b, 0, b.length, 2, addPath, []).length);
        expect(outcome(() => checkNlri(b, 0, b.length, 2, addPath))).toEqual(v6);
      }),
      { numRuns: 3000 },
    );
  });

  it('lazy IPv4 NLRI: same attributes, NLRI left to forEachIpv4Nlri', () => {
    const ctx: CodecContext = { fourOctetAs: true, addPath: new Set(['ipv4-unicast']), extendedMessage: false };
    const nlri: Prefix[] = Array.from({ length: 300 }, (_, i) => ({ afi: 1, addr: formatIpv4Number(0x0a000000 + i * 256), len: 24, pathId: i }));
    const [m] = encodeUpdates({ origin: 0, asPath: [{ type: 2, asns: [65001] }], nextHop: '10.0.0.1' }, nlri, [], 'ipv4-unicast', ctx);
    const full = decodeMessage(m!, ctx);
    const lazy = decodeMessage(m!, ctx, { lazyIpv4Nlri: true });
    if (full.type !== 'update' || lazy.type !== 'update') throw new Error('not UPDATEs');
    expect(lazy.update.nlri).toEqual([]);
    expect(lazy.update.attributes).toEqual(full.update.attributes);
    const f = locateUpdateFields(m!);
    const walked: Prefix[] = [];
    forEachIpv4Nlri(m!, f.nlri[0], f.nlri[1], true, (a, len, pathId) => walked.push({ afi: 1, addr: formatIpv4Number(a), len, pathId }));
    expect(walked).toEqual(full.update.nlri);
    // Missing well-known attributes are still detected when the NLRI is not materialised.
    const bad = decodeMessage(update({ attrs: ['40 01 01 00'], nlri: '18 0a0100' }), { ...ctx, addPath: new Set() }, { lazyIpv4Nlri: true });
    expect(bad.type === 'update' && bad.action).toBe('treat-as-withdraw');
    // And malformed NLRI still resets the session.
    expect(outcome(() => decodeMessage(update({ attrs: [], nlri: '21 0a010000 00' }), { ...ctx, addPath: new Set() }, { lazyIpv4Nlri: true }))).toBe('3/10');
  });
});
