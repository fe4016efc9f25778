// A strict OpenMetrics 1.0 text parser for tests. promtool 2.42's `check metrics`
// only reads the Prometheus 0.0.4 text format (it rejects float timestamps), so
// OpenMetrics output is judged here against the spec's ABNF and its semantic
// rules for the types we emit (counter, gauge, unknown, histogram).

export interface OmSample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
  readonly timestamp: number | undefined;
}

export interface OmFamily {
  readonly name: string;
  readonly type: string;
  readonly help: string | undefined;
  readonly unit: string | undefined;
  readonly samples: OmSample[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'gaugehistogram', 'stateset', 'info', 'summary', 'unknown']);
const NUMBER = /^[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|[Ii][Nn][Ff](?:[Ii][Nn][Ii][Tt][Yy])?|NaN)$/;
const SUFFIXES: Record<string, readonly string[]> = {
  counter: ['_total', '_created'],
  gauge: [''],
  unknown: [''],
  histogram: ['_bucket', '_sum', '_count', '_created'],
};

export class OpenMetricsError extends Error {
  override readonly name = 'OpenMetricsError';
}

/** Parses `text` or throws an OpenMetricsError naming the line and the rule broken. */
export function parseOpenMetrics(text: string): OmFamily[] {
  if (!text.endsWith('# EOF\n') && !text.endsWith('# EOF'))
    throw new OpenMetricsError('the exposition must end with "# EOF"');
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const families: OmFamily[] = [];
  const seenFamilies = new Set<string>();
  let cur: (OmFamily & { seen: Set<string>; sampled: boolean; meta: Set<string> }) | undefined;
  const fail = (i: number, why: string): never => {
    throw new OpenMetricsError(`line ${i + 1}: ${why}: ${JSON.stringify(lines[i])}`);
  };
  const open = (i: number, name: string, type: string): NonNullable<typeof cur> => {
    if (seenFamilies.has(name)) fail(i, `metric family ${name} appears twice (families must not be interleaved)`);
    seenFamilies.add(name);
    const f = {
      name,
      type,
      help: undefined,
      unit: undefined,
      samples: [],
      seen: new Set<string>(),
      sampled: false,
      meta: new Set<string>(),
    };
    families.push(f);
    return f;
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line === '# EOF') {
      if (i !== lines.length - 1) fail(i, '"# EOF" must be the last line');
      break;
    }
    if (line === '') fail(i, 'blank lines are not allowed');
    if (line.startsWith('#')) {
      const m = /^# (HELP|TYPE|UNIT) ([^ ]+)(?: (.*))?$/.exec(line);
      if (!m) fail(i, 'the only comments allowed are # HELP, # TYPE, # UNIT and # EOF');
      const [, kind, name, rest] = m as unknown as [string, string, string, string | undefined];
      if (!NAME.test(name)) fail(i, 'invalid metric family name');
      if (cur === undefined || cur.name !== name) cur = open(i, name, 'unknown');
      if (cur.sampled) fail(i, 'metadata after samples of the family');
      if (cur.meta.has(kind)) fail(i, `second # ${kind} for the family`);
      cur.meta.add(kind);
      if (kind === 'TYPE') {
        if (rest === undefined || !TYPES.has(rest)) fail(i, 'unknown type');
        (cur as { type: string }).type = rest!;
      } else if (kind === 'HELP') {
        (cur as { help: string | undefined }).help = unescapeValue(rest ?? '', i, fail, false);
      } else {
        (cur as { unit: string | undefined }).unit = rest ?? '';
      }
      continue;
    }
    const s = parseSample(line, i, fail);
    if (cur === undefined || !belongs(cur, s.name)) cur = open(i, s.name, 'unknown');
    cur.sampled = true;
    const key = `${s.name}${JSON.stringify(Object.entries(s.labels).sort())}`;
    if (cur.seen.has(key)) fail(i, 'duplicate sample (same name and labels) in the family');
    cur.seen.add(key);
    if (cur.type === 'counter' && s.name.endsWith('_total') && (Number.isNaN(s.value) || s.value < 0))
      fail(i, 'a counter total must be a non-negative number');
    if (cur.type === 'histogram' && s.name === `${cur.name}_bucket` && s.labels.le === undefined)
      fail(i, 'a bucket without le');
    if (cur.type === 'histogram' && s.name !== `${cur.name}_bucket` && s.labels.le !== undefined)
      fail(i, 'le outside a bucket');
    if (s.timestamp !== undefined && s.timestamp > 1e11)
      fail(i, 'timestamp looks like milliseconds; OpenMetrics timestamps are seconds');
    cur.samples.push(s);
  }
  for (const f of families) if (f.type === 'histogram') checkHistogram(f);
  return families;
}

function belongs(f: OmFamily, sample: string): boolean {
  const suffixes = SUFFIXES[f.type] ?? [''];
  return suffixes.some((x) => sample === f.name + x);
}

