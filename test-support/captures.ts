// The real runsc captures, one copy each, for every package's tests (what each file is:
// captures/README.md). Tests read them through here, never from outside the repo.
import { readdirSync, readFileSync } from 'node:fs';

/** Where a capture is, e.g. `captureUrl('urpc-calls.txt')`. */
export function captureUrl(name: string): URL {
  return new URL(`./captures/${name}`, import.meta.url);
}

/** A capture's text (UTF-8). */
export function readCapture(name: string): string {
  return readFileSync(captureUrl(name), 'utf8');
}

/** A capture's exact bytes (the wire files are byte-exact replies). */
export function readCaptureBytes(name: string): Buffer {
  return readFileSync(captureUrl(name));
}

/** A containerManager.Event capture (`captures/events/`, see its README) as text. */
export const eventCapture = (name: string): string => readCapture(`events/${name}`);

/** Names of every `events/*.wire.json` capture (exact reply bytes), sorted. */
export function eventCaptureNames(): string[] {
  return readdirSync(captureUrl('events'))
    .filter((n) => n.endsWith('.wire.json'))
    .sort();
}

/** The `<host time> <reply>` lines of an `events/*-series.txt` capture. */
export function eventSeries(name: string): { t: number; reply: string }[] {
  return eventCapture(name)
    .split('\n')
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => {
      const sp = l.indexOf(' ');
      return { t: Number(l.slice(0, sp)), reply: l.slice(sp + 1) };
    });
}
