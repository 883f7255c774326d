/**
 * Re-runs the memory-datastore suites with a datastore that has no `txn`, as the Kubernetes
 * backend: IPAM's sequential write order (handle count raised before the block write, lowered
 * after) must stay correct there. The suites read `globalThis.ipamTestTxn` through `defaultTxn`.
 */
import { afterAll } from 'vitest';

(globalThis as { ipamTestTxn?: boolean }).ipamTestTxn = false;
// unit tests share workers (vitest.config.ts: isolate: false): later files must see the default again
afterAll(() => void delete (globalThis as { ipamTestTxn?: boolean }).ipamTestTxn);
await import('./allocate.test.js');
await import('./crash.test.js');
await import('./check-gc.test.js');
await import('./bad-input.test.js');
await import('./concurrency.test.js');
