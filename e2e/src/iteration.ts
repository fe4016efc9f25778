// The `iteration` label, computed here independently of core: SHA-256 of
// "<sandbox id>:<createdAt in Go's default time format, UTC>", first 8 bytes
// big-endian, base 36 lowercase.
import { createHash } from 'node:crypto';

const RFC3339 = /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$/;

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

/** Go's time.Time.String() of an RFC 3339 instant, converted to UTC. */
export function goUtcString(rfc3339: string): string {
  const m = RFC3339.exec(rfc3339);
  if (!m) throw new Error(`not an RFC 3339 timestamp: ${rfc3339}`);
  const [, y, mo, d, h, mi, s, frac = '', zone] = m;
  let offsetMin = 0;
  if (zone !== 'Z') {
    const sign = zone?.startsWith('-') ? -1 : 1;
    offsetMin = sign * (Number(zone?.slice(1, 3)) * 60 + Number(zone?.slice(4, 6)));
  }
  const ms = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s)) - offsetMin * 60_000;
  const t = new Date(ms);
  const fraction = frac.padEnd(9, '0').replace(/0+$/, '');
  return (
    `${t.getUTCFullYear()}-${pad(t.getUTCMonth() + 1)}-${pad(t.getUTCDate())} ` +
    `${pad(t.getUTCHours())}:${pad(t.getUTCMinutes())}:${pad(t.getUTCSeconds())}` +
    `${fraction ? `.${fraction}` : ''} +0000 UTC`
  );
}

export function expectedIteration(sandboxId: string, createdAt: string): string {
  const digest = createHash('sha256')
    .update(`${sandboxId}:${goUtcString(createdAt)}`, 'ascii')
    .digest();
  return digest.readBigUInt64BE(0).toString(36);
}
