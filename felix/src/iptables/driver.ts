/**
 * The iptables driver of one IP family: keeps the kernel's `cali-` chains and hook rules equal
 * to the desired state, with `iptables-restore --noflush --wait` (one process per apply, one
 * transaction per table) writing only chains whose rule hashes differ from what it believes is
 * in the kernel, and `iptables-save` read-back to rebuild that belief (first apply, after a
 * failure, and on every `repair()`).
 *
 * Invariants (coexistence): only chains named `cali-…` are declared, flushed or deleted; in the
 * kernel chains (INPUT, FORWARD, OUTPUT, POSTROUTING, …) only rules that jump to a `cali-`
 * chain are added or deleted; KUBE-* and every other rule is never named in a restore. A new
 * endpoint's dispatch entry, chains and policy chains go in one table transaction, so the pod
 * is never reachable before its policy exists.
 */
import { ruleBody } from '../policy/chain.js';
import type { Chain, PolicyFamily, HookRule, TableName, TableState } from '../policy/types.js';
import { iptablesBinaries, type IptablesBackend } from './backend.js';
import { DataplaneError, type CommandRunner } from './runner.js';
import { parseIptablesSave, type SavedTable } from './save-parse.js';

/** What one apply did. */
export interface IptablesApplyStats {
  chainsWritten: number;
  chainsDeleted: number;
  hooksAdded: number;
  hooksDeleted: number;
  rulesWritten: number;
  /** Bytes of restore input. */
  bytes: number;
  readBack: boolean;
}

/** Settings of a driver. */
export interface IptablesDriverInit {
  family: PolicyFamily;
  backend: IptablesBackend;
  /** Hooks at the top of the kernel chains (Insert) or appended [Insert]. */
  insertMode?: 'Insert' | 'Append';
}

interface KernelTable {
  /** Our chains: name → rule hashes ('?' for a rule without one). */
  chains: Map<string, string[]>;
  /** Rules in kernel chains that jump to cali- chains: hash (or text) → rule text per chain. */
  hooks: { chain: string; text: string; hash?: string; index?: number }[];
}

const OURS = /^cali-/;
const JUMPS_TO_OURS = /-[jg] cali-/;

/** See the module header. */
export class IptablesDriver {
  readonly family: PolicyFamily;
  readonly backend: IptablesBackend;
  private readonly insert: boolean;
  private kernel: Map<TableName, KernelTable> | undefined;

  constructor(
    init: IptablesDriverInit,
    private readonly components: { runner: CommandRunner },
  ) {
    this.family = init.family;
    this.backend = init.backend;
    this.insert = (init.insertMode ?? 'Insert') === 'Insert';
  }

  /** Forgets what the kernel holds; the next apply reads it back. */
  invalidate(): void {
    this.kernel = undefined;
  }

  /** Reads back the kernel's tables (our chains and hook rules). */
  async readBack(tables: TableName[], signal?: AbortSignal): Promise<Map<TableName, KernelTable>> {
    const bin = iptablesBinaries(this.backend, this.family);
    const out = new Map<TableName, KernelTable>();
    for (const t of tables) {
      const r = await this.components.runner.run(bin.save, ['-t', t], undefined, signal);
      if (r.code !== 0) throw new DataplaneError('save-failed', `${bin.save} -t ${t} failed (exit ${r.code}): ${r.stderr.trim()}`, { table: t, stderr: r.stderr });
      out.set(t, toKernel(parseIptablesSave(r.stdout).get(t)));
    }
    return out;
  }

  /** Writes what differs between `desired` and the kernel; `readBack` forces a fresh read first. */
  async apply(desired: Partial<Record<TableName, TableState>>, opts: { readBack?: boolean; signal?: AbortSignal } = {}): Promise<IptablesApplyStats> {
    const tables = Object.keys(desired) as TableName[];
    const stats: IptablesApplyStats = { chainsWritten: 0, chainsDeleted: 0, hooksAdded: 0, hooksDeleted: 0, rulesWritten: 0, bytes: 0, readBack: false };
    if (!this.kernel || opts.readBack || tables.some((t) => !this.kernel?.has(t))) {
      this.kernel = await this.readBack(tables, opts.signal);
      stats.readBack = true;
    }
    const kernel = this.kernel;
    const parts: string[] = [];
    const after = new Map<TableName, KernelTable>();
    for (const t of tables) {
      const want = desired[t];
      const have = kernel.get(t) ?? { chains: new Map(), hooks: [] };
      if (!want) continue;
      const { text, next } = this.diffTable(t, want, have, stats);
      after.set(t, next);
      if (text) parts.push(text);
    }
    if (parts.length) {
      const input = parts.join('');
      stats.bytes = input.length;
      const bin = iptablesBinaries(this.backend, this.family);
      let r;
      try {
        r = await this.components.runner.run(bin.restore, ['--noflush', '--wait'], input, opts.signal);
      } catch (e: unknown) {
        this.kernel = undefined;
        throw e;
      }
      if (r.code !== 0) {
        this.kernel = undefined;
        throw new DataplaneError('restore-failed', `${bin.restore} failed (exit ${r.code}): ${r.stderr.trim().slice(0, 2000)}`, { stderr: r.stderr, family: this.family });
      }
    }
    for (const [t, k] of after) kernel.set(t, k);
    return stats;
  }

