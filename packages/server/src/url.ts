// URL handling with Go's net/url semantics, which the spec's behaviours hinge
// on: path cleaning (301 redirects), strict %-unescaping, and query parsing
// (`+` is a space, bad escapes are errors, `;` is not a separator).

export class UrlEscapeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UrlEscapeError';
  }
}

const HEX = /^[0-9a-fA-F]{2}$/;

/** Go's url unescapeUrl; `plusIsSpace` for query components. Invalid UTF-8 becomes U+FFFD. */
export function unescapeUrl(s: string, plusIsSpace: boolean): string {
  if (!s.includes('%') && !(plusIsSpace && s.includes('+'))) return s; // fast path: nothing to do
  const bytes: number[] = [];
  for (let i = 0; i < s.length; ) {
    const c = s[i] as string;
    if (c === '%') {
      const hex = s.slice(i + 1, i + 3);
      if (!HEX.test(hex)) throw new UrlEscapeError(`invalid URL escape ${JSON.stringify(s.slice(i, i + 3))}`);
      bytes.push(parseInt(hex, 16));
      i += 3;
    } else if (c === '+' && plusIsSpace) {
      bytes.push(0x20);
      i++;
    } else {
      const cp = s.codePointAt(i) as number;
      const len = cp > 0xffff ? 2 : 1;
      for (const b of Buffer.from(s.slice(i, i + len), 'utf8')) bytes.push(b);
      i += len;
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

export interface ParsedQuery {
  readonly values: ReadonlyMap<string, readonly string[]>;
  /** The first error, as Go's url.ParseQuery reports it; pairs with errors are skipped. */
  readonly error: string | undefined;
}

export function parseQuery(raw: string): ParsedQuery {
  const values = new Map<string, string[]>();
  let error: string | undefined;
  for (const pair of raw.split('&')) {
    if (pair === '') continue;
    if (pair.includes(';')) {
      error ??= 'invalid semicolon separator in query';
      continue;
    }
    const eq = pair.indexOf('=');
    const rawKey = eq < 0 ? pair : pair.slice(0, eq);
    const rawValue = eq < 0 ? '' : pair.slice(eq + 1);
    try {
      const key = unescapeUrl(rawKey, true);
      const value = unescapeUrl(rawValue, true);
      const list = values.get(key);
      if (list) list.push(value);
      else values.set(key, [value]);
    } catch (err) {
      error ??= (err as Error).message;
    }
  }
  return { values, error };
}

export function firstValue(q: ParsedQuery, key: string): string {
  return q.values.get(key)?.[0] ?? '';
}

/** Go's ServeMux cleanPath: path.Clean, rooted, keeping a trailing slash. */
export function cleanPath(p: string): string {
  if (p === '') return '/';
  const rooted = p[0] === '/' ? p : `/${p}`;
  const out: string[] = [];
  for (const seg of rooted.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') out.pop();
    else out.push(seg);
  }
  let cleaned = `/${out.join('/')}`;
  if (rooted.endsWith('/') && cleaned !== '/') cleaned += '/';
  return cleaned;
}

/** Escapes a decoded path for a Location header (Go's URL.EscapedPath, close enough). */
export function escapePath(p: string): string {
  return encodeURI(p).replace(/\?/g, '%3F').replace(/#/g, '%23');
}

/** Splits a request target into the raw (escaped) path and raw query. */
export function splitTarget(target: string): { rawPath: string; rawQuery: string } {
  let t = target;
  // Absolute-form targets (proxies): keep only the path.
  const abs = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\/[^/?#]*/.exec(t);
  if (abs) t = t.slice(abs[0].length) || '/';
  const hash = t.indexOf('#');
  if (hash >= 0) t = t.slice(0, hash);
  const q = t.indexOf('?');
  return q < 0 ? { rawPath: t, rawQuery: '' } : { rawPath: t.slice(0, q), rawQuery: t.slice(q + 1) };
}
