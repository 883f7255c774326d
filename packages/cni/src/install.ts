/**
 * Installs the plugin binaries into a CNI bin directory: small `#!/bin/sh` wrappers that exec
 * Node on this package's built files (`exec node <dist>/bin/tabby.js`), so the installed names
 * survive rebuilds and need no executable bit on the built JS.
 */
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The plugin names installed. */
export const PLUGIN_BINARIES = ['tabby', 'tabby-ipam'] as const;

/** Writes `tabby` and `tabby-ipam` into `binDir`; returns their paths. */
export function installCniPlugins(binDir: string, nodePath = process.execPath): string[] {
  const here = dirname(fileURLToPath(import.meta.url));
  // Run from sources (tests): the built files are in ../dist.
  const dist = basename(here) === 'src' ? join(here, '..', 'dist') : here;
  mkdirSync(binDir, { recursive: true });
  return PLUGIN_BINARIES.map((name) => {
    const path = join(binDir, name);
    writeFileSync(path, `#!/bin/sh\nexec '${nodePath}' '${join(dist, 'bin', `${name}.js`)}' "$@"\n`);
    chmodSync(path, 0o755);
    return path;
  });
}
