/**
 * Installs the plugin binaries into a CNI bin directory: `tabby` and `tabby-ipam`, each a
 * one-line `#!/bin/sh` that execs this package's C thin client (`build/tabby-cni-client`, built
 * by `npm run build` from native/cni-client.c). The client sends the call to the node agent over
 * its unix socket — one exec, no Node start-up — and when no agent listens it execs Node on this
 * package's built files (`node <dist>/bin/tabby.js`, which tries the agent once more, then runs
 * the call itself against the datastore). The socket is the conflist's `agent_socket` ("" disables
 * the agent), else /var/run/tabby/cni.sock.
 */
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_AGENT_SOCKET } from './version.js';

/** The plugin names installed. */
export const PLUGIN_BINARIES = ['tabby', 'tabby-ipam'] as const;

/** Writes `tabby` and `tabby-ipam` into `binDir`; returns their paths. */
export function installCniPlugins(binDir: string, nodePath = process.execPath): string[] {
  const here = dirname(fileURLToPath(import.meta.url));
  // Run from sources (tests): the built files are in ../dist.
  const dist = basename(here) === 'src' ? join(here, '..', 'dist') : here;
  const client = join(dist, '..', 'build', 'tabby-cni-client');
  if (!existsSync(client)) throw new Error(`the CNI thin client ${client} is missing: run \`npm run build\` (it needs a C compiler), then install again`);
  mkdirSync(binDir, { recursive: true });
  return PLUGIN_BINARIES.map((name) => {
    const path = join(binDir, name);
    writeFileSync(path, wrapper(name, client, nodePath, join(dist, 'bin', `${name}.js`)));
    chmodSync(path, 0o755);
    return path;
  });
}

/** Quotes a word for sh. */
function q(s: string): string {
  return `'${s.replaceAll("'", `'\\''`)}'`;
}

/** The script of one plugin. */
export function wrapper(name: string, client: string, nodePath: string, js: string): string {
  return `#!/bin/sh
# ${name}: CNI plugin (Tabby). Thin client of the node agent over its unix socket; else Node.
exec ${q(client)} ${name} ${q(DEFAULT_AGENT_SOCKET)} ${q(nodePath)} ${q(js)} "$@"
`;
}
