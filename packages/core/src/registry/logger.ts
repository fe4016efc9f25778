// The registry logs through this seam; the server adapts it to its own log format.
export interface Logger {
  info(msg: string, fields?: Readonly<Record<string, unknown>>): void;
  warn(msg: string, fields?: Readonly<Record<string, unknown>>): void;
}

export const silentLogger: Logger = { info() {}, warn() {} };
