/**
 * Shims for running `@kubernetes/client-node` 2.0.1 on Node 20. That client depends on undici 8,
 * which needs Node >= 22.19 and fails on Node 20 at import (`zlib.createZstdDecompress`,
 * `worker_threads.markAsUncloneable`) and on the first request (`Promise.withResolvers`).
 * Each shim is installed only when the API is missing, so on Node 22 this module does nothing:
 * - `Promise.withResolvers`: the exact ES2024 semantics;
 * - `worker_threads.markAsUncloneable`: a no-op (it only guards structuredClone of undici's
 *   own objects, which Tabby never clones);
 * - `zlib.createZstdDecompress`: throws, so a zstd-encoded response fails loudly (Tabby never
 *   asks for zstd; the API server only compresses with gzip).
 * Imported (dynamically) right before the client, never at module load of the datastore.
 */
import wt from 'node:worker_threads';
import zlib from 'node:zlib';

type WithResolvers = <T>() => { promise: Promise<T>; resolve: (v: T | PromiseLike<T>) => void; reject: (e?: unknown) => void };

const P = Promise as unknown as { withResolvers?: WithResolvers };
if (typeof P.withResolvers !== 'function') {
  P.withResolvers = function withResolvers<T>() {
    let resolve!: (v: T | PromiseLike<T>) => void;
    let reject!: (e?: unknown) => void;
    const promise = new Promise<T>((a, b) => {
      resolve = a;
      reject = b;
    });
    return { promise, resolve, reject };
  };
}

const W = wt as unknown as { markAsUncloneable?: (o: object) => void };
if (typeof W.markAsUncloneable !== 'function') W.markAsUncloneable = (): void => undefined;

const Z = zlib as unknown as { createZstdDecompress?: () => never; constants: Record<string, number> };
if (typeof Z.createZstdDecompress !== 'function') {
  Z.createZstdDecompress = (): never => {
    throw new Error('zstd decompression needs Node >= 22.15; the response was zstd-encoded');
  };
  Z.constants['ZSTD_d_windowLogMax'] ??= 100;
}

/** True once the shims are in place (importing this module installs them). */
export const node20CompatInstalled = true;
