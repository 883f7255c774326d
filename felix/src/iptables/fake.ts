/**
 * A fake kernel for the iptables and ipset drivers: an in-memory model of the tables of both
 * backends and families and of the ipsets, answering `*-save`, `*-restore --noflush`,
 * `ipset save` and `ipset restore` as the real tools do (restore is all-or-nothing per table;
 * `-X` of a referenced or non-empty chain, `-A` to an unknown chain and `destroy` of a set in
 * use fail), plus fault injection (`failNext`) and drift helpers (`flushChain`, `deleteRule`,
 * `delMember`) for the tests. Only the subset of the formats the drivers write is understood.
 */
import type { CommandResult, CommandRunner } from './runner.js';

type Tables = Map<string, Map<string, string[]>>;

const BUILTIN: Record<string, string[]> = {
  filter: ['INPUT', 'FORWARD', 'OUTPUT'],
  nat: ['PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING'],
  mangle: ['PREROUTING', 'INPUT', 'FORWARD', 'OUTPUT', 'POSTROUTING'],
  raw: ['PREROUTING', 'OUTPUT'],
};

interface FakeSet {
  type: string;
  family: string;
  maxelem: number;
  members: Set<string>;
}

/** See the module header. */
export class FakeKernel implements CommandRunner {
  /** Key `<backend>/<family>` (e.g. `legacy/4`) → tables. */
  readonly tables = new Map<string, Tables>();
  readonly sets = new Map<string, FakeSet>();
  readonly calls: { cmd: string; args: string[]; input?: string }[] = [];
  private readonly faults: { match: RegExp; result: CommandResult }[] = [];

  /** The next command whose `cmd args` matches fails with `stderr`. */
  failNext(match: RegExp, stderr = 'injected failure', code = 1): void {
    this.faults.push({ match, result: { code, stdout: '', stderr } });
  }

  table(key: string, name: string): Map<string, string[]> {
    let ts = this.tables.get(key);
    if (!ts) {
      ts = new Map();
      this.tables.set(key, ts);
    }
    let t = ts.get(name);
    if (!t) {
      t = new Map((BUILTIN[name] ?? []).map((c) => [c, []]));
      ts.set(name, t);
    }
    return t;
  }

  /** Drift: another writer flushed one of the chains. */
  flushChain(key: string, table: string, chain: string): void {
    this.table(key, table).set(chain, []);
  }

  /** Drift: another writer deleted rules matching `re` from a chain. */
  deleteRule(key: string, table: string, chain: string, re: RegExp): void {
    const t = this.table(key, table);
    t.set(chain, (t.get(chain) ?? []).filter((r) => !re.test(r)));
  }

  /** Drift: a member vanished from a set. */
  delMember(set: string, member: string): void {
    this.sets.get(set)?.members.delete(member);
  }

  async run(cmd: string, args: string[], input?: string): Promise<CommandResult> {
    this.calls.push(input === undefined ? { cmd, args } : { cmd, args, input });
    const line = [cmd, ...args].join(' ');
    const fi = this.faults.findIndex((f) => f.match.test(line));
    if (fi >= 0) {
      const [f] = this.faults.splice(fi, 1);
      if (f) return f.result;
    }
    const m = /^(ip6?tables)-(legacy|nft)-(save|restore)$/.exec(cmd);
    if (m) {
      const key = `${m[2]}/${m[1] === 'iptables' ? 4 : 6}`;
      return m[3] === 'save' ? this.save(key, args) : this.restore(key, input ?? '');
    }
    if (cmd === 'ipset' && args[0] === 'save') return this.ipsetSave();
    if (cmd === 'ipset' && args[0] === 'restore') return this.ipsetRestore(input ?? '');
    return { code: 127, stdout: '', stderr: `fake kernel: ${cmd} not modelled` };
  }

  private save(key: string, args: string[]): CommandResult {
    const ti = args.indexOf('-t');
    const names = ti >= 0 ? [args[ti + 1] ?? 'filter'] : [...(this.tables.get(key)?.keys() ?? [])];
    let out = '';
    for (const n of names) {
      const t = this.table(key, n);
      out += `*${n}\n`;
      for (const c of t.keys()) out += `:${c} ${BUILTIN[n]?.includes(c) ? 'ACCEPT' : '-'} [0:0]\n`;
      for (const [c, rules] of t) for (const r of rules) out += `-A ${c} ${r}\n`;
      out += 'COMMIT\n';
    }
    return { code: 0, stdout: out, stderr: '' };
  }

