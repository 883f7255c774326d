import { defineConfig } from 'vitest/config';
import { fileURLToPath } from 'node:url';

const here = (p: string): string => fileURLToPath(new URL(p, import.meta.url));

// Workspace packages resolve to their TypeScript sources, so tests never need a prior build
// of their dependencies (binaries spawned by tests still run from dist/, built by `npm test`).
const alias = {
  '@tabby/datastore/compliance': here('./packages/datastore/src/compliance.ts'),
  '@tabby/api': here('./packages/api/src/index.ts'),
  '@tabby/datastore': here('./packages/datastore/src/index.ts'),
  '@tabby/testkit': here('./packages/testkit/src/index.ts'),
  '@tabby/netlink': here('./packages/netlink/src/index.ts'),
  '@tabby/cni': here('./packages/cni/src/index.ts'),
  '@tabby/ctl': here('./packages/ctl/src/index.ts'),
  '@tabby/node': here('./packages/node/src/index.ts'),
  '@tabby/bgp': here('./bgp/src/index.ts'),
  '@tabby/felix': here('./felix/src/index.ts'),
  '@tabby/ipam': here('./ipam/src/index.ts'),
};

const ALL = ['{packages/*,bgp,felix,ipam,e2e}/test/**/*.test.ts'];
const EXCLUDE = ['**/node_modules/**', '**/dist/**'];

/**
 * Tests that need root, network namespaces, etcd or a routing daemon ("system" tests), by
 * convention: a file named `*.root.test.ts`, anything under an `interop/` directory inside a package's `test/`,
 * and the whole e2e package. Every other test file is a unit test: no root, no namespace, no
 * daemon (loopback TCP on 127.0.0.0/8 is fine), and `npm run test:unit` runs them in under a
 * minute. New files are classified by these globs automatically.
 */
const SYSTEM_CONVENTION = ['**/*.root.test.ts', '{packages/*,bgp,felix,ipam}/test/**/interop/**/*.test.ts', 'e2e/test/**/*.test.ts'];
const SYSTEM = SYSTEM_CONVENTION;

/**
 * System tests need root (network namespaces; etcd and the routing daemons run inside them).
 * Without it the whole system project is skipped, saying why once, instead of each file failing
 * on its first `ip netns add`. Files that need a daemon binary skip with `missingRequirements`.
 */
const SYSTEM_SKIP = process.getuid?.() === 0 ? undefined : 'needs root (network namespaces, etcd, BIRD/GoBGP/FRR); run `npm test` as root';
if (SYSTEM_SKIP && !process.argv.includes('unit')) console.warn(`system tests skipped: ${SYSTEM_SKIP}`);

/** Settings every project shares (projects do not inherit `include`/`exclude`: they are listed per project). */
const shared = {
  globalSetup: ['./scripts/root-guard.ts'],
  pool: 'forks' as const,
  testTimeout: 60_000,
  hookTimeout: 120_000,
};

export default defineConfig({
  resolve: { alias },
  test: {
    ...shared,
    reporters: ['default'],
    // `vitest run` (npm test) runs both projects; `--project unit` (npm run test:unit) only the first.
    projects: [
      // Unit tests never switch namespaces, so they can share worker threads (cheaper than forks);
      // `npm run test:unit` also passes --no-isolate (a worker runs its files one after another
      // without a fresh environment each; the project's own modules are still re-evaluated per
      // file): test:unit's CPU went from ~96 s to ~40 s. A test that sets a global must undo it.
      // (Set here, `isolate: false` did not reach the pool in vitest 3.2; the CLI flag does.)
      // System tests keep forks (a setns must not leak into another test's thread).
      { resolve: { alias }, test: { ...shared, pool: 'threads', name: 'unit', include: ALL, exclude: [...EXCLUDE, ...SYSTEM] } },
      { resolve: { alias }, test: { ...shared, name: 'system', include: SYSTEM_SKIP ? [] : SYSTEM, exclude: EXCLUDE } },
    ],
  },
});
