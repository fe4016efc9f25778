// Wall-clock readings for stamping and verification. Read fresh every time (a
// clock anchored once at start-up and advanced by the monotonic clock drifts
// from the wall clock after NTP steps, and sandboxes stamp with the wall clock).

import type { Timestamp } from '@org/metricserver-prom-format';

function fromMillis(ms: number): Timestamp {
  const seconds = Math.floor(ms / 1000);
  return { seconds, nanos: (ms - seconds * 1000) * 1e6 };
}

/** Now, to the millisecond (exposition timestamps are milliseconds anyway). */
export function wallNow(): Timestamp {
  return fromMillis(Date.now());
}

/**
 * The clock the Verifier compares snapshot times with: the current millisecond
 * rounded UP, an upper bound of the real time, so a snapshot stamped with
 * nanoseconds a few microseconds before this reading is never "from the future".
 */
export function verifyNow(): Timestamp {
  return fromMillis(Date.now() + 1);
}
