// After the build: makes every workspace's `bin` entry executable. tsc writes its output 0644,
// and npm links the bins (root package.json depends on the workspaces that have them) at
// `npm ci` time, before they are built; so `npx tabby-node` needs the mode set here.
import { chmodSync, existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { workspaces } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
for (const ws of workspaces) {
  const pkg = JSON.parse(readFileSync(join(root, ws, 'package.json'), 'utf8'));
  const bins = typeof pkg.bin === 'string' ? { [pkg.name]: pkg.bin } : (pkg.bin ?? {});
  for (const [name, file] of Object.entries(bins)) {
    const path = join(root, ws, file);
    if (!existsSync(path)) {
      process.stderr.write(`bin-modes: ${name} (${ws}/${file}) was not built\n`);
      process.exitCode = 1;
      continue;
    }
    chmodSync(path, 0o755);
  }
}
