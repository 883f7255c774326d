/**
 * Reconnect backoff with jitter, pure. The random source is a 32-bit PRNG state carried in the
 * FSM state (seeded by whoever creates the session: the shell from its injected random source,
 * a test from a constant), so the reducer stays a pure function and every delay is reproducible.
 *
 * Invariant: delays are within [d·(1−jitter), d] where d = min(maxMs, baseMs·2^attempt).
 */
import type { BackoffConfig } from './types.js';

/** One step of mulberry32: returns a value in [0,1) and the next state. */
export function nextRandom(seed: number): { value: number; seed: number } {
  const s = (seed + 0x6d2b79f5) >>> 0;
  let t = s;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  const value = ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  return { value, seed: s };
}

/**
 * The delay before attempt number `attempt` (0-based): exponential, capped, minus a random
 * fraction (RFC 4271 §10: jitter so that peers do not synchronise).
 */
export function backoffDelay(cfg: BackoffConfig, attempt: number, seed: number): { ms: number; seed: number } {
  const exp = Math.min(attempt, 30);
  const d = Math.min(cfg.maxMs, cfg.baseMs * 2 ** exp);
  const r = nextRandom(seed);
  const ms = Math.max(0, Math.round(d * (1 - cfg.jitter * r.value)));
  return { ms, seed: r.seed };
}
