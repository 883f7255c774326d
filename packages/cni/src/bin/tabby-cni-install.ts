#!/usr/bin/env node
/** `tabby-cni-install [/opt/cni/bin]`: writes the `tabby` and `tabby-ipam` wrappers there. */
import { installCniPlugins } from '../install.js';

const USAGE = 'usage: tabby-cni-install [BIN_DIR]   (default /opt/cni/bin; writes the tabby and tabby-ipam plugins)\n';
const args = process.argv.slice(2);
if (args.includes('--help') || args.includes('-h')) {
  process.stdout.write(USAGE);
  process.exit(0);
}
const bad = args.find((a) => a.startsWith('-'));
if (bad !== undefined || args.length > 1) {
  process.stderr.write(`tabby-cni-install: ${bad !== undefined ? `unknown flag ${bad}` : 'one bin directory only'}\n${USAGE}`);
  process.exit(2);
}
for (const p of installCniPlugins(args[0] ?? '/opt/cni/bin')) process.stdout.write(`installed ${p}\n`);
