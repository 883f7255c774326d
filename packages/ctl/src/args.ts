/**
 * Command-line parsing for tabbyctl: positional words and the flags every verb shares
 * (`-f` repeatable, `-R`, `-n`, `-A`, `-o`, `-p`, `-c`/`--config`, datastore flags; any
 * value flag may repeat, `repeated` keeps every value). Pure.
 */
import { ctlError } from './errors.js';

/** Parsed arguments. */
export interface Args {
  words: string[];
  files: string[];
  recursive: boolean;
  namespace?: string;
  allNamespaces: boolean;
  output: string;
  /** The last value of each flag (`true` for a switch). */
  flags: Map<string, string | true>;
  /** Every value of each flag that takes one, in order (`--from-report a --from-report b`). */
  repeated: Map<string, string[]>;
}

const WITH_VALUE = new Set(['-f', '--filename', '-n', '--namespace', '-o', '--output', '-p', '--patch', '--config', '--etcd-endpoints', '--etcd-prefix', '--datastore-type', '--kubeconfig', '--ip', '--from-report', '--socket', '--max-blocks-per-host', '--strictaffinity', '--cidr', '--name', '--protocol', '--port']);
const BOOLEAN = new Set(['-R', '--recursive', '-A', '--all-namespaces', '-h', '--help', '--show-blocks', '--show-borrowed', '--show-configuration', '--overwrite', '--remove', '--skip-not-exists', '--skip-exists', '--force']);

/** Parses argv (without node and script). */
export function parseArgs(argv: string[]): Args {
  const a: Args = { words: [], files: [], recursive: false, allNamespaces: false, output: 'ps', flags: new Map(), repeated: new Map() };
  for (let i = 0; i < argv.length; i++) {
    let tok = argv[i]!;
    let value: string | undefined;
    if (tok.startsWith('--') && tok.includes('=')) {
      value = tok.slice(tok.indexOf('=') + 1);
      tok = tok.slice(0, tok.indexOf('='));
    } else if (/^-[fnopc].+/.test(tok)) {
      value = tok.slice(2);
      tok = tok.slice(0, 2);
    }
    if (tok === '-c') tok = '--config';
    if (WITH_VALUE.has(tok)) {
      if (value === undefined) {
        value = argv[++i];
        if (value === undefined) throw ctlError('usage', `flag ${tok} needs a value`);
      }
      if (tok === '-f' || tok === '--filename') a.files.push(value);
      else if (tok === '-n' || tok === '--namespace') a.namespace = value;
      else if (tok === '-o' || tok === '--output') a.output = value;
      else {
        const name = tok === '-p' ? '--patch' : tok;
        a.flags.set(name, value);
        a.repeated.set(name, [...(a.repeated.get(name) ?? []), value]);
      }
    } else if (BOOLEAN.has(tok)) {
      if (tok === '-R' || tok === '--recursive') a.recursive = true;
      else if (tok === '-A' || tok === '--all-namespaces') a.allNamespaces = true;
      else a.flags.set(tok === '-h' ? '--help' : tok, true);
    } else if (tok.startsWith('-') && tok !== '-') {
      throw ctlError('usage', `unknown flag ${tok}; see tabbyctl --help`);
    } else {
      a.words.push(tok);
    }
  }
  return a;
}
