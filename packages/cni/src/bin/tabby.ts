#!/usr/bin/env node
/**
 * `tabby`: the CNI network plugin. Installed into a CNI bin directory as a symlink to this
 * file (see packages/cni/README.md). Tries the node agent's socket first (thin client: only
 * node:net is loaded), and runs the call itself when no agent answers.
 */
import { main } from '../main.js';

await main('tabby');
