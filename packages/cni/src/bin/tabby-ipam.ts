#!/usr/bin/env node
/**
 * `tabby-ipam`: the IPAM plugin (usable alone under another plugin). Same thin-client path as
 * `tabby`.
 */
import { main } from '../main.js';

await main('tabby-ipam');
