/**
 * Re-runs the memory-datastore suites with a datastore that has no `txn`, as the Kubernetes
 * backend: IPAM's sequential write order (handle count raised before the block write, lowered
 * after) must stay correct there. The suites read `globalThis.ipamTestTxn` through `defaultTxn`.
 */
import { afterAll } from 'vitest';

(globalThis as { ipamTestTxn?: boolean }).ipamTestTxn = false;
// unit tests share workers (vitest.config.ts: isolate: false): later files must see the default again
afterAll(() => void delete (globalThis as { ipamTestTxn?: boolean }).ipamTestTxn);
// A query makes each a module of its own: without it, a worker that already ran one of these
// files (no isolation) hands back the cached module, its tests are not registered again, and a
// worker that had run all five found no test in this file at all.
const again = '?without-txn';
await import('./allocate.test.js' + again);
await import('./crash.test.js' + again);
await import('./check-gc.test.js' + again);
await import('./bad-input.test.js' + again);
await import('./concurrency.test.js' + again);