function checkHistogram(f: OmFamily): void {
  const groups = new Map<string, { bounds: number[]; counts: number[]; count?: number }>();
  const keyOf = (labels: Readonly<Record<string, string>>): string =>
    JSON.stringify(
      Object.entries(labels)
        .filter(([k]) => k !== 'le')
        .sort(),
    );
  for (const s of f.samples) {
    const k = keyOf(s.labels);
    let g = groups.get(k);
    if (!g) groups.set(k, (g = { bounds: [], counts: [] }));
    if (s.name === `${f.name}_bucket`) {
      const le = s.labels.le!;
      if (!NUMBER.test(le)) throw new OpenMetricsError(`${f.name}: le=${JSON.stringify(le)} is not a number`);
      g.bounds.push(Number(le.replace(/^\+?Inf$/i, 'Infinity').replace(/^-Inf$/i, '-Infinity')));
      g.counts.push(s.value);
    } else if (s.name === `${f.name}_count`) g.count = s.value;
  }
  for (const [k, g] of groups) {
    if (g.bounds.length === 0) throw new OpenMetricsError(`${f.name}${k}: a histogram needs buckets`);
    if (g.bounds[g.bounds.length - 1] !== Infinity)
      throw new OpenMetricsError(`${f.name}${k}: the last bucket must be le="+Inf"`);
    for (let i = 1; i < g.bounds.length; i++) {
      if (!(g.bounds[i]! > g.bounds[i - 1]!)) throw new OpenMetricsError(`${f.name}${k}: bucket bounds must increase`);
      if (g.counts[i]! < g.counts[i - 1]!)
        throw new OpenMetricsError(`${f.name}${k}: bucket counts must be cumulative`);
    }
    if (g.count !== undefined && g.count !== g.counts[g.counts.length - 1]) {
      throw new OpenMetricsError(`${f.name}${k}: _count must equal the +Inf bucket`);
    }
  }
}

function parseSample(line: string, i: number, fail: (i: number, why: string) => never): OmSample {
  const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)/.exec(line);
  if (!m) fail(i, 'invalid metric name');
  const name = m![1]!;
  let p = name.length;
  const labels: Record<string, string> = {};
  if (line.startsWith('{}', p)) p += 2;
  else if (line[p] === '{') {
    p++;
    for (;;) {
      const lm = /^([a-zA-Z_][a-zA-Z0-9_]*)="/.exec(line.slice(p));
      if (!lm || !LABEL_NAME.test(lm[1]!)) fail(i, 'invalid label');
      const key = lm![1]!;
      p += lm![0].length;
      let raw = '';
      while (p < line.length && line[p] !== '"') {
        if (line[p] === '\\') {
          raw += line.slice(p, p + 2);
          p += 2;
        } else raw += line[p++];
      }
      if (line[p] !== '"') fail(i, 'unterminated label value');
      p++;
      if (Object.hasOwn(labels, key)) fail(i, `label ${key} twice`);
      labels[key] = unescapeValue(raw, i, fail, true);
      if (line[p] === ',') {
        p++;
        if (line[p] === '}') fail(i, 'trailing comma in labels');
        continue;
      }
      if (line[p] === '}') {
        p++;
        break;
      }
      fail(i, 'expected , or } after a label');
    }
  }
  if (line[p] !== ' ') fail(i, 'expected one space before the value');
  const rest = line.slice(p + 1).split(' ');
  if (rest.length > 2 || rest.some((x) => x === '')) fail(i, 'expected "value [timestamp]" separated by single spaces');
  if (!NUMBER.test(rest[0]!)) fail(i, `invalid value ${JSON.stringify(rest[0])}`);
  if (rest[1] !== undefined && !NUMBER.test(rest[1])) fail(i, `invalid timestamp ${JSON.stringify(rest[1])}`);
  const num = (s: string): number => (/^[+-]?inf/i.test(s) ? (s.startsWith('-') ? -Infinity : Infinity) : Number(s));
  return { name, labels, value: num(rest[0]!), timestamp: rest[1] === undefined ? undefined : num(rest[1]) };
}

/** OpenMetrics escapes: `\\`, `\"`, `\n` only; a raw `"` is not allowed in HELP either. */
function unescapeValue(s: string, i: number, fail: (i: number, why: string) => never, label: boolean): string {
  let out = '';
  for (let p = 0; p < s.length; p++) {
    const c = s[p]!;
    if (c === '\\') {
      const n = s[++p];
      if (n === '\\') out += '\\';
      else if (n === '"') out += '"';
      else if (n === 'n') out += '\n';
      else fail(i, `invalid escape \\${n ?? ''}`);
    } else if (c === '"') {
      fail(i, label ? 'unescaped quote in a label value' : 'unescaped quote in HELP');
    } else out += c;
  }
  return out;
}

/** Throws with the parser's words when `text` is not valid OpenMetrics. */
export function expectValidOpenMetrics(text: string | Buffer): OmFamily[] {
  const s = String(text);
  try {
    return parseOpenMetrics(s);
  } catch (e) {
    throw new Error(`invalid OpenMetrics: ${(e as Error).message}\n--- first bytes ---\n${s.slice(0, 2000)}`);
  }
}
