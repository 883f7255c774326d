/**
 * Replays the regression corpus (corpus/*.hex: crashers found by fuzzing and hand-made edge
 * cases; `#` lines are comments) under every fuzz context: each must decode or throw a
 * BgpCodecError — never another exception.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { BgpCodecError, decodeMessage } from '../../src/codec/index.js';
import { hex } from './hex.js';
import { CONTEXTS } from './seeds.js';

const dir = join(dirname(fileURLToPath(import.meta.url)), 'corpus');
const files = readdirSync(dir).filter((f) => f.endsWith('.hex')).sort();

describe('fuzz regression corpus', () => {
  it('has entries', () => expect(files.length).toBeGreaterThan(0));
  for (const f of files) {
    it(f, () => {
      const text = readFileSync(join(dir, f), 'utf8').split('\n').filter((l) => !l.startsWith('#')).join('\n');
      const b = hex(text);
      for (const ctx of CONTEXTS) {
        for (const ibgp of [true, false]) {
          try {
            decodeMessage(b, ctx, { ibgp });
          } catch (e: unknown) {
            expect(e).toBeInstanceOf(BgpCodecError);
            expect((e as BgpCodecError).message.startsWith('internal')).toBe(false);
          }
        }
      }
    });
  }
});
