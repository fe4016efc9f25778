// Entry point of the `runsc-metric-server` bin (tsup adds the shebang). It first
// re-executes itself with the heap flags the server needs (relaunch.ts), before the
// server's modules load, so that happens once, in the tuned process.
import { relaunchTuned } from './relaunch.js';

relaunchTuned();
const { runCli } = await import('./cli.js');
runCli(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`runsc-metric-server: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(128);
  },
);
