/**
 * Parsing `iptables-save` output (legacy and nft print the same format): per table the chains
 * declared and the rules of each chain as printed, with the `cali:<hash>` of each rule when it
 * has one. Only what the driver compares is extracted; rule text is kept verbatim so a stale
 * rule can be deleted by feeding its text back as `-D`.
 */

/** One rule line as saved. */
export interface SavedRule {
  /** The text after `-A <chain> `. */
  text: string;
  /** Its `cali:` hash, when commented so. */
  hash?: string;
}

/** One table as saved. */
export interface SavedTable {
  chains: Map<string, SavedRule[]>;
}

const HASH = /--comment "?cali:([A-Za-z0-9_-]{16})"?/;

/** Parses iptables-save output into tables. */
export function parseIptablesSave(text: string): Map<string, SavedTable> {
  const tables = new Map<string, SavedTable>();
  let cur: SavedTable | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trimEnd();
    if (line.startsWith('*')) {
      cur = { chains: new Map() };
      tables.set(line.slice(1), cur);
    } else if (!cur || line === 'COMMIT' || line.startsWith('#') || line === '') continue;
    else if (line.startsWith(':')) {
      const name = line.slice(1).split(' ')[0] ?? '';
      if (!cur.chains.has(name)) cur.chains.set(name, []);
    } else if (line.startsWith('-A ')) {
      const rest = line.slice(3);
      const sp = rest.indexOf(' ');
      const chain = sp < 0 ? rest : rest.slice(0, sp);
      const body = sp < 0 ? '' : rest.slice(sp + 1);
      const m = HASH.exec(body);
      const rules = cur.chains.get(chain) ?? [];
      rules.push(m?.[1] ? { text: body, hash: m[1] } : { text: body });
      cur.chains.set(chain, rules);
    }
  }
  return tables;
}
