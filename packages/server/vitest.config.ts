import { defineProject } from 'vitest/config';
import { workspaceAliases } from '../../vitest.aliases';

export default defineProject({
  resolve: { alias: workspaceAliases },
  // Fleets, child processes and bcrypt share 2 loaded cores here: vitest's 5 s default cut a 3 s test short under
  // load. Tests assert their own time bounds; this only stops a hung one.
  test: { name: 'server', include: ['test/**/*.test.ts'], testTimeout: 30_000 },
});
