// Go's encoding/json output for plain data: compact, and HTML-safe escaping of
// <, >, & plus U+2028/U+2029, which JSON.stringify leaves as they are.
const HAS_GO_ESCAPE = /[<>&\u2028\u2029]/;
const GO_ESCAPES = /[<>&\u2028\u2029]/g;
const escapeOne = (c: string): string => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;

/** Applies Go's extra escaping to JSON text (safe: these characters only occur inside strings). */
export function goEscape(json: string): string {
  return HAS_GO_ESCAPE.test(json) ? json.replace(GO_ESCAPES, escapeOne) : json;
}

export function goJson(value: unknown): string {
  return goEscape(JSON.stringify(value));
}
