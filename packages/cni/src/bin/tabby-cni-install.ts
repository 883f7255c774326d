#!/usr/bin/env node
/** `tabby-cni-install [/opt/cni/bin]`: writes the `tabby` and `tabby-ipam` wrappers there. */
import { installCniPlugins } from '../install.js';

for (const p of installCniPlugins(process.argv[2] ?? '/opt/cni/bin')) process.stdout.write(`installed ${p}\n`);
