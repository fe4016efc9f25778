// Structured logging: one JSON object per line on stderr (or a test sink), so
// every request and every lifecycle step is greppable and machine-parseable.

export type LogLevel = 'info' | 'warn' | 'error';
export type LogFields = Readonly<Record<string, string | number | boolean | undefined>>;

export interface Logger {
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
}

/** Where finished lines go: stderr in production, an array in tests. */
export type LogSink = (line: string) => void;

export const stderrSink: LogSink = (line) => {
  process.stderr.write(`${line}\n`);
};

export function createLogger(sink: LogSink = stderrSink): Logger {
  const emit = (level: LogLevel, msg: string, fields?: LogFields): void => {
    // Time first, then level and message, then the fields, in a stable order.
    const record: Record<string, unknown> = { time: new Date().toISOString(), level, msg };
    if (fields) {
      for (const [k, v] of Object.entries(fields)) if (v !== undefined) record[k] = v;
    }
    sink(JSON.stringify(record));
  };
  return {
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
  };
}

/** A logger that keeps its lines, for tests and for the demo's quiet mode. */
export function memoryLogger(): Logger & { readonly lines: string[]; records(): Array<Record<string, unknown>> } {
  const lines: string[] = [];
  const logger = createLogger((l) => lines.push(l));
  return { ...logger, lines, records: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

export const silentLogger: Logger = { info: () => {}, warn: () => {}, error: () => {} };
