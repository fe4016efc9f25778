import { defineConfig } from 'vitest/config';

// One vitest run over every workspace project, so .ci/run can count every test
// in a single JSON report.
export default defineConfig({
  test: {
    projects: ['packages/*', 'e2e'],
  },
});
