/**
 * MessageReader framing under arbitrary chunking: whatever the cut points, the same messages
 * come out in order, with the same octets, and nothing is left buffered at the end.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MessageReader } from '../../src/codec/index.js';

/** A syntactically framed message of `len` octets (UPDATE type, body filled with `fill`). */
function message(len: number, fill: number): Uint8Array {
  const m = new Uint8Array(len).fill(fill);
  m.fill(0xff, 0, 16);
  m[16] = len >> 8;
  m[17] = len & 255;
  m[18] = len === 19 ? 4 : 2; // KEEPALIVE is exactly 19 octets; UPDATE is at least 23
  return m;
}

describe('MessageReader framing', () => {
  it('yields the same messages for any split of the stream', () => {
    const lens = fc.array(fc.oneof(fc.constant(19), fc.integer({ min: 23, max: 4096 })), { minLength: 1, maxLength: 20 });
    fc.assert(
      fc.property(lens, fc.array(fc.nat(), { maxLength: 30 }), (ls, cuts) => {
        const msgs = ls.map((l, i) => message(l, i & 255));
        const stream = new Uint8Array(ls.reduce((a, b) => a + b, 0));
        let at = 0;
        for (const m of msgs) {
          stream.set(m, at);
          at += m.length;
        }
        const points = [...new Set(cuts.map((c) => c % (stream.length + 1)))].sort((a, b) => a - b);
        const r = new MessageReader();
        const got: Uint8Array[] = [];
        let from = 0;
        for (const p of [...points, stream.length]) {
          got.push(...r.push(stream.subarray(from, p)));
          from = p;
        }
        expect(got.map((g) => Buffer.from(g).toString('hex'))).toEqual(msgs.map((m) => Buffer.from(m).toString('hex')));
        expect(r.buffered).toBe(0);
      }),
      { numRuns: 300 },
    );
  });
});
