// The real containerManager.Event captures of runsc 20240729 (test-support/captures/events, see its README).
import { readdirSync, readFileSync } from 'node:fs';

const DIR = new URL('../../../../test-support/captures/events/', import.meta.url);

/** A capture's exact bytes as text. */
export const eventCapture = (name: string): string => readFileSync(new URL(name, DIR), 'utf8');

/** Names of every `*.wire.json` capture, sorted. */
export const eventCaptureNames = (): string[] =>
  readdirSync(DIR)
    .filter((n) => n.endsWith('.wire.json'))
    .sort();

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
