// Entry point of the `runsc-metric-server` bin (tsup adds the shebang).
import { runCli } from './cli.js';
import { tuneHeap } from './heap-tuning.js';

tuneHeap();
runCli(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`runsc-metric-server: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(128);
  },
);
