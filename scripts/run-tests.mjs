#!/usr/bin/env node
// Runs the whole vitest suite, then ends the output with one plain line that any CI can count:
// `tests: N passed, N failed, N skipped`. Exits with vitest's own exit code.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const dir = mkdtempSync(join(tmpdir(), 'tabby-vitest-'));
const out = join(dir, 'results.json');
const r = spawnSync(
  process.execPath,
  ['node_modules/vitest/vitest.mjs', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${out}`, ...process.argv.slice(2)],
  { stdio: 'inherit' },
);
let line = 'tests: 0 passed, 1 failed, 0 skipped (vitest wrote no results)';
try {
  const j = JSON.parse(readFileSync(out, 'utf8'));
  const failedFiles = j.testResults.filter((f) => f.status === 'failed' && f.assertionResults.length === 0).length;
  // A non-zero exit with no failed test (e.g. the root-namespace guard in global teardown) still fails.
  const failed = j.numFailedTests + failedFiles || (r.status === 0 ? 0 : 1);
  line = `tests: ${j.numPassedTests} passed, ${failed} failed, ${j.numPendingTests + j.numTodoTests} skipped`;
} catch {
  /* keep the failure line */
}
rmSync(dir, { recursive: true, force: true });
process.stdout.write(`\n${line}\n`);
process.exit(r.status ?? 1);
