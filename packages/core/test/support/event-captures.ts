// The real containerManager.Event captures of runsc 20240729 (test-support/captures/events, see its README).
import { readdirSync } from 'node:fs';
import { captureUrl, readCapture } from '../../../../test-support/captures.js';

/** A capture's exact bytes as text. */
export const eventCapture = (name: string): string => readCapture(`events/${name}`);

/** Names of every `*.wire.json` capture, sorted. */
export const eventCaptureNames = (): string[] =>
  readdirSync(captureUrl('events'))
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
