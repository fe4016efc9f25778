import { defineProject } from 'vitest/config';

// e2e suites spawn the built CLI, real runsc sandboxes and containers: they run
// one file at a time so timing assertions are not disturbed by each other.
// Forks, not threads: the exit hooks that delete leftover sandboxes need a real
// process 'exit'.
export default defineProject({
  test: {
    name: 'e2e',
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 180_000,
    fileParallelism: false,
    pool: 'forks',
    env: {
      // No registry is reachable: Ryuk's image cannot be pulled; suites stop their own containers.
      TESTCONTAINERS_RYUK_DISABLED: 'true',
      // dockerd runs with --bridge=none, so testcontainers must not look up the bridge gateway.
      TESTCONTAINERS_HOST_OVERRIDE: '127.0.0.1',
    },
  },
});
