/**
 * Child processes a test starts: output captured, stopped by pid (never by name), and
 * registered with the run so they are killed when the test process exits, also on failure.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { onExit } from './cleanup.js';

export interface ProcOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Network namespace name to run in (through `ip netns exec`). */
  netns?: string;
  /** Keep at most this many bytes of output (default 1 MiB). */
  maxOutput?: number;
}

/** A running child process. */
export class Proc {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private out = '';
  private readonly max: number;
  private exitedFlag = false;

  constructor(cmd: string, args: string[], opts: ProcOptions = {}) {
    const [file, argv] = opts.netns ? ['ip', ['netns', 'exec', opts.netns, cmd, ...args]] : [cmd, args];
    this.max = opts.maxOutput ?? 1 << 20;
    this.child = spawn(file, argv, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    if (this.child.pid === undefined) throw new Error(`could not start ${cmd}`);
    this.pid = this.child.pid;
    const take = (b: Buffer): void => {
      this.out += b.toString();
      if (this.out.length > this.max) this.out = this.out.slice(-this.max);
    };
    this.child.stdout?.on('data', take);
    this.child.stderr?.on('data', take);
    this.exited = new Promise((resolve) => {
      this.child.on('exit', (code, signal) => {
        this.exitedFlag = true;
        resolve({ code, signal });
      });
      this.child.on('error', (e) => {
        this.out += `\n[spawn error] ${e.message}`;
        this.exitedFlag = true;
        resolve({ code: -1, signal: null });
      });
    });
    const pid = this.pid;
    const off = onExit(() => {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    });
    void this.exited.then(off);
  }

  /** Everything the process printed so far (stdout and stderr interleaved). */
  get output(): string {
    return this.out;
  }

  get running(): boolean {
    return !this.exitedFlag;
  }

  /** Sends `signal` (default SIGTERM) by pid and waits up to `graceMs` before SIGKILL. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', graceMs = 5000): Promise<void> {
    if (!this.running) return;
    try {
      process.kill(this.pid, signal);
    } catch {
      return;
    }
    const timer = setTimeout(() => {
      try {
        process.kill(this.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }, graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  /** SIGKILL by pid, and wait for the exit. */
  async kill(): Promise<void> {
    await this.stop('SIGKILL', 0);
  }
}
