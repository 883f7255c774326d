/**
 * Runs iptables / ipset in the process's own network namespace: for tabby-node as the
 * DaemonSet (host network). Tests always give a namespace and use felix's netnsRunner instead.
 */
import { spawn } from 'node:child_process';
import { DataplaneError, type CommandRunner } from '@tabby/felix';

/** A CommandRunner without a namespace switch. */
export function hostRunner(): CommandRunner {
  return {
    run(cmd, args, input, signal) {
      return new Promise((resolve, reject) => {
        const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], signal });
        const out: Buffer[] = [];
        const err: Buffer[] = [];
        child.stdout.on('data', (b: Buffer) => out.push(b));
        child.stderr.on('data', (b: Buffer) => err.push(b));
        child.on('error', (e) => reject(new DataplaneError('spawn-failed', `${cmd}: ${e.message}`, { cmd }, { cause: e })));
        child.on('close', (code) => resolve({ code: code ?? -1, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() }));
        child.stdin.on('error', () => {
          /* the child exited early; its status says why */
        });
        child.stdin.end(input ?? '');
      });
    },
  };
}
