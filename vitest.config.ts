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

export default defineConfig({
  resolve: { alias },
  test: {
    include: ['{packages/*,bgp,felix,ipam,e2e}/test/**/*.test.ts'],
    exclude: ['**/node_modules/**', '**/dist/**'],
    globalSetup: ['./scripts/root-guard.ts'],
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 120_000,
    reporters: ['default'],
  },
});
