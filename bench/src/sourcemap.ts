// Just enough of source maps v3 to say which source file a bundled line/column
// came from (the server bin bundles core and prom-format, so profile URLs alone
// cannot tell the packages apart).
import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const DIGIT = new Map([...B64].map((c, i) => [c, i]));

export interface SourceLookup {
  /** Absolute source path for a 0-based generated line/column, or undefined. */
  sourceOf(line: number, column: number): string | undefined;
}

/** Reads `<file>.map` next to a `file://` URL; undefined when there is none. */
export function loadSourceMap(url: string): SourceLookup | undefined {
  if (!url.startsWith('file://')) return undefined;
  const file = fileURLToPath(url);
  if (!existsSync(`${file}.map`)) return undefined;
  const map = JSON.parse(readFileSync(`${file}.map`, 'utf8')) as {
    sources: string[];
    mappings: string;
    sourceRoot?: string;
  };
  const base = resolve(dirname(file), map.sourceRoot ?? '');
  const sources = map.sources.map((s) => resolve(base, s));
  // Per generated line: [column, sourceIndex] pairs in column order.
  const lines: number[][] = [];
  let src = 0;
  for (const lineText of map.mappings.split(';')) {
    const segs: number[] = [];
    let col = 0;
    for (const seg of lineText.split(',')) {
      if (seg === '') continue;
      const v = decodeVlq(seg);
      col += v[0] ?? 0;
      if (v.length >= 4) {
        src += v[1] ?? 0;
        segs.push(col, src);
      }
      // Fields 3-5 (source line/column/name) are not needed, but the source index is cumulative.
    }
    lines.push(segs);
  }
  return {
    sourceOf(line, column) {
      const segs = lines[line];
      if (!segs || segs.length === 0) return undefined;
      let found = segs[1] as number;
      for (let i = 0; i < segs.length; i += 2) {
        if ((segs[i] as number) > column) break;
        found = segs[i + 1] as number;
      }
      return sources[found];
    },
  };
}

function decodeVlq(seg: string): number[] {
  const out: number[] = [];
  let value = 0;
  let shift = 0;
  for (const c of seg) {
    const d = DIGIT.get(c) ?? 0;
    value += (d & 31) << shift;
    if (d & 32) shift += 5;
    else {
      out.push(value & 1 ? -(value >>> 1) : value >>> 1);
      value = 0;
      shift = 0;
    }
  }
  return out;
}
