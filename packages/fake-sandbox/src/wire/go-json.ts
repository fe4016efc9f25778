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

const GO_QUOTE_NAMED: Readonly<Record<string, string>> = {
  '\x07': '\\a',
  '\b': '\\b',
  '\f': '\\f',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
  '\v': '\\v',
  '"': '\\"',
  '\\': '\\\\',
};

/** Go's `%q` of a string, for the ASCII that ids are made of (other characters pass as they are). */
export function goQuote(s: string): string {
  let out = '"';
  for (const c of s) {
    const code = c.charCodeAt(0);
    const named = GO_QUOTE_NAMED[c];
    if (named) out += named;
    else if (code < 0x20 || code === 0x7f) out += `\\x${code.toString(16).padStart(2, '0')}`;
    else out += c;
  }
  return `${out}"`;
}
