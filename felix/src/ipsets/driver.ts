/**
 * The ipset driver: keeps the kernel's `cali4…` / `cali6…` sets equal to the desired ones with
 * one `ipset restore` session per update. Two phases around the iptables update: `applyAdds`
 * before it (create sets, add and delete members, resize or retype by filling a temporary set
 * and swapping it in) so every set a new rule names exists and is full; `applyDeletes` after
 * it (destroy sets no rule references any more). Read-back (`ipset save`) rebuilds the driver's
 * belief on first use, after a failure and on `repair`. Sets of other owners are never named.
 */
import { DataplaneError, type CommandRunner } from '../iptables/runner.js';
import type { IpSetState } from '../policy/types.js';
import { canonicalMember, parseIpsetSave, type SavedSet } from './parse.js';

/** Calico's default maximum set size. */
export const DEFAULT_MAXELEM = 1_048_576;
const OURS = /^cali[46]/;
const TEMP = (family: 4 | 6, n: number): string => `cali${family}t${n}`;

/** What one apply did. */
export interface IpsetApplyStats {
  created: number;
  swapped: number;
  added: number;
  deleted: number;
  destroyed: number;
  lines: number;
  readBack: boolean;
}

/** See the module header. */
export class IpsetDriver {
  private kernel: Map<string, SavedSet> | undefined;
  private readonly maxelem: number;

  constructor(
    private readonly components: { runner: CommandRunner },
    init: { maxelem?: number } = {},
  ) {
    this.maxelem = init.maxelem ?? DEFAULT_MAXELEM;
  }

  /** Forgets what the kernel holds. */
  invalidate(): void {
    this.kernel = undefined;
  }

  /** Reads our sets back from the kernel. */
  async readBack(signal?: AbortSignal): Promise<Map<string, SavedSet>> {
    const r = await this.components.runner.run('ipset', ['save'], undefined, signal);
    if (r.code !== 0) throw new DataplaneError('ipset-failed', `ipset save failed (exit ${r.code}): ${r.stderr.trim()}`, { stderr: r.stderr });
    return parseIpsetSave(r.stdout, (n) => OURS.test(n));
  }

  private async run(lines: string[], signal?: AbortSignal): Promise<void> {
    if (!lines.length) return;
    const r = await this.components.runner.run('ipset', ['restore', '-exist'], lines.join('\n') + '\n', signal);
    if (r.code !== 0) {
      this.kernel = undefined;
      throw new DataplaneError('ipset-failed', `ipset restore failed (exit ${r.code}): ${r.stderr.trim().slice(0, 2000)}`, { stderr: r.stderr });
    }
  }

  /**
   * True when phase 1 would create, re-create or resize a set (or the kernel is unknown): then
   * it must finish before iptables rules that name the sets are written. Otherwise only
   * members change, and the two updates may run side by side.
   */
  structural(desired: Iterable<IpSetState>): boolean {
    const kernel = this.kernel;
    if (!kernel) return true;
    for (const s of desired) {
      const have = kernel.get(s.name);
      if (!have || have.type !== s.type || have.family !== s.family || have.maxelem < s.members.size) return true;
    }
    return false;
  }

  /** Phase 1: creates, fills and updates every desired set. */
  async applyAdds(desired: Iterable<IpSetState>, opts: { readBack?: boolean; signal?: AbortSignal } = {}): Promise<IpsetApplyStats> {
    const stats: IpsetApplyStats = { created: 0, swapped: 0, added: 0, deleted: 0, destroyed: 0, lines: 0, readBack: false };
    if (!this.kernel || opts.readBack) {
      this.kernel = await this.readBack(opts.signal);
      stats.readBack = true;
    }
    const kernel = this.kernel;
    const lines: string[] = [];
    const after = new Map<string, SavedSet>();
    let temp = 0;
    for (const s of desired) {
      if (!OURS.test(s.name)) throw new DataplaneError('ipset-failed', `refusing to write set ${s.name}: only cali4/cali6 sets are ours`);
      const want = new Set([...s.members].map((m) => canonicalMember(s.type, m)));
      const maxelem = Math.max(this.maxelem, want.size);
      const have = kernel.get(s.name);
      const create = (name: string): string => `create ${name} ${s.type} family ${s.family === 4 ? 'inet' : 'inet6'} maxelem ${maxelem}`;
      if (!have) {
        lines.push(create(s.name));
        for (const m of want) lines.push(`add ${s.name} ${m}`);
        stats.created++;
        stats.added += want.size;
      } else if (have.type !== s.type || have.family !== s.family) {
        // Retype: the kernel cannot swap sets of different types, so destroy and re-create
        // (fails while a rule still references the old set; names encode the type, so this only
        // happens to a foreign or stale set that took one of our names).
        lines.push(`destroy ${s.name}`, create(s.name));
        for (const m of want) lines.push(`add ${s.name} ${m}`);
        stats.created++;
        stats.added += want.size;
      } else if (have.maxelem < want.size) {
        // Resize: fill a temporary set, swap it in (same type), destroy the old one.
        while (kernel.has(TEMP(s.family, temp))) temp++;
        const t = TEMP(s.family, temp++);
        lines.push(create(t));
        for (const m of want) lines.push(`add ${t} ${m}`);
        lines.push(`swap ${t} ${s.name}`, `destroy ${t}`);
        stats.swapped++;
      } else {
        for (const m of want) {
          if (have.members.has(m)) continue;
          lines.push(`add ${s.name} ${m}`);
          stats.added++;
        }
        for (const m of have.members) {
          if (want.has(m)) continue;
          lines.push(`del ${s.name} ${m}`);
          stats.deleted++;
        }
      }
      after.set(s.name, { name: s.name, type: s.type, family: s.family, maxelem: have && have.maxelem >= want.size && have.type === s.type && have.family === s.family ? have.maxelem : maxelem, members: want });
    }
    stats.lines = lines.length;
    await this.run(lines, opts.signal);
    for (const [n, s] of after) kernel.set(n, s);
    return stats;
  }

  /** Phase 2: destroys our sets that are not desired. */
  async applyDeletes(desired: Iterable<IpSetState>, opts: { signal?: AbortSignal } = {}): Promise<IpsetApplyStats> {
    const stats: IpsetApplyStats = { created: 0, swapped: 0, added: 0, deleted: 0, destroyed: 0, lines: 0, readBack: false };
    if (!this.kernel) return stats;
    const keep = new Set([...desired].map((s) => s.name));
    const lines: string[] = [];
    for (const n of this.kernel.keys()) if (!keep.has(n)) lines.push(`destroy ${n}`);
    stats.destroyed = lines.length;
    stats.lines = lines.length;
    await this.run(lines, opts.signal);
    for (const n of [...this.kernel.keys()]) if (!keep.has(n)) this.kernel.delete(n);
    return stats;
  }
}
