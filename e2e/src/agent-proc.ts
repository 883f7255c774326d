/**
 * Agent processes of the end-to-end clusters: `tabby-node` spawned in a node's namespace, and
 * waiting for an agent's `ready` line (failing at once, with its output, when it exits).
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { poll, type Netns, type Proc, type TestNet } from '@tabby/testkit';

/** The built tabby-node binary, resolved from this file in src/ or dist/. */
export const TABBY_NODE = join(dirname(fileURLToPath(import.meta.url)), '../../packages/node/dist/bin/tabby-node.js');

/**
 * Starts tabby-node for `node` inside its namespace (felix pointed at the same namespace), on
 * etcd, or with `etcd` undefined on what `args` say (e.g. `--datastore-type kubernetes --kubeconfig F`).
 */
export function spawnTabbyNode(net: TestNet, node: { name: string; netns: Netns }, opts: { etcd: string | undefined; runDir: string; env?: NodeJS.ProcessEnv; args?: string[] }): Proc {
  const store = opts.etcd === undefined ? [] : ['--etcd', opts.etcd];
  const argv = [TABBY_NODE, '--node', node.name, '--netns', node.netns.name, ...store, '--run-dir', opts.runDir, '--log-level', 'warn', ...(opts.args ?? [])];
  return net.spawn(node.netns, process.execPath, argv, { env: opts.env ?? process.env });
}

/** Resolves once `proc` printed `ready`; throws with its output if it exits first. */
export async function untilReady(proc: Proc, what: string, timeoutMs = 60_000): Promise<void> {
  await poll(() => {
    if (!proc.running) throw new Error(`${what} exited: ${proc.output}`);
    return proc.output.includes('ready');
  }, { timeout: timeoutMs, what: `${what} ready` });
}
