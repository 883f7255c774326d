/** @tabby/ctl: tabbyctl, the calicoctl-style CLI. */
export { runCtl } from './main.js';
export type { CtlIo } from './context.js';
export { EXIT_CODES, CtlError, type CtlErrorCode } from './errors.js';
export { parseArgs, type Args } from './args.js';
export { render, table, pathValue } from './output.js';
export { formatNodeStatus } from './node.js';
export { mergePatch } from './resources.js';
