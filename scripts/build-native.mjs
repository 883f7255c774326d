#!/usr/bin/env node
// Builds the native addons (node-gyp) and the small C programs as part of `npm run build`, not
// as an npm install script:
// npm 11 does not run a dependency's install scripts unless approved, so `npm ci` alone must
// never be what compiles them. Skips a package whose build output is newer than its sources.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

// Paths are relative to the repository root, wherever this runs from (root or a package).
process.chdir(join(dirname(fileURLToPath(import.meta.url)), '..'));

const addons = ['packages/netlink'];
const newest = (dir) => {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
};
for (const dir of addons) {
  if (!existsSync(join(dir, 'binding.gyp'))) continue;
  const out = join(dir, 'build/Release');
  const srcTime = Math.max(newest(join(dir, 'native')), statSync(join(dir, 'binding.gyp')).mtimeMs);
  if (existsSync(out) && newest(out) > srcTime) continue;
  const gyp = ['node_modules/node-gyp/bin/node-gyp.js', 'rebuild', '--loglevel=warn', '--directory', dir];
  // Build against the installed Node's own headers when present (no download).
  if (existsSync('/usr/include/node/node_api.h')) gyp.push('--nodedir=/usr');
  execFileSync(process.execPath, gyp, { stdio: ['ignore', 'ignore', 'inherit'] });
}

// Small C programs (no Node API): one source file each, linked statically when the C library
// allows it (no dynamic loader at start-up), else dynamically.
const programs = [{ src: 'packages/cni/native/cni-client.c', out: 'packages/cni/build/tabby-cni-client' }];
for (const { src, out } of programs) {
  if (existsSync(out) && statSync(out).mtimeMs > statSync(src).mtimeMs) continue;
  mkdirSync(dirname(out), { recursive: true });
  const cc = ['-O2', '-Wall', '-Wextra', '-o', out, src];
  try {
    execFileSync('cc', ['-static', ...cc], { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch {
    execFileSync('cc', cc, { stdio: ['ignore', 'ignore', 'inherit'] });
  }
}
