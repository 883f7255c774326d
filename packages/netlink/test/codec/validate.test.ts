// Unit tests (no root): every request field is validated before anything is encoded or sent.
// Each `it` names the hostile input an adversarial probe used (issue "netlink under hostile input").
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkRequest, encodeRequest, MAX_NEXTHOPS, NetlinkError, NlWriter, parsePrefix, type Request } from '../../src/index.js';

function rejects(req: unknown, field: string): void {
  let err: unknown;
  try {
    checkRequest(req);
  } catch (e: unknown) {
    err = e;
  }
  expect(err, `expected ${JSON.stringify(req)} to be rejected`).toBeInstanceOf(NetlinkError);
  expect((err as NetlinkError).code).toBe('NETLINK_INVALID_REQUEST');
  expect((err as NetlinkError).message).toContain(field);
}

const route = (r: Record<string, unknown>, op = 'add'): unknown => ({ kind: 'route', op, route: r });

describe('route destinations are parsed strictly', () => {
  it.each([
    ['garbage/0'], ['not-a-prefix/0'], ['10.2.0.0/ '], ['10.1.0.0/24.9'], ['/0x18'], ['10.1.0.0/0x18'],
    ['10.1.0.0/33'], ['10.1.0.0/-1'], ['10.1.0.0/+8'], ['10.1.0.0/024'], ['10.1.0.0/'], [''], ['::/129'], ['10.1.0.0/24 '],
  ])('rejects %j', (dst) => rejects(route({ dst, oif: 3 }), 'route dst'));

  it('rejects host bits past the length (the network address is meant)', () => {
    rejects(route({ dst: '10.1.2.3/16', oif: 3 }), 'host bits');
    rejects(route({ dst: 'fd00::1/64', oif: 3 }), 'host bits');
  });

  it('accepts network prefixes, host routes and the real default route', () => {
    for (const dst of ['0.0.0.0/0', '::/0', '10.1.0.0/16', '10.1.2.3', '10.1.2.3/32', 'fd00::/64', 'fd00::1']) expect(() => checkRequest(route({ dst, oif: 3 }))).not.toThrow();
  });

  it('parsePrefix refuses signs, spaces, hex and leading zeros in the length', () => {
    for (const t of ['10.0.0.0/ 8', '10.0.0.0/08', '10.0.0.0/0x8', '10.0.0.0/8.0', '10.0.0.0/+8']) expect(parsePrefix(t)).toBeUndefined();
    expect(parsePrefix('10.0.0.0/8')?.len).toBe(8);
  });
});

describe('integers are checked against their wire width and meaning', () => {
  it.each<[string, Record<string, unknown>, string]>([
    ['oif 2^32+3', { oif: 2 ** 32 + 3 }, 'route oif'],
    ['oif 1.5', { oif: 1.5 }, 'route oif'],
    ['oif 0', { oif: 0 }, 'route oif'],
    ['table -1 (would be the local table)', { table: -1, oif: 3 }, 'route table'],
    ['table 0', { table: 0, oif: 3 }, 'route table'],
    ['table 2^32', { table: 2 ** 32, oif: 3 }, 'route table'],
    ['protocol 336 (would be 80, ours)', { protocol: 336, oif: 3 }, 'route protocol'],
    ['scope 300', { scope: 300, oif: 3 }, 'route scope'],
    ['priority NaN', { priority: Number.NaN, oif: 3 }, 'route priority'],
    ['priority as a string', { priority: '5', oif: 3 }, 'route priority'],
  ])('rejects route %s', (_name, extra, field) => rejects(route({ dst: '10.9.0.0/24', ...extra }), field));

  it('rejects an MTU of 2^32+1400 (would be applied as 1400) and below 68', () => {
    rejects({ kind: 'link', op: 'set', link: { index: 2, mtu: 2 ** 32 + 1400 } }, 'link mtu');
    rejects({ kind: 'link', op: 'set', link: { index: 2, mtu: 10 } }, 'link mtu');
    rejects({ kind: 'link', op: 'add', link: { name: 'v0', mtu: 1.5, info: { kind: 'dummy' } } }, 'link mtu');
  });

  it('rejects out-of-range neighbour, address and vxlan fields', () => {
    rejects({ kind: 'neigh', op: 'add', neigh: { family: 4, index: 2, dst: '10.0.0.1', state: 70000 } }, 'neighbour state');
    rejects({ kind: 'neigh', op: 'add', neigh: { family: 4, index: 2, dst: 'fd00::1' } }, 'neighbour dst');
    rejects({ kind: 'neigh', op: 'add', neigh: { family: 'bridge', index: 2, vni: 1 << 24 } }, 'neighbour vni');
    rejects({ kind: 'address', op: 'add', address: { index: 2, address: '10.0.0.1/24', scope: 256 } }, 'address scope');
    rejects({ kind: 'address', op: 'add', address: { index: -1, address: '10.0.0.1/24' } }, 'address index');
    rejects({ kind: 'link', op: 'add', link: { name: 'vx', info: { kind: 'vxlan', vni: 4096, port: 70000 } } }, 'vxlan port');
    rejects({ kind: 'link', op: 'add', link: { name: 'tu', info: { kind: 'ipip', ttl: 256 } } }, 'ipip ttl');
  });

  it('rejects missing and wrongly typed fields with a typed error, never a TypeError', () => {
    rejects(null, 'request');
    rejects({ kind: 'route', op: 'add' }, 'route');
    rejects({ kind: 'route', op: 'add', route: { oif: 3 } }, 'route dst');
    rejects({ kind: 'link', op: 'add', link: { name: 'x' } }, 'link info');
    rejects({ kind: 'bogus', op: 'add' }, 'request kind');
  });
});

