// Failures that are part of normal operation (a stalled sandbox's timeout, a lying
// sandbox's rejection) and are reported by their message alone, never by a stack.

/**
 * Base of the per-sandbox, per-scrape failures. Constructing it captures no stack trace:
 * with 500 stalled sandboxes a scrape makes ~1000 of them at once (each capture costs
 * ~4.5 us), all in the window between the deadline and the response. `cause` is kept.
 */
export class ExpectedError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    try {
      super(message, options);
    } finally {
      Error.stackTraceLimit = limit;
    }
  }
}
