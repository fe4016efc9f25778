// only_metrics: an RE2 regex matched unanchored against the unprefixed
// Prometheus name, compiled once per distinct pattern (re2js, linear time).
import { RE2JS } from 're2js';

export type CompiledFilter =
  | { readonly ok: true; readonly re: RE2JS | null }
  | { readonly ok: false; readonly err: string };

const MAX_CACHED = 256;
const compiled = new Map<string, CompiledFilter>();

/** "" matches everything (re = null). Errors carry runsc's exact message. */
export function compileFilter(pattern: string): CompiledFilter {
  let f = compiled.get(pattern);
  if (f) return f;
  if (pattern === '') f = { ok: true, re: null };
  else {
    try {
      f = { ok: true, re: RE2JS.compile(pattern) };
    } catch (e) {
      const detail = e instanceof Error ? e.message : String(e);
      f = { ok: false, err: `cannot compile regexp ${JSON.stringify(pattern)}: ${detail}` };
    }
  }
  if (compiled.size >= MAX_CACHED) compiled.clear();
  compiled.set(pattern, f);
  return f;
}

export function filterMatches(re: RE2JS | null, name: string): boolean {
  return re === null || re.matcher(name).find();
}
