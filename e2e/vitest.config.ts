import { defineProject } from 'vitest/config';

// e2e suites spawn the built CLI, real runsc sandboxes and containers: they run
// one file at a time so timing assertions are not disturbed by each other.
export default defineProject({
  test: {
    name: 'e2e',
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 180_000,
    fileParallelism: false,
  },
});
