// Wall-clock readings for stamping and verification, from prom-format's
// nowTimestamp (read fresh every time: sandboxes stamp with the wall clock).

import { addNanos, nowTimestamp, type Timestamp } from '@org/metricserver-prom-format';

/** Now, to the millisecond (exposition timestamps are milliseconds anyway). */
export const wallNow: () => Timestamp = nowTimestamp;

/**
 * The clock the Verifier compares snapshot times with: the current millisecond
 * rounded UP, an upper bound of the real time, so a snapshot stamped with
 * nanoseconds a few microseconds before this reading is never "from the future".
 */
export function verifyNow(): Timestamp {
  return addNanos(nowTimestamp(), 1_000_000);
}