  private diffTable(table: TableName, want: TableState, have: KernelTable, stats: IptablesApplyStats): { text: string; next: KernelTable } {
    const decl: string[] = [];
    const rules: string[] = [];
    const dels: string[] = [];
    const xs: string[] = [];
    const nextChains = new Map<string, string[]>();
    for (const [name, chain] of want.chains) {
      assertOurs(name);
      const hashes = chain.rules.map((r) => r.hash);
      nextChains.set(name, hashes);
      const cur = have.chains.get(name);
      if (cur && cur.length === hashes.length && cur.every((h, i) => h === hashes[i])) continue;
      decl.push(`:${name} - [0:0]`);
      for (const r of chain.rules) rules.push(`-A ${name} ${ruleBody(r)}`);
      stats.chainsWritten++;
      stats.rulesWritten += chain.rules.length;
    }
    const hookHashes = new Set(want.hooks.map((h) => h.rule.hash));
    const nextHooks: KernelTable['hooks'] = [];
    for (const h of have.hooks) {
      // Insert mode keeps our hook first in its kernel chain (as Felix does): one that another
      // writer pushed down is deleted and inserted again at the top.
      const placed = !this.insert || h.index === undefined || h.index === 0;
      if (h.hash !== undefined && hookHashes.has(h.hash) && placed && !nextHooks.some((n) => n.hash === h.hash)) nextHooks.push(h);
      else {
        dels.push(`-D ${h.chain} ${h.text}`);
        stats.hooksDeleted++;
      }
    }
    for (const h of want.hooks) {
      if (nextHooks.some((n) => n.hash === h.rule.hash)) continue;
      rules.push(this.insert ? `-I ${h.chain} 1 ${ruleBody(h.rule)}` : `-A ${h.chain} ${ruleBody(h.rule)}`);
      nextHooks.push({ ...hookEntry(h), ...(this.insert ? { index: 0 } : {}) });
      stats.hooksAdded++;
    }
    for (const name of have.chains.keys()) {
      if (want.chains.has(name)) continue;
      decl.push(`:${name} - [0:0]`);
      xs.push(`-X ${name}`);
      stats.chainsDeleted++;
    }
    const body = [...decl, ...dels, ...rules, ...xs];
    const text = body.length ? `*${table}\n${body.join('\n')}\nCOMMIT\n` : '';
    return { text, next: { chains: nextChains, hooks: nextHooks } };
  }

  /** The chains as the kernel holds them now (read back), for tests and diagnostics. */
  async kernelChains(table: TableName): Promise<Map<string, string[]>> {
    return (await this.readBack([table])).get(table)?.chains ?? new Map();
  }
}

function hookEntry(h: HookRule): KernelTable['hooks'][number] {
  return { chain: h.chain, text: ruleBody(h.rule), hash: h.rule.hash };
}

function assertOurs(name: string): void {
  if (!OURS.test(name)) throw new DataplaneError('restore-failed', `refusing to write chain ${name}: only cali- chains are ours`);
}

function toKernel(t: SavedTable | undefined): KernelTable {
  const k: KernelTable = { chains: new Map(), hooks: [] };
  if (!t) return k;
  for (const [name, rules] of t.chains) {
    if (OURS.test(name)) {
      k.chains.set(name, rules.map((r) => r.hash ?? '?'));
      continue;
    }
    rules.forEach((r, index) => {
      if (!JUMPS_TO_OURS.test(r.text)) return;
      k.hooks.push(r.hash !== undefined ? { chain: name, text: r.text, hash: r.hash, index } : { chain: name, text: r.text, index });
    });
  }
  return k;
}

/** Chains of a desired table that differ from `prev` (by reference then hashes). */
export function changedChains(prev: ReadonlyMap<string, Chain> | undefined, next: ReadonlyMap<string, Chain>): string[] {
  const out: string[] = [];
  for (const [n, c] of next) if (prev?.get(n) !== c) out.push(n);
  return out;
}