  private restore(key: string, input: string): CommandResult {
    let work: Map<string, string[]> | undefined;
    let name = '';
    let n = 0;
    const fail = (msg: string): CommandResult => ({ code: 1, stdout: '', stderr: `line ${n}: ${msg}` });
    for (const line of input.split('\n')) {
      n++;
      if (line.startsWith('*')) {
        name = line.slice(1);
        work = new Map([...this.table(key, name)].map(([c, r]) => [c, [...r]]));
      } else if (!work || line === '' || line.startsWith('#')) continue;
      else if (line === 'COMMIT') {
        this.tables.get(key)?.set(name, work);
        work = undefined;
      } else if (line.startsWith(':')) work.set(line.slice(1).split(' ')[0] ?? '', []);
      else {
        const [op, chain = '', ...rest] = line.split(' ');
        const rules = work.get(chain);
        if (!rules) return fail(`chain ${chain} does not exist`);
        const target = /-[jg] (\S+)/.exec(line)?.[1];
        if (target && /^cali-|^KUBE-/.test(target) && !work.has(target)) return fail(`target ${target} does not exist`);
        if (op === '-A') rules.push(rest.join(' '));
        else if (op === '-I') rules.splice(Number(rest[0]) - 1, 0, rest.slice(1).join(' '));
        else if (op === '-D') {
          const i = rules.indexOf(rest.join(' '));
          if (i < 0) return fail(`rule to delete not found in ${chain}`);
          rules.splice(i, 1);
        } else if (op === '-X') {
          if (rules.length) return fail(`chain ${chain} not empty`);
          for (const [c, rs] of work) if (rs.some((r) => r.includes(`-j ${chain}`) || r.includes(`-g ${chain}`))) return fail(`chain ${chain} referenced by ${c}`);
          work.delete(chain);
        } else return fail(`unknown op ${op}`);
      }
    }
    return { code: 0, stdout: '', stderr: '' };
  }

  private inUse(set: string): boolean {
    for (const ts of this.tables.values()) for (const t of ts.values()) for (const rs of t.values()) if (rs.some((r) => r.includes(`--match-set ${set} `))) return true;
    return false;
  }

  private ipsetSave(): CommandResult {
    let out = '';
    for (const [n, s] of this.sets) {
      out += `create ${n} ${s.type} family ${s.family} hashsize 1024 maxelem ${s.maxelem}\n`;
      for (const m of s.members) out += `add ${n} ${m}\n`;
    }
    return { code: 0, stdout: out, stderr: '' };
  }

  private ipsetRestore(input: string): CommandResult {
    const work = new Map([...this.sets].map(([k, s]) => [k, { ...s, members: new Set(s.members) }]));
    let n = 0;
    for (const line of input.split('\n')) {
      n++;
      const f = line.trim().split(/\s+/);
      const set = f[1] ?? '';
      const fail = (msg: string): CommandResult => ({ code: 1, stdout: '', stderr: `ipset v7: Error in line ${n}: ${msg}` });
      switch (f[0]) {
        case '':
        case undefined:
          continue;
        case 'create':
          if (!work.has(set)) work.set(set, { type: f[2] ?? '', family: f[f.indexOf('family') + 1] ?? 'inet', maxelem: Number(f[f.indexOf('maxelem') + 1] ?? 65536), members: new Set() });
          continue;
        case 'add': {
          const s = work.get(set);
          if (!s) return fail(`The set with the given name does not exist`);
          if (s.members.size >= s.maxelem) return fail('Hash is full, cannot add more elements');
          s.members.add(f[2] ?? '');
          continue;
        }
        case 'del':
          work.get(set)?.members.delete(f[2] ?? '');
          continue;
        case 'swap': {
          const a = work.get(set);
          const b = work.get(f[2] ?? '');
          if (!a || !b) return fail('The set with the given name does not exist');
          if (a.type !== b.type || a.family !== b.family) return fail('The sets cannot be swapped: their type does not match');
          work.set(set, b);
          work.set(f[2] ?? '', a);
          continue;
        }
        case 'destroy':
          if (!work.has(set)) return fail('The set with the given name does not exist');
          if (this.inUse(set)) return fail('Set cannot be destroyed: it is in use by a kernel component');
          work.delete(set);
          continue;
        default:
          return fail(`unknown command ${f[0]}`);
      }
    }
    this.sets.clear();
    for (const [k, s] of work) this.sets.set(k, s);
    return { code: 0, stdout: '', stderr: '' };
  }
}
