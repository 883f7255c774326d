/** OPEN validation (RFC 4271 §6.2, RFC 6793, RFC 6286) and capability negotiation cases. */
import { describe, expect, it } from 'vitest';
import { AS_TRANS, buildOpen, negotiate, negotiateHoldTime } from '../../src/session/open.js';
import type { SessionConfig } from '../../src/session/types.js';
import type { OpenMessage } from '../../src/codec/types.js';
import { cfg, peerOpen } from './helpers.js';

describe('hold time negotiation (RFC 4271 §4.2, §10)', () => {
  it.each([
    [90, 90, undefined, 90, 30],
    [90, 30, undefined, 30, 10],
    [30, 180, undefined, 30, 10],
    [90, 0, undefined, 0, 0],
    [0, 90, undefined, 0, 0],
    [3, 3, undefined, 3, 1],
    [4, 90, undefined, 4, 1],
    [90, 90, 10, 90, 10],
    [90, 9, 10, 9, 3], // a configured keepalive never exceeds hold/3
  ])('ours %i theirs %i keepalive %s → hold %i keepalive %i', (ours, theirs, ka, hold, keep) => {
    expect(negotiateHoldTime(ours, theirs, ka)).toEqual({ holdTime: hold, keepaliveTime: keep });
  });
});

type Case = [name: string, config: Partial<SessionConfig>, open: OpenMessage, subcode: number | null];
const fourOctet = (asn: number, myAs = asn > 0xffff ? AS_TRANS : asn): OpenMessage => ({
  ...peerOpen({ myAs }),
  capabilities: [...peerOpen().capabilities.filter((c) => c.type !== 'four-octet-as'), { type: 'four-octet-as', asn }],
});
const twoOctet = (myAs: number): OpenMessage => ({
  ...peerOpen({ myAs }),
  capabilities: peerOpen().capabilities.filter((c) => c.type !== 'four-octet-as'),
});

const cases: Case[] = [
  ['valid iBGP', {}, peerOpen(), null],
  ['version 3', {}, peerOpen({ version: 3 }), 1],
  ['version 5', {}, peerOpen({ version: 5 }), 1],
  ['wrong 2-octet AS', {}, twoOctet(64513), 2],
  ['2-octet peer matching AS', {}, twoOctet(64512), null],
  ['4-octet peer AS via capability and AS_TRANS', { peerAs: 4_200_000_000 }, fourOctet(4_200_000_000), null],
  ['4-octet capability with a different AS', { peerAs: 4_200_000_000 }, fourOctet(4_200_000_001), 2],
  ['AS_TRANS without the capability', { peerAs: 4_200_000_000 }, twoOctet(AS_TRANS), 2],
  ['My AS disagrees with the capability', { peerAs: 65001 }, fourOctet(65001, 65002), 2],
  ['hold time 1', {}, peerOpen({ holdTime: 1 }), 6],
  ['hold time 2', {}, peerOpen({ holdTime: 2 }), 6],
  ['hold time 0', {}, peerOpen({ holdTime: 0 }), null],
  ['hold time 3', {}, peerOpen({ holdTime: 3 }), null],
  ['identifier 0.0.0.0', {}, peerOpen({ bgpId: '0.0.0.0' }), 3],
  ['identifier equal to ours on iBGP', {}, peerOpen({ bgpId: '10.0.0.1' }), 3],
  ['identifier equal to ours on eBGP is allowed (RFC 6286)', { peerAs: 65001 }, fourOctet(65001), null],
];

describe('OPEN validation (RFC 4271 §6.2)', () => {
  it.each(cases)('%s', (_name, over, open, subcode) => {
    const config = cfg(over);
    const msg = _name.includes('eBGP') ? { ...open, bgpId: config.localId } : open;
    const r = negotiate(config, msg);
    if (subcode === null) {
      expect(r.ok).toBe(true);
    } else {
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.notification).toMatchObject({ code: 2, subcode });
    }
  });

  it('an unsupported version carries our version in the data field', () => {
    const r = negotiate(cfg(), peerOpen({ version: 5 }));
    expect(!r.ok && [...r.notification.data]).toEqual([0, 4]);
  });
});

