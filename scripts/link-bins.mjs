// After the build: links every workspace's `bin` into the root node_modules/.bin and makes it
// executable, so `npx tabby-node`, `npx tabbyctl`, `npx tabby-bgp` and `npx tabby-cni-install`
// work on a fresh clone after `npm ci && npm run build`. npm itself does not: `npm ci` runs
// before the build, and npm skips a bin whose file does not exist yet; tsc writes files 0644.
import { chmodSync, existsSync, lstatSync, mkdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const binDir = join(root, 'node_modules', '.bin');
mkdirSync(binDir, { recursive: true });
const { workspaces } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
for (const ws of workspaces) {
  const pkg = JSON.parse(readFileSync(join(root, ws, 'package.json'), 'utf8'));
  const bins = typeof pkg.bin === 'string' ? { [pkg.name.replace(/^@[^/]+\//, '')]: pkg.bin } : (pkg.bin ?? {});
  for (const [name, file] of Object.entries(bins)) {
    const target = join(root, ws, file);
    if (!existsSync(target)) {
      process.stderr.write(`link-bins: ${name} (${ws}/${file}) was not built\n`);
      process.exitCode = 1;
      continue;
    }
    chmodSync(target, 0o755);
    const link = join(binDir, name);
    if (existsSync(link) || lstatSync(link, { throwIfNoEntry: false })) rmSync(link);
    symlinkSync(relative(binDir, target), link);
  }
}
