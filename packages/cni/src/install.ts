/**
 * Installs the plugin binaries into a CNI bin directory: small `#!/bin/sh` wrappers. Each is a
 * thin client of the node agent first — the call goes over the agent's unix socket with
 * `nc -U` (netcat-openbsd), so no Node process starts at all — and otherwise execs Node on this
 * package's built files (`node <dist>/bin/tabby.js`, which tries the agent once more, then
 * runs the call itself against the datastore). The socket is the conflist's `agent_socket`
 * (found with sed; "" disables the agent), else /var/run/tabby/cni.sock.
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
    writeFileSync(path, wrapper(name, nodePath, join(dist, 'bin', `${name}.js`)));
    chmodSync(path, 0o755);
    return path;
  });
}

/** The wrapper script of one plugin. */
export function wrapper(name: string, nodePath: string, js: string): string {
  return `#!/bin/sh
# ${name}: CNI plugin (Tabby). Thin client of the node agent over its unix socket; else Node.
conf=$(cat)
sock=$(printf '%s' "$conf" | sed -n 's/.*"agent_socket"[[:space:]]*:[[:space:]]*"\\([^"]*\\)".*/\\1/p' | head -n1)
if ! printf '%s' "$conf" | grep -q '"agent_socket"'; then sock=/var/run/tabby/cni.sock; fi
if [ "$CNI_COMMAND" != VERSION ] && [ "\${TABBY_CNI_NO_AGENT:-}" != 1 ] && [ -n "$sock" ] && [ -S "$sock" ] && command -v nc >/dev/null 2>&1; then
  # nc fails only when it cannot connect (no agent): then Node runs the call. Once sent, a call
  # is never run twice: no answer is CNI error 11 (try again later).
  if resp=$({ echo "TABBY_PLUGIN=${name}"; env | grep '^CNI_'; echo; printf '%s' "$conf"; } | nc -N -U "$sock" 2>/dev/null); then
    if [ -n "$resp" ]; then
      code=$(printf '%s\\n' "$resp" | head -n1)
      out=$(printf '%s\\n' "$resp" | sed 1d)
      [ -n "$out" ] && printf '%s\\n' "$out"
      exit "$code"
    fi
    printf '{"cniVersion":"1.0.0","code":11,"msg":"node agent at %s gave no answer","details":"the runtime will retry"}\\n' "$sock"
    exit 1
  fi
fi
printf '%s' "$conf" | exec '${nodePath}' '${js}' "$@"
`;
}
