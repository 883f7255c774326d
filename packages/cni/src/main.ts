/**
 * The process shell of both binaries: read stdin, try the node agent (unless
 * TABBY_CNI_NO_AGENT=1 or the conflist sets `"agent_socket": ""`), else load the direct path
 * lazily (the datastore client is the expensive import), print, exit. VERSION is answered
 * without loading anything else.
 */
import { readFileSync } from 'node:fs';
import { agentSocketOf, callAgent, cniEnvOf } from './agent-protocol.js';
import { DEFAULT_AGENT_SOCKET, versionJson } from './version.js';

function readStdin(): string {
  try {
    return readFileSync(0, 'utf8');
  } catch {
    return '';
  }
}

function versionOf(stdin: string): string {
  try {
    const v = (JSON.parse(stdin) as { cniVersion?: unknown }).cniVersion;
    return typeof v === 'string' ? v : '1.0.0';
  } catch {
    return '1.0.0';
  }
}

/** Runs one call of `plugin` and exits. */
export async function main(plugin: 'tabby' | 'tabby-ipam'): Promise<never> {
  const stdin = readStdin();
  const env = cniEnvOf(process.env);
  let res: { stdout: string; code: number } | undefined;
  if (env.CNI_COMMAND === 'VERSION') res = { stdout: versionJson(stdin), code: 0 };
  const socket = agentSocketOf(stdin, DEFAULT_AGENT_SOCKET);
  if (!res && socket !== '' && process.env.TABBY_CNI_NO_AGENT !== '1') {
    res = await callAgent(socket, { v: 1, plugin, env, stdin }, 120_000, versionOf(stdin));
  }
  if (!res) {
    const [{ runPlugin }, { directBackend }] = await Promise.all([import('./plugin.js'), import('./direct.js')]);
    res = await runPlugin({ env: process.env, stdin }, directBackend(process.env), plugin);
  }
  if (res.stdout) process.stdout.write(res.stdout + '\n');
  process.exit(res.code);
}
