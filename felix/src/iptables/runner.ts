/**
 * Running the iptables / ipset tools inside a node's network namespace. Every command runs as
 * a child process through `nsenter --net=/var/run/netns/<ns>` (the child enters the namespace;
 * this process never switches; unlike `ip netns exec` it does not remount /sys, which these
 * tools do not need and which costs a few ms per command), and a runner without a namespace is
 * refused, so nothing can touch the
 * machine's own tables by mistake. The `CommandRunner` interface is what drivers depend on;
 * the fakes (fake.ts) implement it over an in-memory kernel.
 */
import { spawn } from 'node:child_process';
import { TabbyError } from '@tabby/api';

/** What a command returned. */
export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs one command with optional stdin. */
export interface CommandRunner {
  run(cmd: string, args: string[], input?: string, signal?: AbortSignal): Promise<CommandResult>;
}

/** Error codes of the command layer and the drivers. */
export type DataplaneErrorCode = 'no-netns' | 'spawn-failed' | 'command-failed' | 'restore-failed' | 'save-failed' | 'no-backend' | 'ipset-failed';

/** An error of a dataplane command; `details` has the command and its stderr. */
export class DataplaneError extends TabbyError<DataplaneErrorCode> {}

/** A runner executing inside network namespace `netns` (a name under /var/run/netns, or a path). */
export function netnsRunner(netns: string): CommandRunner {
  if (!netns) throw new DataplaneError('no-netns', 'refusing to run dataplane commands without a network namespace (the root namespace is never touched)');
  return {
    run(cmd, args, input, signal) {
      return new Promise((resolve, reject) => {
        const nsPath = netns.startsWith('/') ? netns : `/var/run/netns/${netns}`;
        const child = spawn('nsenter', [`--net=${nsPath}`, '--', cmd, ...args], { stdio: ['pipe', 'pipe', 'pipe'], signal });
        const out: Buffer[] = [];
        const err: Buffer[] = [];
        child.stdout.on('data', (b: Buffer) => out.push(b));
        child.stderr.on('data', (b: Buffer) => err.push(b));
        child.on('error', (e) => reject(new DataplaneError('spawn-failed', `${cmd}: ${e.message}`, { cmd, netns }, { cause: e })));
        child.on('close', (code) => resolve({ code: code ?? -1, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() }));
        child.stdin.on('error', () => {
          /* the child exited early; its status says why */
        });
        child.stdin.end(input ?? '');
      });
    },
  };
}
