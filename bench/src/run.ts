/**
 * `npm run bench -- <name> [args]` runs `benches/<name>.js`; `npm run bench -- --list` lists them.
 * Each benchmark prints JSON lines (see emit.ts) and cleans up what it creates.
 */
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Bench } from './emit.js';

const dir = join(dirname(fileURLToPath(import.meta.url)), 'benches');
const names = (existsSync(dir) ? readdirSync(dir) : []).filter((f) => f.endsWith('.js')).map((f) => f.slice(0, -3)).sort();

async function load(name: string): Promise<Bench> {
  return ((await import(join(dir, `${name}.js`))) as { default: Bench }).default;
}

const [name, ...args] = process.argv.slice(2);
if (!name || name === '--list') {
  for (const n of names) console.log(`${n}\t${(await load(n)).description}`);
  process.exit(0);
}
if (!names.includes(name)) {
  console.error(`unknown benchmark "${name}"; known: ${names.join(', ')}`);
  process.exit(2);
}
await (await load(name)).run(args);
process.exit(0);
