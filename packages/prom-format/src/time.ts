// Nanosecond timestamps: RFC 3339 parsing (Go's time.Time JSON form), Go's
// time.String() rendering (comment lines, iteration hashes) and clock helpers.
import type { Timestamp } from './model.js';

/** A string that is not an RFC 3339 timestamp the Go decoder would accept. */
export class TimestampError extends Error {
  override readonly name = 'TimestampError';
}

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:(Z)|([+-])(\d{2}):(\d{2}))$/;
const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const NANO_SCALE = [1e9, 1e8, 1e7, 1e6, 1e5, 1e4, 1e3, 100, 10, 1];

function isLeap(y: number): boolean {
  return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
}

/** Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm). */
function daysFromCivil(y: number, m: number, d: number): number {
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

function civilFromDays(z0: number): [number, number, number] {
  const z = z0 + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  return [yoe + era * 400 + (m <= 2 ? 1 : 0), m, d];
}

/**
 * Parses `YYYY-MM-DDThh:mm:ss[.f{1,9}](Z|±hh:mm)` into UTC seconds + nanos.
 * Field ranges are checked as Go does (no leap second 60, real month lengths).
 */
export function parseRfc3339(text: string): Timestamp {
  const m = RFC3339.exec(text);
  if (m === null) throw new TimestampError(`not an RFC 3339 timestamp: ${JSON.stringify(text.slice(0, 64))}`);
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  const hour = Number(m[4]);
  const min = Number(m[5]);
  const sec = Number(m[6]);
  if (month < 1 || month > 12) throw new TimestampError(`month out of range in ${JSON.stringify(text)}`);
  const dim = month === 2 && isLeap(year) ? 29 : DAYS_IN_MONTH[month - 1]!;
  if (day < 1 || day > dim) throw new TimestampError(`day out of range in ${JSON.stringify(text)}`);
  if (hour > 23 || min > 59 || sec > 59)
    throw new TimestampError(`time of day out of range in ${JSON.stringify(text)}`);
  let offset = 0;
  if (m[8] === undefined) {
    const oh = Number(m[10]);
    const om = Number(m[11]);
    if (oh > 23 || om > 59) throw new TimestampError(`zone offset out of range in ${JSON.stringify(text)}`);
    offset = (oh * 60 + om) * 60 * (m[9] === '-' ? -1 : 1);
  }
  const frac = m[7];
  const nanos = frac === undefined ? 0 : Number(frac) * NANO_SCALE[frac.length]!;
  const seconds = daysFromCivil(year, month, day) * 86400 + hour * 3600 + min * 60 + sec - offset;
  return { seconds, nanos };
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

/**
 * The date and time of day of the last formatGoTime call: a scrape formats a header line
 * per sandbox, nearly all within the same second or two.
 */
let lastSeconds = Number.NaN;
let lastDateTime = '';

/** Go's `time.Time.String()` of the instant in UTC: `2026-11-27 22:45:02.272446868 +0000 UTC`. */
export function formatGoTime(ts: Timestamp): string {
  if (ts.seconds !== lastSeconds) {
    const days = Math.floor(ts.seconds / 86400);
    const sod = ts.seconds - days * 86400;
    const [y, mo, d] = civilFromDays(days);
    lastDateTime =
      `${y < 0 ? `-${pad(-y, 4)}` : pad(y, 4)}-${pad(mo, 2)}-${pad(d, 2)} ` +
      `${pad(Math.floor(sod / 3600), 2)}:${pad(Math.floor(sod / 60) % 60, 2)}:${pad(sod % 60, 2)}`;
    lastSeconds = ts.seconds;
  }
  if (ts.nanos === 0) return `${lastDateTime} +0000 UTC`;
  // Go prints the fraction without trailing zeros.
  let nanos = ts.nanos;
  let width = 9;
  while (nanos % 10 === 0) {
    nanos /= 10;
    width--;
  }
  return `${lastDateTime}.${pad(nanos, width)} +0000 UTC`;
}

/** Unix milliseconds, rounded down (also before 1970), as the exposition prints them (0.0.4). */
export function timestampMillis(ts: Timestamp): number {
  return ts.seconds * 1000 + Math.floor(ts.nanos / 1e6);
}

/** -1, 0 or 1 with nanosecond precision. */
export function compareTimestamps(a: Timestamp, b: Timestamp): -1 | 0 | 1 {
  if (a.seconds !== b.seconds) return a.seconds < b.seconds ? -1 : 1;
  if (a.nanos !== b.nanos) return a.nanos < b.nanos ? -1 : 1;
  return 0;
}

/** A JS Date (millisecond precision) as a Timestamp. */
export function timestampFromDate(d: Date): Timestamp {
  const ms = d.getTime();
  if (!Number.isFinite(ms)) throw new TimestampError('invalid Date');
  const seconds = Math.floor(ms / 1000);
  return { seconds, nanos: (ms - seconds * 1000) * 1e6 };
}

/**
 * The wall clock, read fresh on every call (millisecond resolution). Sandboxes
 * stamp snapshots with their wall clock, so a clock anchored once and advanced by
 * the monotonic clock would drift from theirs after an NTP step and make honest
 * snapshots look "from the future".
 */
export function nowTimestamp(): Timestamp {
  const ms = Date.now();
  const seconds = Math.floor(ms / 1000);
  return { seconds, nanos: (ms - seconds * 1000) * 1e6 };
}

/** Adds a (possibly negative) number of nanoseconds. */
export function addNanos(ts: Timestamp, nanos: number): Timestamp {
  const total = ts.nanos + nanos;
  const carry = Math.floor(total / 1e9);
  return { seconds: ts.seconds + carry, nanos: total - carry * 1e9 };
}
