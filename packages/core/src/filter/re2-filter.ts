// RE2 filters (Go regexp syntax and semantics, linear-time matching) for the metric and
// capability filters any HTTP client may pass to /metrics.
import { RE2JS } from 're2js';

/** An invalid RE2 pattern (message says why, in RE2's words). */
export class FilterError extends Error {
  override readonly name = 'FilterError';
  constructor(
    readonly pattern: string,
    readonly reason: string,
  ) {
    super(`invalid RE2 regular expression ${JSON.stringify(pattern)}: ${reason}`);
  }
}

export interface Re2Filter {
  readonly pattern: string;
  /** Unanchored search, like Go's regexp.MatchString. */
  test(s: string): boolean;
}

/** Patterns longer than this are refused outright: no legitimate filter needs them, and compiling costs memory. */
export const MAX_FILTER_PATTERN_LENGTH = 4096;
const CACHE_SIZE = 64;

// Bounded LRU (Map keeps insertion order; a hit is re-inserted at the end). Owned by this
// module, touched synchronously only, so no async ownership question arises. Invalid
// patterns are not cached: they fail the request anyway.
const cache = new Map<string, Re2Filter>();

function compile(pattern: string): Re2Filter {
  if (pattern.length > MAX_FILTER_PATTERN_LENGTH) {
    throw new FilterError(`${pattern.slice(0, 64)}…`, `pattern longer than ${MAX_FILTER_PATTERN_LENGTH} characters`);
  }
  let re: RE2JS;
  try {
    re = RE2JS.compile(pattern);
  } catch (e) {
    throw new FilterError(pattern, (e as Error).message.replace(/^error parsing regexp: /, ''));
  }
  return { pattern, test: (s: string) => re.test(s) };
}

/** Compiles (or returns the cached compilation of) an RE2 pattern. Throws `FilterError`. */
export function compileRe2Filter(pattern: string): Re2Filter {
  const hit = cache.get(pattern);
  if (hit !== undefined) {
    cache.delete(pattern);
    cache.set(pattern, hit);
    return hit;
  }
  const filter = compile(pattern);
  cache.set(pattern, filter);
  if (cache.size > CACHE_SIZE) cache.delete(cache.keys().next().value as string);
  return filter;
}

/** Number of cached compiled filters (for tests and diagnostics). */
export function re2FilterCacheSize(): number {
  return cache.size;
}

/**
 * Capability filter rule, runsc's: the filter matches the full name (`CAP_NET_RAW`) or the trimmed one
 * (`NET_RAW`). runsc's name for a capability outside its table is `UNKNOWN` in both forms (Go's
 * Capability.String and TrimmedString), so `CAP_UNKNOWN`, a name nothing has, is never tested.
 * Per capability per sandbox per scrape: allocates the `CAP_` string only when the trimmed form misses.
 */
export function capabilityFilterMatches(filter: Re2Filter, trimmedName: string): boolean {
  if (filter.test(trimmedName)) return true;
  return trimmedName !== 'UNKNOWN' && filter.test(`CAP_${trimmedName}`);
}
