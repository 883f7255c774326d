import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeAddress, decodeEvent, decodeLink, decodeNeigh, decodeRoute, DecodeError, encodeAddress, encodeLinkAdd, encodeNeigh, encodeRoute,
  forEachMsg, formatIp, parseIp, type NextHop, type RouteSpec,
} from '../../src/index.js';
import { encode, oneMsg } from '../fixture.js';

/** Canonical text of an address (parse then format). */
function canon(text: string): string {
  const p = parseIp(text)!;
  return formatIp(p.bytes, 0, p.bytes.length);
}

const v4 = fc.ipV4();
const v6 = fc.ipV6().map(canon);
const mac = fc.uint8Array({ minLength: 6, maxLength: 6 }).map((b) => [...b].map((x) => x.toString(16).padStart(2, '0')).join(':'));
const u32 = fc.integer({ min: 0, max: 0xffffffff });
const ifindex = fc.integer({ min: 1, max: 0x7fffffff });

function routeArb(family: 4 | 6): fc.Arbitrary<RouteSpec> {
  const addr = family === 4 ? v4 : v6;
  const nexthop: fc.Arbitrary<NextHop> = fc.record({ gateway: addr, oif: ifindex, weight: fc.integer({ min: 1, max: 256 }), onlink: fc.constant(true) }, { requiredKeys: ['oif', 'weight'] });
  return fc.record(
    {
      dst: fc.tuple(addr, fc.integer({ min: 0, max: family === 4 ? 32 : 128 })).map(([a, l]) => `${a}/${l}`),
      type: fc.constantFrom('unicast' as const, 'blackhole' as const, 'unreachable' as const, 'prohibit' as const),
      gateway: addr,
      oif: ifindex,
      onlink: fc.boolean(),
      protocol: fc.integer({ min: 0, max: 255 }),
      scope: fc.integer({ min: 0, max: 255 }),
      table: fc.integer({ min: 1, max: 0xffffffff }),
      priority: u32,
      prefsrc: addr,
      multipath: fc.array(nexthop, { minLength: 1, maxLength: 4 }),
    },
    { requiredKeys: ['dst', 'type', 'protocol', 'scope', 'table'] },
  );
}

describe('codec round trips (fast-check)', () => {
  it('IPv4 and IPv6 text ⇄ bytes', () => {
    fc.assert(fc.property(fc.oneof(fc.ipV4(), fc.ipV6()), (text) => {
      const p = parseIp(text);
      expect(p).toBeDefined();
      expect(canon(formatIp(p!.bytes, 0, p!.bytes.length))).toBe(formatIp(p!.bytes, 0, p!.bytes.length));
      expect(parseIp(formatIp(p!.bytes, 0, p!.bytes.length))!.bytes).toEqual(p!.bytes);
    }));
  });

  it('routes: encode then decode gives the spec back', () => {
    fc.assert(fc.property(fc.constantFrom(4 as const, 6 as const).chain(routeArb), fc.integer({ min: 1, max: 0xfffffff }), (spec, seq) => {
      const b = encode((w) => encodeRoute(w, 'replace', spec, seq));
      const m = oneMsg(b);
      expect(m.seq).toBe(seq);
      const r = decodeRoute(b, m)!;
      const len = Number(spec.dst.split('/')[1]);
      expect(r.dst).toBe(len === 0 ? (r.family === 4 ? '0.0.0.0/0' : '::/0') : spec.dst);
      expect({ type: r.type, table: r.table, protocol: r.protocol, scope: r.scope, onlink: r.onlink }).toEqual({
        type: spec.type, table: spec.table, protocol: spec.protocol, scope: spec.scope, onlink: spec.onlink ?? false,
      });
      expect([r.gateway, r.oif, r.priority, r.prefsrc]).toEqual([spec.gateway, spec.oif, spec.priority, spec.prefsrc]);
      expect(r.multipath).toEqual(spec.multipath?.map((h) => ({ ...h, onlink: h.onlink || undefined })).map((h) => JSON.parse(JSON.stringify(h))));
    }));
  });

  it('addresses, neighbours and links round-trip', () => {
    fc.assert(fc.property(fc.oneof(v4.map((a) => `${a}/24`), v6.map((a) => `${a}/64`)), ifindex, fc.option(fc.stringMatching(/^[a-z][a-z0-9]{0,14}$/), { nil: undefined }), (address, index, label) => {
      const b = encode((w) => encodeAddress(w, 'add', { index, address, label }, 1));
      expect(decodeAddress(b, oneMsg(b))).toMatchObject({ index, address, ...(label ? { label } : {}) });
    }));
    fc.assert(fc.property(fc.oneof(v4, v6), mac, ifindex, (dst, lladdr, index) => {
      const family = dst.includes(':') ? (6 as const) : (4 as const);
      const b = encode((w) => encodeNeigh(w, 'replace', { family, index, dst, lladdr }, 1));
      expect(decodeNeigh(b, oneMsg(b))).toEqual({ family, index, dst, lladdr, state: 0x80, flags: 0 });
    }));
    fc.assert(fc.property(fc.stringMatching(/^[a-z][a-z0-9.]{0,14}$/), fc.integer({ min: 68, max: 65535 }), mac, fc.integer({ min: 0, max: (1 << 24) - 1 }), v4, (name, mtu, m, vni, local) => {
      const b = encode((w) => encodeLinkAdd(w, { name, mtu, mac: m, info: { kind: 'vxlan', vni, local, learning: false } }, 1));
      expect(decodeLink(b, oneMsg(b))).toMatchObject({ name, mtu, mac: m, kind: 'vxlan', vxlan: { vni, local, learning: false } });
    }));
  });

  it('decoding arbitrary bytes fails only with DecodeError (fuzz)', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), fc.constantFrom(16, 20, 24, 28, 17, 21, 25, 29), (payload, type) => {
      const b = new Uint8Array(16 + payload.length);
      new DataView(b.buffer).setUint32(0, b.length, true);
      new DataView(b.buffer).setUint16(4, type, true);
      b.set(payload, 16);
      try {
        forEachMsg(b, 0, b.length, (m) => {
          decodeEvent(b, m);
        });
      } catch (e: unknown) {
        expect(e).toBeInstanceOf(DecodeError);
      }
    }), { numRuns: 2000 });
  });
});
