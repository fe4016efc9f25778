// Wall clock with nanosecond resolution (Date has milliseconds only): the
// wall time at module load plus the monotonic hrtime elapsed since.
const baseWallNs = BigInt(Date.now()) * 1_000_000n;
const baseHr = process.hrtime.bigint();

/** Nanoseconds since the Unix epoch. */
export function nowNs(): bigint {
  return baseWallNs + (process.hrtime.bigint() - baseHr);
}

const pad2 = (n: number): string => (n < 10 ? `0${n}` : String(n));

/**
 * Go's time.RFC3339Nano in UTC: `2026-11-27T22:48:05.337292709Z`, trailing zeros
 * of the fraction trimmed and no dot at all when it is zero. `offsetMinutes`
 * renders a local offset instead of `Z` (runsc writes createdAt in its local zone).
 */
export function formatRfc3339Nano(ns: bigint, offsetMinutes = 0): string {
  const shifted = ns + BigInt(offsetMinutes) * 60_000_000_000n;
  let secs = shifted / 1_000_000_000n;
  let frac = shifted % 1_000_000_000n;
  if (frac < 0n) {
    frac += 1_000_000_000n;
    secs -= 1n;
  }
  const d = new Date(Number(secs) * 1000);
  let out = `${String(d.getUTCFullYear()).padStart(4, '0')}-${pad2(d.getUTCMonth() + 1)}-${pad2(d.getUTCDate())}T${pad2(
    d.getUTCHours(),
  )}:${pad2(d.getUTCMinutes())}:${pad2(d.getUTCSeconds())}`;
  if (frac !== 0n) out += `.${frac.toString().padStart(9, '0').replace(/0+$/, '')}`;
  if (offsetMinutes === 0) return `${out}Z`;
  const sign = offsetMinutes < 0 ? '-' : '+';
  const abs = Math.abs(offsetMinutes);
  return `${out}${sign}${pad2(Math.floor(abs / 60))}:${pad2(abs % 60)}`;
}
