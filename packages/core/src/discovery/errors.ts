// Typed errors of root-directory discovery and state-file decoding.

/** The root directory could not be listed (missing, not a directory, no permission): the server's root is gone. */
export class RootDirError extends Error {
  override readonly name = 'RootDirError';
  constructor(
    readonly root: string,
    override readonly cause: unknown,
  ) {
    super(`cannot list root directory ${root}: ${errorText(cause)}`);
  }
}

/** A state file is not valid JSON or a field we read has the wrong type. */
export class StateFileError extends Error {
  override readonly name = 'StateFileError';
  constructor(
    readonly fileName: string,
    /** JSON path of the offending value, e.g. `$.sandbox.pid`; `$` for the whole document. */
    readonly path: string,
    readonly detail: string,
  ) {
    super(`state file ${fileName}: ${path}: ${detail}`);
  }
}

/** The state file vanished between listing and reading (a container being deleted). */
export class StateFileMissingError extends Error {
  override readonly name = 'StateFileMissingError';
  constructor(readonly filePath: string) {
    super(`state file ${filePath} does not exist (container deleted?)`);
  }
}

export function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
