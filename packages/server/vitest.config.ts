import { defineProject } from 'vitest/config';
import { workspaceAliases } from '../../vitest.aliases';

export default defineProject({
  resolve: { alias: workspaceAliases },
  test: { name: 'server', include: ['test/**/*.test.ts'] },
});
