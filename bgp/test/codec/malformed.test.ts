/**
 * Malformed UPDATEs, one per RFC 7606 rule (and the RFC 4271 §6 header/OPEN errors), each with
 * the expected outcome: accept (with the attributes discarded), treat-as-withdraw, or session
 * reset with the NOTIFICATION code/subcode.
 */
import { describe, expect, it } from 'vitest';
import { BgpCodecError, decodeMessage, type CodecContext, type DecodeOptions } from '../../src/codec/index.js';
import { hex, message, update } from './hex.js';

const ctx4: CodecContext = { fourOctetAs: true, addPath: new Set(), extendedMessage: false };
const ctx2: CodecContext = { fourOctetAs: false, addPath: new Set(), extendedMessage: false };
const ctx6ap: CodecContext = { fourOctetAs: true, addPath: new Set(['ipv6-unicast']), extendedMessage: false };
/** The speaker's fast codec decodes with these on: the outcomes must not change. */
const LAZY: DecodeOptions = { lazyIpv4Nlri: true, lazyIpv6Nlri: true };

const ORIGIN = '40 01 01 00';
const AS_PATH = '40 02 06 02 01 0000fde9';
const AS_PATH2 = '40 02 04 02 01 fde9';
const NEXT_HOP = '40 03 04 0a000001';
const NLRI = '18 0a0100 // 10.1.0.0/24';
// MP_REACH IPv6: next hop 2001:db8::1, NLRI 2001:db8:1::/64
const MP_REACH = '80 0e 1e 0002 01 10 20010db8000000000000000000000001 00 40 20010db800010000';
const BASE = [ORIGIN, AS_PATH, NEXT_HOP];

type Expect =
  | { accept: number[] } // attribute types discarded
  | { withdraw: string } // the rule of the first issue
  | { reset: [number, number] };

interface Case {
  name: string;
  msg: Uint8Array;
  expect: Expect;
  ctx?: CodecContext;
  opts?: DecodeOptions;
}

