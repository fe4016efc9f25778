// The `iteration` label: tells apart successive sandboxes that reuse one ID.
import { createHash } from 'node:crypto';
import { goUtcString, parseRfc3339Local, type Timestamp } from '../discovery/time.js';

/**
 * base36(u64be(sha256(`<sandboxId>:<Go time.String() of createdAt in UTC>`)[0:8])), lowercase,
 * unpadded, as runsc computes it. `createdAt` is the state file's RFC 3339 text or its instant.
 */
export function iterationId(sandboxId: string, createdAt: string | Timestamp): string {
  const when = typeof createdAt === 'string' ? parseRfc3339Local(createdAt) : createdAt;
  if (when === undefined) throw new RangeError(`not an RFC 3339 timestamp: ${JSON.stringify(createdAt)}`);
  const digest = createHash('sha256').update(`${sandboxId}:${goUtcString(when)}`).digest();
  return digest.readBigUInt64BE(0).toString(36);
}
