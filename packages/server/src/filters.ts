// RE2 filters (Go's regexp dialect, linear time) via core's cached compiler:
// a hostile pattern in a query string cannot pin the CPU.

import { compileRe2Filter, FilterError } from '@org/metricserver-core';

export interface Re2Matcher {
  readonly pattern: string;
  /** Unanchored search. */
  test(input: string): boolean;
}

/** Compiles an RE2 pattern, or returns undefined when RE2 rejects it (the caller answers 400). */
export function compileRe2(pattern: string): Re2Matcher | undefined {
  try {
    return compileRe2Filter(pattern);
  } catch (e) {
    if (e instanceof FilterError) return undefined;
    throw e;
  }
}