const cases: Case[] = [
  // RFC 7606 §7.1 ORIGIN
  { name: 'ORIGIN value 3', msg: update({ attrs: ['40 01 01 03', AS_PATH, NEXT_HOP], nlri: NLRI }), expect: { withdraw: 'RFC 7606 §7.1' } },
  { name: 'ORIGIN length 2', msg: update({ attrs: ['40 01 02 0000', AS_PATH, NEXT_HOP], nlri: NLRI }), expect: { withdraw: 'RFC 7606 §7.1' } },
  // RFC 7606 §7.2 AS_PATH
  { name: 'AS_PATH unknown segment type 5', msg: update({ attrs: [ORIGIN, '40 02 06 05 01 0000fde9', NEXT_HOP], nlri: NLRI }), expect: { withdraw: 'RFC 7606 §7.2' } },
  { name: 'AS_PATH zero-length segment', msg: update({ attrs: [ORIGIN, '40 02 02 02 00', NEXT_HOP], nlri: NLRI }), expect: { withdraw: 'RFC 7606 §7.2' } },
  { name: 'AS_PATH segment overrun', msg: update({ attrs: [ORIGIN, '40 02 06 02 02 0000fde9', NEXT_HOP], nlri: NLRI }), expect: { withdraw: 'RFC 7606 §7.2' } },
  { name: 'AS_PATH one-octet underrun', msg: update({ attrs: [ORIGIN, '40 02 07 02 01 0000fde9 02', NEXT_HOP], nlri: NLRI }), expect: { withdraw: 'RFC 7606 §7.2' } },
  { name: 'AS_PATH with AS 0 (RFC 7607)', msg: update({ attrs: [ORIGIN, '40 02 06 02 01 00000000', NEXT_HOP], nlri: NLRI }), expect: { withdraw: 'RFC 7606 §7.2' } },
  { name: 'AS_PATH not led by the eBGP peer AS', msg: update({ attrs: BASE, nlri: NLRI }), opts: { ibgp: false, peerAs: 65002 }, expect: { withdraw: 'RFC 7606 §7.2' } },
  { name: 'AS_PATH led by the eBGP peer AS', msg: update({ attrs: BASE, nlri: NLRI }), opts: { ibgp: false, peerAs: 65001 }, expect: { accept: [] } },
  { name: 'AS_CONFED_SEQUENCE from an eBGP peer', msg: update({ attrs: [ORIGIN, '40 02 06 03 01 0000fde9', NEXT_HOP], nlri: NLRI }), opts: { ibgp: false }, expect: { withdraw: 'RFC 7606 §7.2' } },
  { name: '2-octet AS_PATH on a 2-octet session', msg: update({ attrs: [ORIGIN, AS_PATH2, NEXT_HOP], nlri: NLRI }), ctx: ctx2, expect: { accept: [] } },
  // RFC 7606 §7.3 NEXT_HOP
  { name: 'NEXT_HOP length 5', msg: update({ attrs: [ORIGIN, AS_PATH, '40 03 05 0a00000100'], nlri: NLRI }), expect: { withdraw: 'RFC 7606 §7.3' } },
  { name: 'NEXT_HOP 0.0.0.0', msg: update({ attrs: [ORIGIN, AS_PATH, '40 03 04 00000000'], nlri: NLRI }), expect: { withdraw: 'RFC 7606 §7.3' } },
  { name: 'bad NEXT_HOP without IPv4 NLRI is discarded', msg: update({ attrs: [MP_REACH, ORIGIN, AS_PATH, '40 03 03 0a0000'] }), expect: { accept: [3] } },
  // RFC 7606 §7.4 MED, §7.5 LOCAL_PREF
  { name: 'MED length 3', msg: update({ attrs: [...BASE, '80 04 03 000001'], nlri: NLRI }), expect: { withdraw: 'RFC 7606 §7.4' } },
  { name: 'LOCAL_PREF length 3 (iBGP)', msg: update({ attrs: [...BASE, '40 05 03 000064'], nlri: NLRI }), opts: { ibgp: true }, expect: { withdraw: 'RFC 7606 §7.5' } },
  { name: 'LOCAL_PREF from eBGP', msg: update({ attrs: [...BASE, '40 05 04 00000064'], nlri: NLRI }), opts: { ibgp: false }, expect: { accept: [5] } },
  // RFC 7606 §7.6 ATOMIC_AGGREGATE, §7.7 AGGREGATOR
  { name: 'ATOMIC_AGGREGATE length 1', msg: update({ attrs: [...BASE, '40 06 01 00'], nlri: NLRI }), expect: { accept: [6] } },
  { name: 'AGGREGATOR 6 octets on a 4-octet session', msg: update({ attrs: [...BASE, 'c0 07 06 fde9 0a000001'], nlri: NLRI }), expect: { accept: [7] } },
  { name: 'AGGREGATOR AS 0 (RFC 7607)', msg: update({ attrs: [...BASE, 'c0 07 08 00000000 0a000001'], nlri: NLRI }), expect: { accept: [7] } },
  // RFC 7606 §7.8 COMMUNITIES, §7.9 ORIGINATOR_ID, §7.10 CLUSTER_LIST
  { name: 'COMMUNITIES length 5', msg: update({ attrs: [...BASE, 'c0 08 05 0000000000'], nlri: NLRI }), expect: { withdraw: 'RFC 7606 §7.8' } },
  { name: 'COMMUNITIES length 0', msg: update({ attrs: [...BASE, 'c0 08 00'], nlri: NLRI }), expect: { withdraw: 'RFC 7606 §7.8' } },
  { name: 'ORIGINATOR_ID length 5', msg: update({ attrs: [...BASE, '80 09 05 0a00000100'], nlri: NLRI }), expect: { withdraw: 'RFC 7606 §7.9' } },
  { name: 'ORIGINATOR_ID from eBGP', msg: update({ attrs: [...BASE, '80 09 04 0a000001'], nlri: NLRI }), opts: { ibgp: false }, expect: { accept: [9] } },
  { name: 'CLUSTER_LIST length 6', msg: update({ attrs: [...BASE, '80 0a 06 0a0000010a00'], nlri: NLRI }), expect: { withdraw: 'RFC 7606 §7.10' } },
  { name: 'CLUSTER_LIST from eBGP', msg: update({ attrs: [...BASE, '80 0a 04 0a000001'], nlri: NLRI }), opts: { ibgp: false }, expect: { accept: [10] } },
  // RFC 7606 §7.11 / §7.12 MP_REACH / MP_UNREACH: session reset (or AFI/SAFI disable)
  { name: 'MP_REACH next hop length 5 for IPv6', msg: update({ attrs: ['80 0e 0e 0002 01 05 0000000000 00 40 20010db800010000', ORIGIN, AS_PATH] }), expect: { reset: [3, 9] } },
  { name: 'MP_REACH prefix length 129', msg: update({ attrs: ['80 0e 16 0002 01 10 20010db8000000000000000000000001 00 81', ORIGIN, AS_PATH] }), expect: { reset: [3, 10] } },
  { name: 'MP_REACH truncated prefix', msg: update({ attrs: ['80 0e 19 0002 01 10 20010db8000000000000000000000001 00 40 20010db8', ORIGIN, AS_PATH] }), expect: { reset: [3, 10] } },
  { name: 'MP_REACH shorter than 5 octets', msg: update({ attrs: ['80 0e 03 000201', ORIGIN, AS_PATH] }), expect: { reset: [3, 9] } },
  { name: 'MP_UNREACH truncated prefix', msg: update({ attrs: ['80 0f 05 0002 01 40 20'] }), expect: { reset: [3, 10] } },
  { name: 'MP_UNREACH prefix length 129', msg: update({ attrs: ['80 0f 04 0002 01 81'] }), expect: { reset: [3, 10] } },
  // RFC 7911 §3: ADD-PATH IPv6 NLRI
  { name: 'MP_REACH with a path id (ADD-PATH)', msg: update({ attrs: ['80 0e 22 0002 01 10 20010db8000000000000000000000001 00 00000001 40 20010db800010000', ORIGIN, AS_PATH] }), ctx: ctx6ap, expect: { accept: [] } },
  { name: 'MP_REACH path id without prefix (ADD-PATH)', msg: update({ attrs: ['80 0e 19 0002 01 10 20010db8000000000000000000000001 00 00000001', ORIGIN, AS_PATH] }), ctx: ctx6ap, expect: { reset: [3, 10] } },
  { name: 'MP_UNREACH truncated path id (ADD-PATH)', msg: update({ attrs: ['80 0f 05 0002 01 0000'] }), ctx: ctx6ap, expect: { reset: [3, 10] } },
  { name: 'MP_REACH twice (RFC 7606 §3 g)', msg: update({ attrs: [MP_REACH, MP_REACH, ORIGIN, AS_PATH] }), expect: { reset: [3, 1] } },
  { name: 'MP_REACH with transitive flag', msg: update({ attrs: [MP_REACH.replace(/^80/, 'c0'), ORIGIN, AS_PATH] }), expect: { reset: [3, 4] } },
  { name: 'MP_REACH not first is accepted (RFC 7606 §5.1)', msg: update({ attrs: [ORIGIN, AS_PATH, MP_REACH] }), expect: { accept: [] } },
  { name: 'MP_REACH overrunning the attributes', msg: update({ attrs: [ORIGIN, AS_PATH, '80 0e 40 0002 01 10'] }), expect: { reset: [3, 5] } },
  { name: 'MP_UNREACH shorter than 3 octets', msg: update({ attrs: ['80 0f 02 0002'] }), expect: { reset: [3, 9] } },
  { name: 'MP_UNREACH twice', msg: update({ attrs: ['80 0f 03 000201', '80 0f 03 000201'] }), expect: { reset: [3, 1] } },
  { name: 'MP_REACH of an unsupported AFI/SAFI is kept raw and ignored (RFC 4760 §7)', msg: update({ attrs: ['80 0e 0b 0019 46 04 0a000001 00 0000', ORIGIN, AS_PATH] }), expect: { accept: [] } },
  { name: 'MP_REACH for IPv4 with a 16-octet next hop (RFC 8950)', msg: update({ attrs: ['80 0e 19 0001 01 10 20010db8000000000000000000000001 00 18 0a0100', ORIGIN, AS_PATH] }), expect: { accept: [] } },
  { name: 'MP_REACH for IPv4 with a 5-octet next hop', msg: update({ attrs: ['80 0e 0e 0001 01 05 0a00000100 00 18 0a0100', ORIGIN, AS_PATH] }), expect: { reset: [3, 9] } },
  // RFC 7606 §7.14 EXTENDED_COMMUNITIES, RFC 8092 §6 LARGE_COMMUNITIES
  { name: 'EXTENDED_COMMUNITIES length 7', msg: update({ attrs: [...BASE, 'c0 10 07 00020000000000'], nlri: NLRI }), expect: { withdraw: 'RFC 7606 §7.14' } },
  { name: 'IPv6 address specific extended communities length 19 (RFC 7606 §7.15)', msg: update({ attrs: [...BASE, 'c0 19 13 ' + '00'.repeat(19)], nlri: NLRI }), expect: { withdraw: 'RFC 7606 §7.15' } },
  { name: 'IPv6 address specific extended communities length 20 is kept', msg: update({ attrs: [...BASE, 'c0 19 14 ' + '00'.repeat(20)], nlri: NLRI }), expect: { accept: [] } },
  { name: 'LARGE_COMMUNITIES length 11', msg: update({ attrs: [...BASE, 'c0 20 0b 0000000000000000000000'], nlri: NLRI }), expect: { withdraw: 'RFC 8092 §6' } },
  // RFC 6793 §6 AS4_PATH / AS4_AGGREGATOR: attribute discard
  { name: 'AS4_PATH from a 4-octet peer', msg: update({ attrs: [...BASE, 'c0 11 06 02 01 0000fde9'], nlri: NLRI }), expect: { accept: [17] } },
  { name: 'AS4_PATH malformed', msg: update({ attrs: [ORIGIN, AS_PATH2, NEXT_HOP, 'c0 11 06 07 01 0000fde9'], nlri: NLRI }), ctx: ctx2, expect: { accept: [17] } },
  { name: 'AS4_PATH with a confederation segment', msg: update({ attrs: [ORIGIN, AS_PATH2, NEXT_HOP, 'c0 11 06 03 01 0000fde9'], nlri: NLRI }), ctx: ctx2, expect: { accept: [17] } },
  { name: 'AS4_PATH empty', msg: update({ attrs: [ORIGIN, AS_PATH2, NEXT_HOP, 'c0 11 00'], nlri: NLRI }), ctx: ctx2, expect: { accept: [17] } },
  { name: 'AS4_AGGREGATOR length 6', msg: update({ attrs: [ORIGIN, AS_PATH2, NEXT_HOP, 'c0 12 06 fde9 0a000001'], nlri: NLRI }), ctx: ctx2, expect: { accept: [18] } },
  // RFC 7606 §3 c: flags in conflict → the attribute's own malformed handling
  { name: 'ORIGIN flagged optional', msg: update({ attrs: ['c0 01 01 00', AS_PATH, NEXT_HOP], nlri: NLRI }), expect: { withdraw: 'RFC 7606 §3 c' } },
  { name: 'AGGREGATOR flagged well-known', msg: update({ attrs: [...BASE, '40 07 08 0000fde9 0a000001'], nlri: NLRI }), expect: { accept: [7] } },
  // RFC 7606 §3 g: duplicates (not MP) → keep the first
  { name: 'ORIGIN twice', msg: update({ attrs: [...BASE, '40 01 01 02'], nlri: NLRI }), expect: { accept: [1] } },
  // RFC 7606 §4: attribute length vs Total Attribute Length
  { name: 'last attribute overruns the field', msg: update({ attrs: [...BASE, '80 04 0a 00000001'], nlri: NLRI }), expect: { withdraw: 'RFC 7606 §4' } },
  { name: 'two octets left, too few for a header', msg: update({ attrs: [...BASE, '80 04'], nlri: NLRI }), expect: { withdraw: 'RFC 7606 §4' } },
  { name: 'extended-length header cut short', msg: update({ attrs: [...BASE, '90 04 00'], nlri: NLRI }), expect: { withdraw: 'RFC 7606 §4' } },
  // RFC 7606 §3 d: missing well-known attributes with NLRI
  { name: 'ORIGIN missing', msg: update({ attrs: [AS_PATH, NEXT_HOP], nlri: NLRI }), expect: { withdraw: 'RFC 7606 §3 d' } },
  { name: 'NEXT_HOP missing with IPv4 NLRI', msg: update({ attrs: [ORIGIN, AS_PATH], nlri: NLRI }), expect: { withdraw: 'RFC 7606 §3 d' } },
  { name: 'AS_PATH missing with MP_REACH NLRI', msg: update({ attrs: [MP_REACH, ORIGIN] }), expect: { withdraw: 'RFC 7606 §3 d' } },
  { name: 'no attributes with only withdrawals', msg: update({ withdrawn: NLRI }), expect: { accept: [] } },
  // RFC 7606 §5.2: attributes but no reachable NLRI — anything beyond attribute discard resets
  { name: 'COMMUNITIES length 5 without NLRI', msg: update({ attrs: [...BASE, 'c0 08 05 0000000000'] }), expect: { reset: [3, 9] } },
  { name: 'ORIGIN value 3 with only withdrawals', msg: update({ withdrawn: NLRI, attrs: ['40 01 01 03', AS_PATH, NEXT_HOP] }), expect: { reset: [3, 6] } },
  { name: 'overrun without NLRI', msg: update({ attrs: [...BASE, '80 04 0a 00000001'] }), expect: { reset: [3, 1] } },
  { name: 'ATOMIC_AGGREGATE length 1 without NLRI (discard still applies)', msg: update({ attrs: [...BASE, '40 06 01 00'] }), expect: { accept: [6] } },
  { name: 'MED length 3 with MP_REACH NLRI', msg: update({ attrs: [MP_REACH, ORIGIN, AS_PATH, '80 04 03 000001'] }), expect: { withdraw: 'RFC 7606 §7.4' } },
  // RFC 4271 §6.3 (kept by RFC 7606): inconsistent lengths, NLRI syntax (RFC 7606 §5.3), unknown well-known
  { name: 'total attribute length overruns the message', msg: hex('ffffffffffffffffffffffffffffffff 0019 02 0000 0010 4001'), expect: { reset: [3, 1] } },
  { name: 'withdrawn routes length overruns the message', msg: hex('ffffffffffffffffffffffffffffffff 0017 02 0010 0000'), expect: { reset: [3, 1] } },
  { name: 'NLRI prefix length 33', msg: update({ attrs: BASE, nlri: '21 0a010000 00' }), expect: { reset: [3, 10] } },
  { name: 'NLRI truncated', msg: update({ attrs: BASE, nlri: '18 0a01' }), expect: { reset: [3, 10] } },
  { name: 'withdrawn prefix truncated', msg: update({ withdrawn: '20 0a01' }), expect: { reset: [3, 10] } },
  { name: 'unrecognised well-known attribute', msg: update({ attrs: [...BASE, '40 63 01 00'], nlri: NLRI }), expect: { reset: [3, 2] } },
  { name: 'unrecognised optional attribute is kept', msg: update({ attrs: [...BASE, '80 63 01 00'], nlri: NLRI }), expect: { accept: [] } },
];

