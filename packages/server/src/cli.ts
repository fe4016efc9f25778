// The CLI: argv -> config -> server, signals, exit codes (spec §1.3): 0 after a
// graceful shutdown, 2 for a malformed flag before the subcommand, 128 for
// every other failure, always one line on stderr and never a stack trace.

import { ArgsError, parseArgs } from './args.js';
import { configFromFlags } from './config.js';
import { helpText } from './flags.js';
import type { MetricServerHandle } from './lifecycle.js';
import { createLogger } from './log.js';
import { startMetricServer } from './start.js';

export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly env: NodeJS.ProcessEnv;
}

const defaultIo: CliIo = {
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
  env: process.env,
};

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGQUIT'] as const;
/** Exit status of a second signal: the shutdown was not graceful (spec: "every other failure"). */
export const FORCED_EXIT_CODE = 128;

/** Runs the CLI to completion; resolves with the process exit code. */
export async function runCli(argv: readonly string[], io: CliIo = defaultIo): Promise<number> {
  let handle: MetricServerHandle;
  try {
    const parsed = parseArgs(argv);
    if (parsed.kind === 'help') {
      io.stdout(helpText());
      return 0;
    }
    const log = createLogger((line) => io.stderr(`${line}\n`));
    if (parsed.ignored.length > 0)
      log.info('Ignoring runsc global flags without meaning here', { flags: parsed.ignored.join(',') });
    const config = configFromFlags(parsed.flags, io.env);
    handle = await startMetricServer({ ...config, logger: log });
    let signals = 0;
    const onSignal = (sig: NodeJS.Signals): void => {
      signals++;
      if (signals === 1) {
        log.info('Received interrupt signal, shutting down server.', { signal: sig });
        void handle.close(`signal ${sig}`);
        return;
      }
      log.warn('Second signal: exiting now without waiting for in-flight requests.', { signal: sig });
      handle.forceClose();
      process.exit(FORCED_EXIT_CODE);
    };
    for (const s of SIGNALS) process.on(s, onSignal);
    // A stray rejection is a bug to log, not a reason to stop serving every sandbox.
    const onRejection = (reason: unknown): void => {
      log.error('unhandled promise rejection', {
        error: reason instanceof Error ? reason.message : String(reason),
        stack: reason instanceof Error ? reason.stack : undefined,
      });
    };
    process.on('unhandledRejection', onRejection);
    await handle.closed;
    for (const s of SIGNALS) process.off(s, onSignal);
    process.off('unhandledRejection', onRejection);
    return 0;
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    io.stderr(`runsc-metric-server: ${message.replace(/\n/g, ' ')}\n`);
    return err instanceof ArgsError ? err.exitCode : 128;
  }
}
