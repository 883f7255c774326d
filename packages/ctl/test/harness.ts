/**
 * Runs tabbyctl in process (`runCtl` with captured output) against a datastore named by
 * environment variables, as the golden tests need: `const r = await ctl(env, 'get', 'ippools')`.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { runCtl } from '../src/main.js';

/** A fixture file's path. */
export const fx = (p: string): string => fileURLToPath(new URL(`./fixtures/${p}`, import.meta.url));

/** What one invocation printed and returned. */
export interface CtlResult {
  code: number;
  out: string;
  err: string;
}

/** Runs tabbyctl with `argv`; stdin reads `stdinFile` (default fixtures/pools.yaml). */
export async function runWith(env: Record<string, string | undefined>, argv: string[], stdinFile = fx('pools.yaml')): Promise<CtlResult> {
  let out = '';
  let err = '';
  const code = await runCtl(argv, { out: (t) => (out += t), err: (t) => (err += t), stdin: () => readFileSync(stdinFile, 'utf8'), env });
  return { code, out, err };
}