function outcome(c: Case): Expect {
  try {
    const m = decodeMessage(c.msg, c.ctx ?? ctx4, c.opts);
    if (m.type !== 'update') throw new Error('not an UPDATE');
    if (m.action === 'accept') return { accept: m.discarded.map((d) => d.attrType) };
    return { withdraw: m.issues[0]!.rule };
  } catch (e: unknown) {
    if (!(e instanceof BgpCodecError)) throw e;
    return { reset: [e.notification.code, e.notification.subcode] };
  }
}

describe('RFC 7606 outcomes', () => {
  for (const c of cases) {
    it(c.name, () => {
      expect(outcome(c)).toEqual(c.expect);
      expect(outcome({ ...c, opts: { ...c.opts, ...LAZY } })).toEqual(c.expect); // with NLRI left undecoded
    });
  }

  it('treat-as-withdraw lists every prefix, IPv4 and MP_REACH', () => {
    const m = decodeMessage(update({ withdrawn: '18 0a0900', attrs: [MP_REACH, 'c0 08 03 000000', ORIGIN, AS_PATH, NEXT_HOP], nlri: NLRI }), ctx4);
    expect(m.type === 'update' && m.action).toBe('treat-as-withdraw');
    if (m.type !== 'update') return;
    expect(m.update.nlri).toEqual([]);
    expect(m.update.withdrawn).toEqual([{ afi: 1, addr: '10.9.0.0', len: 24 }, { afi: 1, addr: '10.1.0.0', len: 24 }]);
    expect(m.update.attributes).toEqual({ mpUnreach: { afi: 2, safi: 1, withdrawn: [{ afi: 2, addr: '2001:db8:1::', len: 64 }] } });
  });

  it('treat-as-withdraw decodes the IPv6 NLRI lazyIpv6Nlri left out; an accepted outcome leaves them out', () => {
    const b = update({ withdrawn: '18 0a0900', attrs: [MP_REACH, 'c0 08 03 000000', ORIGIN, AS_PATH, NEXT_HOP], nlri: NLRI });
    const eager = decodeMessage(b, ctx4);
    expect(decodeMessage(b, ctx4, { lazyIpv6Nlri: true })).toEqual(eager);
    const ok = decodeMessage(update({ attrs: [MP_REACH, ORIGIN, AS_PATH, '80 0f 0c 0002 01 40 20010db800090000'] }), ctx4, { lazyIpv6Nlri: true });
    expect(ok.type === 'update' && ok.update.attributes.mpReach).toEqual({ afi: 2, safi: 1, nextHops: ['2001:db8::1'], nlri: [] });
    expect(ok.type === 'update' && ok.update.attributes.mpUnreach).toEqual({ afi: 2, safi: 1, withdrawn: [] });
  });

  it('MP errors name the AFI/SAFI that may be disabled instead', () => {
    try {
      decodeMessage(update({ attrs: ['80 0e 16 0002 01 10 20010db8000000000000000000000001 00 81', ORIGIN, AS_PATH] }), ctx4);
      expect.unreachable();
    } catch (e: unknown) {
      expect(e instanceof BgpCodecError && e.family).toEqual({ afi: 2, safi: 1 });
    }
  });
});

