// The few Go standard-library text and path functions that runsc's cgroup lookup relies on,
// reimplemented from their documented behaviour (Linux, `/` separator), so the port resolves
// exactly the paths runsc resolves. Node's `path.posix` differs in the corners that matter
// here: `normalize` keeps a trailing slash, `dirname('/a/b/')` is `/a` (Go's Dir gives
// `/a/b`), and `relative` resolves relative paths against the working directory.

/** unicode.IsSpace: what strings.TrimSpace and strings.Fields cut (JS `\s` also takes U+FEFF, Go does not). */
const GO_SPACE = '\\t\\n\\v\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const TRIM = new RegExp(`^[${GO_SPACE}]+|[${GO_SPACE}]+$`, 'g');
const FIELD_SEPARATOR = new RegExp(`[${GO_SPACE}]+`);

/** strings.TrimSpace. */
export function trimSpace(s: string): string {
  return s.replace(TRIM, '');
}

/** strings.Fields: the runs of non-space characters. */
export function fields(s: string): string[] {
  const t = trimSpace(s);
  return t === '' ? [] : t.split(FIELD_SEPARATOR);
}

/**
 * The lines bufio.Scanner's ScanLines yields: split at `\n`, one trailing `\r` dropped per line,
 * no empty token after a final newline. (Its 64 KiB token limit is not modelled: no cgroup file
 * or mount table line comes near it.)
 */
export function scanLines(text: string): string[] {
  if (text === '') return [];
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!;
    if (l.endsWith('\r')) lines[i] = l.slice(0, -1);
  }
  return lines;
}

/** filepath.Clean: the shortest equivalent path, lexically (`""` is `.`; no trailing slash but for `/`). */
export function clean(path: string): string {
  if (path === '') return '.';
  const rooted = path.startsWith('/');
  const out: string[] = [];
  for (const e of path.split('/')) {
    if (e === '' || e === '.') continue;
    if (e === '..') {
      if (out.length > 0 && out[out.length - 1] !== '..') out.pop();
      else if (!rooted) out.push('..');
      continue;
    }
    out.push(e);
  }
  const joined = out.join('/');
  if (rooted) return `/${joined}`;
  return joined === '' ? '.' : joined;
}

/** filepath.Join: the non-empty elements joined by `/` and cleaned; `""` when all are empty. */
export function join(...elems: string[]): string {
  const parts = elems.filter((e) => e !== '');
  return parts.length === 0 ? '' : clean(parts.join('/'));
}

/** filepath.Dir: everything up to the last `/`, cleaned (`"sb"` gives `.`, `"/sb"` gives `/`). */
export function dir(path: string): string {
  return clean(path.slice(0, path.lastIndexOf('/') + 1));
}

/**
 * filepath.Rel: `target` relative to `base`, lexically; an Error where Go returns one (one path
 * absolute and the other not, or a base that would need to climb out of a `..`).
 */
export function rel(base: string, target: string): string {
  let b = clean(base);
  const t = clean(target);
  if (b === t) return '.';
  if (b === '.') b = '';
  if (b.startsWith('/') !== t.startsWith('/')) {
    throw new Error(`Rel: can't make ${target} relative to ${base}`);
  }
  const elems = (p: string): string[] => {
    const s = p.startsWith('/') ? p.slice(1) : p;
    return s === '' ? [] : s.split('/');
  };
  const bs = elems(b);
  const ts = elems(t);
  let i = 0;
  while (i < bs.length && i < ts.length && bs[i] === ts[i]) i++;
  if (bs[i] === '..') throw new Error(`Rel: can't make ${target} relative to ${base}`);
  const up = bs.slice(i).map(() => '..');
  const down = ts.slice(i);
  return [...up, ...down].join('/');
}

/**
 * strconv.ParseUint(s, 10, 64): decimal digits only (no sign, no underscores, no spaces), at
 * most 2^64-1. A number while it is safe, a bigint beyond; undefined where Go returns an error.
 */
export function parseUint64(s: string): number | bigint | undefined {
  if (!/^[0-9]+$/.test(s)) return undefined;
  if (s.length <= 15) return Number(s);
  const v = BigInt(s);
  if (v > 18446744073709551615n) return undefined;
  return v <= 9007199254740991n ? Number(v) : v;
}
