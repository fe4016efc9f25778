// The `iteration` label: tells apart successive sandboxes that reuse one ID.
import { createHash } from 'node:crypto';
import { formatGoTime, parseRfc3339, type Timestamp } from '@org/metricserver-prom-format';

/**
 * base36(u64be(sha256(`<sandboxId>:<Go time.String() of createdAt in UTC>`)[0:8])), lowercase,
 * unpadded, as runsc computes it. Throws prom-format's `TimestampError` on a malformed string.
 * `createdAt` is the state file's RFC 3339 text or its instant.
 */
export function iterationId(sandboxId: string, createdAt: string | Timestamp): string {
  const when = typeof createdAt === 'string' ? parseRfc3339(createdAt) : createdAt;
  const digest = createHash('sha256')
    .update(`${sandboxId}:${formatGoTime(when)}`)
    .digest();
  return digest.readBigUInt64BE(0).toString(36);
}
