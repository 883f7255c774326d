/**
 * Fuzz: a million mutated messages (bit flips, truncations, length-field corruption, splices of
 * valid seeds, insertions and deletions), deterministic (seeded xorshift). Every input must
 * decode or throw a BgpCodecError; anything else is a crasher (saved under corpus/ and replayed
 * by corpus.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { BgpCodecError, decodeMessage, encodeMessage, type DecodedMessage } from '../../src/codec/index.js';
import { toHex } from './hex.js';
import { CONTEXTS, seedMessages } from './seeds.js';

const ITERATIONS = Number(process.env['TABBY_FUZZ_ITERATIONS'] ?? 1_000_000);

/** xorshift32: deterministic and fast. */
function prng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s;
  };
}

function setLength(b: Uint8Array, len: number): void {
  b[16] = (len >> 8) & 255;
  b[17] = len & 255;
}

/** Offsets of the attribute headers of an UPDATE seed (empty for other messages). */
function attributeHeads(m: Uint8Array): number[] {
  if (m[18] !== 2) return [];
  const wl = (m[19]! << 8) | m[20]!;
  let p = 23 + wl;
  const end = p + ((m[21 + wl]! << 8) | m[22 + wl]!);
  const out: number[] = [];
  while (p + 3 <= end) {
    out.push(p);
    const ext = m[p]! & 0x10;
    p += (ext ? 4 + ((m[p + 2]! << 8) | m[p + 3]!) : 3 + m[p + 2]!);
  }
  return out;
}

describe('fuzz', () => {
  it(`decodes ${ITERATIONS} mutated messages into a message or a BgpCodecError`, () => {
    const seeds = seedMessages();
    const attrHeads = seeds.map(attributeHeads);
    const rnd = prng(0x7abb7);
    const work = new Uint8Array(70000);
    const crashers: string[] = [];
    const counts = { decoded: 0, errors: 0, withdraw: 0, discard: 0 };
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0; // thrown BgpCodecErrors are the common case: skip stack capture
    try {
      for (let i = 0; i < ITERATIONS; i++) {
        const seed = seeds[rnd() % seeds.length]!;
        let len = seed.length;
        work.set(seed);
        const r = rnd();
        switch (r & 7) {
          case 0:
          case 1: {
            // 1-4 bit flips past the marker
            const n = 1 + ((r >>> 3) & 3);
            for (let k = 0; k < n; k++) work[16 + (rnd() % (len - 16))]! ^= 1 << (rnd() & 7);
            break;
          }
          case 2:
            // truncation (header length kept consistent)
            len = 19 + (rnd() % (len - 18));
            break;
          case 3: {
            // corrupt one length-like field: a random 16-bit or 8-bit value at a random offset
            const at = 19 + (rnd() % Math.max(1, len - 20));
            if (r & 8) {
              work[at] = rnd() & 255;
              work[at + 1] = rnd() & 255;
            } else {
              work[at] = (work[at]! + ((rnd() % 7) - 3)) & 255;
            }
            break;
          }
          case 4: {
            // splice: head of this seed, tail of another
            const other = seeds[rnd() % seeds.length]!;
            const cut = 19 + (rnd() % (len - 18));
            const from = 19 + (rnd() % (other.length - 18));
            const take = Math.min(other.length - from, 4096 - cut);
            work.set(other.subarray(from, from + take), cut);
            len = cut + take;
            break;
          }
          case 5: {
            // insert random octets
            const at = 19 + (rnd() % (len - 18));
            const n = 1 + (rnd() % 8);
            work.copyWithin(at + n, at, len);
            for (let k = 0; k < n; k++) work[at + k] = rnd() & 255;
            len += n;
            break;
          }
          case 6: {
            // delete octets
            const at = 19 + (rnd() % (len - 18));
            const n = Math.min(len - at, 1 + (rnd() % 8));
            work.copyWithin(at, at + n, len);
            len -= n;
            break;
          }
          default: {
            const heads = attrHeads[seeds.indexOf(seed)]!;
            if (r & 0x80000 || heads.length === 0) {
              // random byte anywhere (header included: marker, length, type)
              work[rnd() % len] = rnd() & 255;
            } else {
              // structure-aware: an attribute's flags, type or length octet
              const h = heads[rnd() % heads.length]!;
              const which = rnd() % 3;
              if (which === 0) work[h] = work[h]! ^ (0x10 << (rnd() % 4)); // flip Optional/Transitive/Partial/Extended
              else if (which === 1) work[h + 1] = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 14, 15, 16, 17, 18, 32, 99][rnd() % 17]!;
              else work[h + 2 + (work[h]! & 0x10 ? 1 : 0)] = (work[h + 2 + (work[h]! & 0x10 ? 1 : 0)]! + (rnd() % 5) - 2) & 255;
            }
          }
        }
        if ((r >>> 8) % 16 !== 0) setLength(work, len);
        const msg = work.subarray(0, len);
        const ctx = CONTEXTS[(r >>> 12) % CONTEXTS.length]!;
        let m: DecodedMessage;
        try {
          m = decodeMessage(msg, ctx, { ibgp: (r & 0x10000) !== 0 });
          counts.decoded++;
          if (m.type === 'update') {
            if (m.action === 'treat-as-withdraw') counts.withdraw++;
            else if (m.discarded.length > 0) counts.discard++;
          }
        } catch (e: unknown) {
          if (e instanceof BgpCodecError && e.code !== 'EncodeError' && !e.message.startsWith('internal')) counts.errors++;
          else if (crashers.length < 20) crashers.push(`${toHex(msg)} ctx=${(r >>> 12) % CONTEXTS.length} ${String(e)}`);
          continue;
        }
        // Every 64th accepted UPDATE: re-encoding what was decoded must work (or be too large).
        if ((r & 0x3f00000) === 0 && m.type === 'update' && m.action === 'accept') {
          try {
            encodeMessage(m.update, { ...ctx, extendedMessage: true });
          } catch (e: unknown) {
            if (!(e instanceof BgpCodecError) && crashers.length < 20) crashers.push(`re-encode ${toHex(msg)} ${String(e)}`);
          }
        }
      }
    } finally {
      Error.stackTraceLimit = limit;
    }
    process.stdout.write(`fuzz outcomes: ${JSON.stringify(counts)}\n`);
    expect(crashers).toEqual([]);
    expect(counts.decoded + counts.errors).toBe(ITERATIONS);
    expect(counts.decoded).toBeGreaterThan(ITERATIONS / 20);
    // The mutations reach the RFC 7606 paths, not just the framing checks.
    expect(counts.withdraw).toBeGreaterThan(ITERATIONS / 200);
    expect(counts.discard).toBeGreaterThan(ITERATIONS / 1000);
  }, 180_000); // ~8 s of CPU; generous for a loaded machine
});
