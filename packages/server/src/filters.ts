// RE2 filters (Go's regexp dialect) via re2js: linear time, so a hostile
// pattern in a query string cannot pin the CPU. Matching is unanchored search.

import { RE2JS } from 're2js';

export interface Re2Matcher {
  readonly pattern: string;
  test(input: string): boolean;
}

// Last few compiled patterns: Prometheus sends the same filter on every scrape.
const cache = new Map<string, Re2Matcher>();
const CACHE_MAX = 16;

/** Compiles an RE2 pattern, or returns undefined when RE2 rejects it. */
export function compileRe2(pattern: string): Re2Matcher | undefined {
  const hit = cache.get(pattern);
  if (hit) return hit;
  let re: RE2JS;
  try {
    re = RE2JS.compile(pattern);
  } catch {
    return undefined;
  }
  const m: Re2Matcher = { pattern, test: (s) => re.test(s) };
  if (cache.size >= CACHE_MAX) cache.delete(cache.keys().next().value as string);
  cache.set(pattern, m);
  return m;
}
