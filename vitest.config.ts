import { defineConfig } from 'vitest/config';

// Workspace packages resolve to their TypeScript sources ("source" export
// condition), so tests never run against a stale build.
const conditions = ['source', 'module', 'node', 'development|production'];

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions, externalConditions: conditions } },
  test: {
    include: ['packages/*/src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Each file starts its own servers on temporary sockets; two cores.
    maxWorkers: 2,
  },
});
