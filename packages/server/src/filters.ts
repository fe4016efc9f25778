// The /metrics filters: RE2 (Go's regexp dialect, linear time) via core's cached compiler,
// so a hostile pattern in a query string cannot pin the CPU.

import { compileRe2Filter, FilterError, type Re2Filter } from '@org/metricserver-core';

/** Compiles an RE2 pattern, or returns undefined when RE2 rejects it (the caller answers 400). */
export function compileRe2(pattern: string): Re2Filter | undefined {
  try {
    return compileRe2Filter(pattern);
  } catch (e) {
    if (e instanceof FilterError) return undefined;
    throw e;
  }
}
