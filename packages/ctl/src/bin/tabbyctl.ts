#!/usr/bin/env node
/** `tabbyctl`: the calicoctl-style CLI. */
import { readFileSync } from 'node:fs';
import { runCtl } from '../main.js';

const code = await runCtl(process.argv.slice(2), {
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
  stdin: () => readFileSync(0, 'utf8'),
  env: process.env,
});
process.exit(code);
