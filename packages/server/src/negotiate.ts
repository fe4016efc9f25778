// Content negotiation for /metrics: the exposition format from `Accept`
// (Prometheus text 0.0.4 or OpenMetrics 1.0.0, q-values honoured) and gzip
// from `Accept-Encoding`. Once per request; a malformed header never fails a
// scrape, it only falls back to plain Prometheus text.

export type ExpositionFormat = 'prometheus' | 'openmetrics';

interface MediaRange {
  readonly type: string; // lower-cased `type/subtype`
  readonly params: ReadonlyMap<string, string>; // lower-cased keys, unquoted values (q removed)
  readonly q: number;
}

/** Parses `a/b;p=v;q=0.5, c/d` leniently: unparsable elements are dropped. */
export function parseAccept(header: string | undefined): MediaRange[] {
  if (header === undefined || header === '') return [];
  const out: MediaRange[] = [];
  for (const element of header.split(',')) {
    const parts = element.split(';');
    const type = parts[0]!.trim().toLowerCase();
    if (!/^[a-z0-9!#$%&'*+.^_`|~-]+\/[a-z0-9!#$%&'*+.^_`|~-]+$/.test(type)) continue;
    const params = new Map<string, string>();
    let q = 1;
    for (let i = 1; i < parts.length; i++) {
      const eq = parts[i]!.indexOf('=');
      if (eq < 0) continue;
      const key = parts[i]!.slice(0, eq).trim().toLowerCase();
      let value = parts[i]!.slice(eq + 1).trim();
      if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
      if (key === 'q') {
        const n = Number(value);
        q = value !== '' && Number.isFinite(n) ? Math.min(1, Math.max(0, n)) : 0;
      } else params.set(key, value);
    }
    out.push({ type, params, q });
  }
  return out;
}

/**
 * OpenMetrics when the client names `application/openmetrics-text` (version
 * 1.0.0 or none) with a q above zero and not below the best q of Prometheus text
 * (`text/plain` with version 0.0.4 or none, `text/*`, `*\/*`). A client that only
 * says `*\/*` gets Prometheus text, as runsc serves it.
 */
export function negotiateFormat(accept: string | undefined): ExpositionFormat {
  let om = 0;
  let text = 0;
  for (const r of parseAccept(accept)) {
    const version = r.params.get('version');
    if (r.type === 'application/openmetrics-text') {
      if (version === undefined || version === '1.0.0') om = Math.max(om, r.q);
    } else if (r.type === 'text/plain') {
      if (version === undefined || version === '0.0.4') text = Math.max(text, r.q);
    } else if (r.type === 'text/*' || r.type === '*/*') {
      text = Math.max(text, r.q);
    }
  }
  return om > 0 && om >= text ? 'openmetrics' : 'prometheus';
}

/** True when `Accept-Encoding` allows gzip (`gzip`, `x-gzip` or `*` with q > 0, and gzip not refused). */
export function acceptsGzip(header: string | undefined): boolean {
  if (header === undefined || header === '') return false;
  let explicit: number | undefined;
  let star: number | undefined;
  for (const element of header.split(',')) {
    const parts = element.split(';');
    const coding = parts[0]!.trim().toLowerCase();
    let q = 1;
    for (let i = 1; i < parts.length; i++) {
      const m = /^\s*q\s*=\s*([0-9.]+)\s*$/i.exec(parts[i]!);
      if (m) q = Number.isFinite(Number(m[1])) ? Number(m[1]) : 0;
    }
    if (coding === 'gzip' || coding === 'x-gzip') explicit = Math.max(explicit ?? 0, q);
    else if (coding === '*') star = Math.max(star ?? 0, q);
  }
  return (explicit ?? star ?? 0) > 0;
}