describe('capability negotiation', () => {
  it('families: the intersection; IPv4 unicast implied without MP capabilities (RFC 4760 §8)', () => {
    const onlyV6 = { ...peerOpen(), capabilities: [{ type: 'multiprotocol' as const, afi: 2, safi: 1 }] };
    expect(negotiate(cfg(), onlyV6)).toMatchObject({ ok: true, negotiated: { families: ['ipv6-unicast'] } });
    const none = { ...peerOpen(), capabilities: [] };
    expect(negotiate(cfg(), none)).toMatchObject({ ok: true, negotiated: { families: ['ipv4-unicast'], fourOctetAs: false, routeRefresh: false } });
  });

  it('4-octet AS only when both sides advertise it', () => {
    expect(negotiate(cfg({ fourOctetAs: false }), peerOpen())).toMatchObject({ negotiated: { fourOctetAs: false } });
    expect(negotiate(cfg(), peerOpen())).toMatchObject({ negotiated: { fourOctetAs: true, receiveContext: { fourOctetAs: true } } });
  });

  it('route refresh, enhanced route refresh and extended message need both sides', () => {
    const open = peerOpen({}, [{ type: 'enhanced-route-refresh' }, { type: 'extended-message' }]);
    expect(negotiate(cfg({ enhancedRouteRefresh: true, extendedMessage: true }), open)).toMatchObject({
      negotiated: { routeRefresh: true, enhancedRouteRefresh: true, extendedMessage: true, sendContext: { extendedMessage: true } },
    });
    expect(negotiate(cfg({ routeRefresh: false }), open)).toMatchObject({
      negotiated: { routeRefresh: false, enhancedRouteRefresh: false, extendedMessage: false },
    });
  });

  it.each([
    ['receive', 2, ['ipv4-unicast'], []],
    ['receive', 1, [], []],
    ['send', 1, [], ['ipv4-unicast']],
    ['both', 3, ['ipv4-unicast'], ['ipv4-unicast']],
    ['both', 2, ['ipv4-unicast'], []],
  ] as const)('ADD-PATH ours %s, peer mode %i → receive %j send %j (RFC 7911 §5)', (ours, mode, receive, send) => {
    const open = peerOpen({}, [{ type: 'add-path', families: [{ afi: 1, safi: 1, mode }] }]);
    const r = negotiate(cfg({ addPath: { 'ipv4-unicast': ours } }), open);
    expect(r).toMatchObject({ negotiated: { addPath: { receive, send } } });
    if (r.ok) expect([...r.negotiated.receiveContext.addPath]).toEqual(receive);
  });

  it('records the peer graceful restart capability (RFC 4724 §3)', () => {
    const open = peerOpen({}, [
      {
        type: 'graceful-restart',
        restarting: true,
        notification: false,
        restartTime: 120,
        families: [
          { afi: 1, safi: 1, forwardingState: true },
          { afi: 2, safi: 1, forwardingState: false },
          { afi: 1, safi: 128, forwardingState: true },
        ],
      },
    ]);
    const r = negotiate(cfg({ gracefulRestart: { restartTime: 90, restarting: false, forwarding: [] } }), open);
    expect(r).toMatchObject({
      ok: true,
      negotiated: {
        gracefulRestart: true,
        peerGracefulRestart: {
          restartTime: 120,
          restarting: true,
          families: [
            { family: 'ipv4-unicast', forwardingState: true },
            { family: 'ipv6-unicast', forwardingState: false },
          ],
        },
      },
    });
    expect(negotiate(cfg(), open)).toMatchObject({ negotiated: { gracefulRestart: false } });
  });

  it('ignores unknown capabilities', () => {
    const open = peerOpen({}, [{ type: 'unknown', code: 73, value: new Uint8Array([1, 2]) }]);
    expect(negotiate(cfg(), open).ok).toBe(true);
  });
});

describe('our OPEN', () => {
  it('puts AS_TRANS in My AS and the real AS in the capability for a 4-octet AS (RFC 6793 §4.1)', () => {
    const o = buildOpen(cfg({ localAs: 4_200_000_000, fourOctetAs: false }));
    expect(o.myAs).toBe(AS_TRANS);
    expect(o.capabilities).toContainEqual({ type: 'four-octet-as', asn: 4_200_000_000 });
  });

  it('advertises the configured capabilities', () => {
    const o = buildOpen(
      cfg({
        enhancedRouteRefresh: true,
        extendedMessage: true,
        addPath: { 'ipv6-unicast': 'receive' },
        gracefulRestart: { restartTime: 5000, restarting: true, forwarding: ['ipv4-unicast'] },
      }),
    );
    expect(o).toMatchObject({ version: 4, myAs: 64512, holdTime: 90, bgpId: '10.0.0.1' });
    expect(o.capabilities).toContainEqual({ type: 'add-path', families: [{ afi: 2, safi: 1, mode: 1 }] });
    expect(o.capabilities).toContainEqual({
      type: 'graceful-restart',
      restarting: true,
      notification: false,
      restartTime: 4095,
      families: [
        { afi: 1, safi: 1, forwardingState: true },
        { afi: 2, safi: 1, forwardingState: false },
      ],
    });
    expect(o.capabilities.map((c) => c.type)).toEqual([
      'multiprotocol',
      'multiprotocol',
      'route-refresh',
      'enhanced-route-refresh',
      'extended-message',
      'four-octet-as',
      'add-path',
      'graceful-restart',
    ]);
  });
});
