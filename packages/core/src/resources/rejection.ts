// Why a ResourceVerifier refused one scrape's events of a sandbox. Plain data, like the metric
// verifier's VerifyRejection: returned, not thrown, and no stack trace to build.

export type ResourceRejectionCode =
  /** An event is about a container that was not asked (not one of the sandbox's state files). */
  | 'foreign-id'
  /** Two events are about the same container. */
  | 'duplicate-id'
  /** An asked container has no event. */
  | 'missing-container'
  /** A value is not an integer (a fraction, or not a number at all). */
  | 'not-integer'
  /** A value is below zero. */
  | 'negative'
  /** A value is above 2^64-1, or a double beyond 2^53 that cannot be exact. */
  | 'out-of-range'
  /** One event lists an interface name twice. */
  | 'duplicate-interface'
  /** A counter is below its value in the last accepted scrape of the same container and sandbox iteration. */
  | 'counter-decreased';

export class ResourceRejection {
  constructor(
    readonly code: ResourceRejectionCode,
    readonly message: string,
    /** The container the rejection is about, when it is about one. */
    readonly containerId?: string,
  ) {}

  toString(): string {
    return `resource usage rejected (${this.code}): ${this.message}`;
  }
}
