// The real runsc captures, one copy each, for every package's tests (what each file is:
// captures/README.md). Tests read them through here, never from outside the repo.
import { readFileSync } from 'node:fs';

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