describe('what cannot be encoded is rejected, not truncated', () => {
  it('a multipath route over the attribute limit', () => {
    const hops = Array.from({ length: 4100 }, (_, i) => ({ gateway: `10.${i >> 8}.${i & 255}.1`, oif: 2 }));
    rejects(route({ dst: '10.9.0.0/24', multipath: hops }), 'route multipath');
    const w = new NlWriter(64);
    expect(() => encodeRequest(w, { kind: 'route', op: 'add', route: { dst: '10.9.0.0/24', multipath: hops } }, 1)).toThrow(RangeError);
  });

  it('the most next hops we accept still encode (IPv6, the larger hop)', () => {
    const hops = Array.from({ length: MAX_NEXTHOPS }, (_, i) => ({ gateway: `fd00::${(i + 1).toString(16)}`, oif: 2 }));
    const req: Request = { kind: 'route', op: 'add', route: { dst: 'fd01::/64', multipath: hops } };
    expect(() => checkRequest(req)).not.toThrow();
    expect(() => encodeRequest(new NlWriter(64), req, 1)).not.toThrow();
  });

  it('the writer refuses values that would wrap', () => {
    const w = new NlWriter(64);
    w.beginMsg(1, 0, 1);
    expect(() => w.attrU32(1, 2 ** 32 + 3)).toThrow(RangeError);
    expect(() => w.attrU8(1, 256)).toThrow(RangeError);
    expect(() => w.u8At(0, -1)).toThrow(RangeError);
    expect(() => w.attrU16be(1, 1.5)).toThrow(RangeError);
  });
});

describe('property: any value is either rejected with a typed error or encodes exactly', () => {
  const anyValue = fc.oneof(
    fc.string(), fc.integer(), fc.double(), fc.constant(undefined), fc.constant(null), fc.boolean(),
    fc.constantFrom(2 ** 32 + 3, -1, 1.5, 336, 300, Number.NaN, Infinity, '10.0.0.0/8', 'garbage/0', 'fd00::/64', 3, 80, 254),
  );
  const field = (names: string[]): fc.Arbitrary<Record<string, unknown>> => fc.dictionary(fc.constantFrom(...names), anyValue, { maxKeys: names.length });
  const reqArb: fc.Arbitrary<unknown> = fc.oneof(
    fc.record({ kind: fc.constant('route'), op: fc.constantFrom('add', 'replace', 'del', 'x'), route: field(['dst', 'oif', 'gateway', 'table', 'protocol', 'scope', 'priority', 'prefsrc', 'type', 'onlink']) }),
    fc.record({ kind: fc.constant('address'), op: fc.constantFrom('add', 'del'), address: field(['index', 'address', 'peer', 'label', 'scope']) }),
    fc.record({ kind: fc.constant('neigh'), op: fc.constantFrom('add', 'replace', 'append', 'del'), neigh: field(['family', 'index', 'dst', 'lladdr', 'state', 'flags', 'vni', 'master']) }),
    fc.record({ kind: fc.constant('link'), op: fc.constantFrom('set', 'del'), link: field(['index', 'name', 'up', 'mtu', 'mac', 'master']) }),
  );

  it('checkRequest either throws NETLINK_INVALID_REQUEST or the request encodes without error', () => {
    fc.assert(
      fc.property(reqArb, (req) => {
        let err: unknown;
        try {
          checkRequest(req);
        } catch (e: unknown) {
          err = e;
        }
        if (err !== undefined) {
          expect(err).toBeInstanceOf(NetlinkError);
          expect((err as NetlinkError).code).toBe('NETLINK_INVALID_REQUEST');
          return;
        }
        expect(() => encodeRequest(new NlWriter(64), req as Request, 1)).not.toThrow();
      }),
      { numRuns: 5000, seed: 14 },
    );
  });
});
