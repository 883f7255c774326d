/**
 * A seeded random source for property and stress tests, stepping the speaker's own mulberry32
 * (`nextRandom` from @tabby/bgp) so the project has one copy of the generator.
 */
import { nextRandom } from '@tabby/bgp';

/** Values in [0, 1) from `seed`, the same sequence for the same seed. */
export function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    const r = nextRandom(s);
    s = r.seed;
    return r.value;
  };
}
