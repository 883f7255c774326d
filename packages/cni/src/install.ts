/**
 * Installs the plugin binaries into a CNI bin directory: the C thin client `tabby-cni-client`
 * (static where the C library allows; built by `npm run build` from native/cni-client.c) copied
 * there, and `tabby` and `tabby-ipam`, each a one-line `#!/bin/sh` that execs the client beside
 * it (found through `$0`: runtimes exec plugins by path), so the plugins keep working when the
 * directory is a host's seen from a container (the DaemonSet's install-cni). The client sends
 * the call to the node agent over its unix socket — no Node start-up — and when no agent
 * listens it execs Node on this package's built files (`node <dist>/bin/tabby.js`, which tries
 * the agent once more, then runs the call itself against the datastore). The socket is the
 * conflist's `agent_socket` ("" disables the agent), else /var/run/tabby/cni.sock. Every file is
 * written under a temporary name and renamed, so a running plugin is never overwritten in place.
 */
import { chmodSync, copyFileSync, existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
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
  place(join(binDir, CLIENT), (tmp) => copyFileSync(client, tmp));
  return PLUGIN_BINARIES.map((name) => {
    const path = join(binDir, name);
    place(path, (tmp) => writeFileSync(tmp, wrapper(name, nodePath, join(dist, 'bin', `${name}.js`))));
    return path;
  });
}

/** The client's file name in the bin dir. */
const CLIENT = 'tabby-cni-client';

/** Writes `path` through a temporary file renamed over it (mode 0755). */
function place(path: string, write: (tmp: string) => void): void {
  const tmp = `${path}.tmp-${process.pid}`;
  write(tmp);
  chmodSync(tmp, 0o755);
  renameSync(tmp, path);
}

/** Quotes a word for sh. */
function q(s: string): string {
  return `'${s.replaceAll("'", `'\\''`)}'`;
}

/** The script of one plugin: execs the client beside it. */
export function wrapper(name: string, nodePath: string, js: string): string {
  return `#!/bin/sh
# ${name}: CNI plugin (Tabby). Thin client of the node agent over its unix socket; else Node.
exec "\${0%/*}/${CLIENT}" ${name} ${q(DEFAULT_AGENT_SOCKET)} ${q(nodePath)} ${q(js)} "$@"
`;
}
