// The one error type the decoding side throws, so callers catch exactly one
// class per sandbox reply and can name the offending spot to the operator.

/** A malformed JSON text or a JSON value that does not have the wire shape. */
export class DecodeError extends Error {
  override readonly name = 'DecodeError';
  /** JSONPath-like location of the offending value, e.g. `$.snapshot.data[3].val.int`. */
  readonly path: string;
  /** The problem without the path prefix. */
  readonly detail: string;

  constructor(path: string, detail: string) {
    super(`${path}: ${detail}`);
    this.path = path;
    this.detail = detail;
  }
}
