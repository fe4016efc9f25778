// The real containerManager.Event captures (test-support/captures/events, see its README).
import { readdirSync, readFileSync } from 'node:fs';

const DIR = new URL('../../../../test-support/captures/events/', import.meta.url);

export const eventCapture = (name: string): string => readFileSync(new URL(name, DIR), 'utf8');

/** Every `*.wire.json` capture: file name → exact reply bytes. */
export function eventCaptures(): Map<string, string> {
  const names = readdirSync(DIR).filter((n) => n.endsWith('.wire.json'));
  return new Map(names.sort().map((n) => [n, eventCapture(n)]));
}

/** The `<host time> <reply>` lines of a `*-series.txt` capture. */
export function eventSeries(name: string): { t: number; reply: string }[] {
  return eventCapture(name)
    .split('\n')
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => {
      const sp = l.indexOf(' ');
      return { t: Number(l.slice(0, sp)), reply: l.slice(sp + 1) };
    });
}
