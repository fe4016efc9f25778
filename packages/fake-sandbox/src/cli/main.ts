// The fleet command: start, print a ready line, run until SIGINT/SIGTERM, clean up.
import { createFleet } from '../fleet/fleet.js';
import { CliError, parseFleetArgs, USAGE } from './args.js';

export interface CliIo {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
  /** Resolves when the process should shut down. */
  readonly stopSignal: Promise<string>;
}

/** Returns the exit code. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  let options: ReturnType<typeof parseFleetArgs>;
  try {
    options = parseFleetArgs(argv);
  } catch (e) {
    if (e instanceof CliError) {
      io.err(`fake-sandbox: ${e.message}`);
      io.err(USAGE);
      return 2;
    }
    throw e;
  }
  let fleet: Awaited<ReturnType<typeof createFleet>>;
  const t0 = Date.now();
  try {
    fleet = await createFleet(options);
  } catch (e) {
    io.err(`fake-sandbox: cannot start the fleet: ${e instanceof Error ? e.message : String(e)}`);
    return 1;
  }
  io.out(`fleet ready: ${fleet.sandboxes.length} sandboxes in ${options.root} (${Date.now() - t0} ms)`);
  const sig = await io.stopSignal;
  await fleet.close();
  io.out(`fleet stopped (${sig}): removed ${fleet.sandboxes.length} sandboxes`);
  return 0;
}
