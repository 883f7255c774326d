/**
 * Network namespaces for tests, all named with one per-run prefix so that parallel runs never
 * collide and leftovers are recognisable. Nothing here touches the root namespace: every
 * command runs with `ip netns exec` or `ip -n`, and a veth is created with both ends moved
 * straight into namespaces.
 */
import { execFileSync, execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { onExit } from './cleanup.js';
import { Proc, type ProcOptions } from './proc.js';

const execFileP = promisify(execFile);

/** Runs a command and returns stdout; the error carries stderr. */
export async function run(cmd: string, args: string[], opts: { netns?: string; input?: string } = {}): Promise<string> {
  const [file, argv] = opts.netns ? ['ip', ['netns', 'exec', opts.netns, cmd, ...args]] : [cmd, args];
  try {
    const { stdout } = await execFileP(file, argv, { maxBuffer: 256 << 20 });
    return stdout;
  } catch (e: unknown) {
    const err = e as { stderr?: string; message?: string };
    throw new Error(`${[file, ...argv].join(' ')}: ${(err.stderr ?? err.message ?? String(e)).trim()}`);
  }
}

/** A short unique prefix for one test run: `t` + 4 base36 chars, leaving 10 chars for link names. */
export function newRunPrefix(): string {
  return 't' + BigInt('0x' + randomBytes(4).toString('hex')).toString(36).slice(-4).padStart(4, '0');
}

/** One network namespace created by a test. */
export class Netns {
  constructor(readonly name: string) {}

  /** Path of the namespace file (for setns). */
  get path(): string {
    return `/var/run/netns/${this.name}`;
  }

  /** Runs a command inside the namespace and returns its stdout. */
  exec(cmd: string, ...args: string[]): Promise<string> {
    return run(cmd, args, { netns: this.name });
  }

  /** Runs `ip <args>` inside the namespace. */
  ip(...args: string[]): Promise<string> {
    return run('ip', ['-n', this.name, ...args]);
  }

  /** Starts a long-running process inside the namespace. */
  spawn(cmd: string, args: string[], opts: Omit<ProcOptions, 'netns'> = {}): Proc {
    return new Proc(cmd, args, { ...opts, netns: this.name });
  }
}

/**
 * A test run's namespaces and processes. Create one per test file (`beforeAll`), call
 * `cleanup()` in `afterAll`; it also runs at process exit.
 */
export class TestNet {
  readonly prefix: string;
  private readonly namespaces: Netns[] = [];
  private readonly procs: Proc[] = [];
  private readonly off: () => void;

  constructor(prefix = newRunPrefix()) {
    this.prefix = prefix;
    this.off = onExit(() => this.cleanupSync());
  }

  /** A name with the run prefix: `name('a')` → `t1x9qa`. */
  name(suffix: string): string {
    return this.prefix + suffix;
  }

  /** Creates namespace `<prefix><suffix>` with loopback up. */
  async netns(suffix: string): Promise<Netns> {
    const ns = new Netns(this.name(suffix));
    await run('ip', ['netns', 'add', ns.name]);
    this.namespaces.push(ns);
    await ns.ip('link', 'set', 'lo', 'up');
    return ns;
  }

  /**
   * Creates a veth pair with one end in each namespace (created inside `a`, the peer moved
   * to `b` in the same request), optionally with addresses (CIDR form), and sets both up.
   */
  async veth(a: Netns, ifA: string, b: Netns, ifB: string, addrA?: string, addrB?: string): Promise<void> {
    await a.ip('link', 'add', ifA, 'type', 'veth', 'peer', 'name', ifB, 'netns', b.name);
    if (addrA) await a.ip('addr', 'add', addrA, 'dev', ifA);
    if (addrB) await b.ip('addr', 'add', addrB, 'dev', ifB);
    await a.ip('link', 'set', ifA, 'up');
    await b.ip('link', 'set', ifB, 'up');
  }

  /** Starts a process inside `ns`, stopped (by pid) at cleanup. */
  spawn(ns: Netns | null, cmd: string, args: string[], opts: Omit<ProcOptions, 'netns'> = {}): Proc {
    const p = new Proc(cmd, args, { ...opts, netns: ns?.name });
    this.procs.push(p);
    return p;
  }

  /** Stops every process (SIGTERM, then SIGKILL) and deletes every namespace. */
  async cleanup(): Promise<void> {
    await Promise.all(this.procs.map((p) => p.stop('SIGTERM', 2000)));
    this.cleanupSync();
    this.off();
  }

  private cleanupSync(): void {
    for (const p of this.procs.splice(0)) {
      if (p.running) {
        try {
          process.kill(p.pid, 'SIGKILL');
        } catch {
          /* gone */
        }
      }
    }
    for (const ns of this.namespaces.splice(0).reverse()) {
      try {
        execFileSync('ip', ['netns', 'del', ns.name], { stdio: 'ignore' });
      } catch {
        /* already gone */
      }
    }
  }
}
