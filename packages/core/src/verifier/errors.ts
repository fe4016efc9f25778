// Typed outcomes of building and running a Verifier. Messages keep the Go
// verifier's wording where it has one, so logs read the same across servers.

/** The registration stored in the state file is not usable; message starts with `metric "<name>"`. */
export class RegistrationError extends Error {
  override readonly name = 'RegistrationError';
  constructor(
    readonly metricName: string,
    message: string,
  ) {
    super(message);
  }
}

export type VerifyRejectionCode =
  | 'malformed-snapshot'
  | 'malformed-number'
  | 'future'
  | 'too-old'
  | 'unknown-metric'
  | 'bad-definition'
  | 'field-count'
  | 'missing-field'
  | 'value-not-allowed'
  | 'duplicate-series'
  | 'value-count'
  | 'not-number'
  | 'not-integer'
  | 'not-histogram'
  | 'bucket-count'
  | 'ssd-not-float'
  | 'bucket-bound'
  | 'time-went-back'
  | 'counter-type-changed'
  | 'counter-decreased'
  | 'histogram-min-type-changed'
  | 'histogram-min-increased'
  | 'histogram-max-type-changed'
  | 'histogram-max-decreased'
  | 'histogram-ssd-decreased'
  | 'histogram-bucket-decreased';

/**
 * Why a snapshot was refused. Plain data, not an Error: building one costs no
 * stack trace, and rejections are returned, not thrown.
 */
export class VerifyRejection {
  constructor(
    readonly code: VerifyRejectionCode,
    readonly message: string,
    /** The offending metric's name, when the rejection is about one data point. */
    readonly metric?: string,
  ) {}

  toString(): string {
    return `snapshot rejected (${this.code}): ${this.message}`;
  }
}

export type VerifyResult = { readonly ok: true } | { readonly ok: false; readonly reason: VerifyRejection };
