// A small Prometheus text-format reader for assertions: samples with their
// labels, plus TYPE lines. promtool is the strict judge; this only has to read
// what passed it, and it throws on anything it cannot read rather than guess.

export interface Sample {
  name: string;
  labels: Record<string, string>;
  /** The value exactly as written (ints stay exact, e.g. 2^63-1). */
  value: string;
  timestampMs?: number;
}

export interface Exposition {
  samples: Sample[];
  types: Map<string, string>;
  comments: string[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;

function parseLabels(line: string, start: number, lineNo: number): { labels: Record<string, string>; end: number } {
  const labels: Record<string, string> = {};
  let i = start + 1; // past '{'
  for (;;) {
    while (line[i] === ' ' || line[i] === ',') i++;
    if (line[i] === '}') return { labels, end: i + 1 };
    const m = NAME.exec(line.slice(i));
    if (!m) throw new Error(`line ${lineNo}: bad label name at ${i}: ${line}`);
    const key = m[0];
    i += key.length;
    if (line[i] !== '=' || line[i + 1] !== '"') throw new Error(`line ${lineNo}: expected =" after ${key}: ${line}`);
    i += 2;
    let v = '';
    for (;;) {
      const c = line[i];
      if (c === undefined) throw new Error(`line ${lineNo}: unterminated label value: ${line}`);
      if (c === '"') break;
      if (c === '\\') {
        const n = line[i + 1];
        v += n === 'n' ? '\n' : n === '\\' ? '\\' : n === '"' ? '"' : `\\${n ?? ''}`;
        i += 2;
        continue;
      }
      v += c;
      i++;
    }
    if (key in labels) throw new Error(`line ${lineNo}: duplicate label ${key}: ${line}`);
    labels[key] = v;
    i++;
  }
}

export function parseExposition(text: string): Exposition {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  const comments: string[] = [];
  const lines = text.split('\n');
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n] ?? '';
    if (line === '') continue;
    if (line.startsWith('#')) {
      const t = /^# TYPE (\S+) (\S+)$/.exec(line);
      if (t) types.set(t[1] as string, t[2] as string);
      else comments.push(line);
      continue;
    }
    const m = NAME.exec(line);
    if (!m) throw new Error(`line ${n + 1}: no metric name: ${line}`);
    const name = m[0];
    let i = name.length;
    let labels: Record<string, string> = {};
    if (line[i] === '{') ({ labels, end: i } = parseLabels(line, i, n + 1));
    const rest = line.slice(i).trim().split(/\s+/);
    if (rest.length < 1 || rest.length > 2 || rest[0] === '') throw new Error(`line ${n + 1}: bad value part: ${line}`);
    const sample: Sample = { name, labels, value: rest[0] as string };
    if (rest[1] !== undefined) sample.timestampMs = Number(rest[1]);
    samples.push(sample);
  }
  return { samples, types, comments };
}

/** Samples of one metric name whose labels include every given pair. */
export function findSamples(exp: Exposition, name: string, labels: Record<string, string> = {}): Sample[] {
  return exp.samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
}

/** Identity of a series: name plus sorted label pairs (for set comparisons). */
export function seriesKey(name: string, labels: Record<string, string>): string {
  const pairs = Object.keys(labels)
    .sort()
    .map((k) => `${k}=${JSON.stringify(labels[k])}`);
  return `${name}{${pairs.join(',')}}`;
}