describe('header, OPEN and ROUTE-REFRESH errors', () => {
  const M = 'ffffffffffffffffffffffffffffffff';
  const err = (b: Uint8Array, ctx = ctx4): [number, number] => {
    try {
      decodeMessage(b, ctx);
    } catch (e: unknown) {
      if (e instanceof BgpCodecError) return [e.notification.code, e.notification.subcode];
      throw e;
    }
    throw new Error('decoded');
  };
  const open = (body: string): Uint8Array => message(1, hex(body));
  it.each([
    ['marker not all ones', hex('ffffffffffffffffffffffffffffff00 0013 04'), [1, 1]],
    ['length 18', hex(`${M} 0012 04`), [1, 2]],
    ['type 6', hex(`${M} 0013 06`), [1, 3]],
    ['KEEPALIVE of 20 octets', hex(`${M} 0014 04 00`), [1, 2]],
    ['NOTIFICATION of 20 octets', hex(`${M} 0014 03 06`), [1, 2]],
    ['OPEN version 3', open('03 fde9 005a 0a000001 00'), [2, 1]],
    ['OPEN hold time 2', open('04 fde9 0002 0a000001 00'), [2, 6]],
    ['OPEN BGP identifier 0', open('04 fde9 005a 00000000 00'), [2, 3]],
    ['OPEN AS 0', open('04 0000 005a 0a000001 00'), [2, 2]],
    ['OPEN authentication parameter', open('04 fde9 005a 0a000001 03 01 01 00'), [2, 4]],
    ['OPEN parameter overrun', open('04 fde9 005a 0a000001 04 02 05 41 04'), [2, 0]],
    ['OPEN capability of wrong length', open('04 fde9 005a 0a000001 06 02 04 41 02 0000'), [2, 0]],
    ['OPEN optional length disagrees', open('04 fde9 005a 0a000001 05 02 02 02 00'), [2, 0]],
    ['ROUTE-REFRESH BoRR of 24 octets', message(5, hex('0001 01 01 00')), [7, 1]],
  ] as Array<[string, Uint8Array, [number, number]]>)('%s', (_n, b, want) => {
    expect(err(b)).toEqual(want);
  });

  it('UPDATE above 4096 octets needs the extended message capability', () => {
    const big = update({ withdrawn: '20 0a000001 '.repeat(900) });
    expect(big.length).toBeGreaterThan(4096);
    expect(err(big)).toEqual([1, 2]);
    const m = decodeMessage(big, { ...ctx4, extendedMessage: true });
    expect(m.type === 'update' && m.update.withdrawn.length).toBe(900);
  });
});
