import { defineProject } from 'vitest/config';
import { workspaceAliases } from '../../vitest.aliases';

export default defineProject({
  resolve: { alias: workspaceAliases },
  // Property tests take 1-2 s alone and hit the 5 s default on a loaded 2-core machine.
  test: { name: 'prom-format', include: ['test/**/*.test.ts'], testTimeout: 30_000 },
});
