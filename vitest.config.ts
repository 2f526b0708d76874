import { defineConfig } from 'vitest/config';

// Workspace packages resolve to their TypeScript sources ("source" export
// condition), so tests never run against a stale build.
const conditions = ['source', 'module', 'node', 'development|production'];

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions, externalConditions: conditions } },
  test: {
    include: [
      'packages/*/src/**/*.test.ts',
      'packages/vsock/test/**/*.test.js',
      'test/**/*.test.ts',
      'vm/test/**/*.test.js',
    ],
    // Never let a test on this machine fall back to the in-VM default
    // address (vsock:2:52): AF_VSOCK is used only inside the test VMs.
    env: { PORTHOLE_ADDRESS: '' },
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Each file starts its own servers on temporary sockets; two cores.
    maxWorkers: 2,
  },
});
