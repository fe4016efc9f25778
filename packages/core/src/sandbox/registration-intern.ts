// All sandboxes of one runsc build store the same registration: interning the
// decoded MetricRegistration makes them share one object, so its description
// strings and the verifier's rule table (cached per registration object, see
// verifier/rules.ts) exist once per distinct registration, not once per sandbox.
import { createHash } from 'node:crypto';
import type { MetricRegistration } from '@org/metricserver-prom-format';

/** Distinct registrations kept; beyond this (a host with many runsc builds) new ones are not interned. */
export const MAX_INTERNED_REGISTRATIONS = 16;

/**
 * SHA-256 of the canonical text -> the shared decoded object. Keyed
 * by digest, not by the text (~60 KB per registration). Only grown by internRegistration
 * (synchronous).
 */
const interned = new Map<string, MetricRegistration>();

/**
 * The shared object equal to `decoded`, or `decoded` itself once the table is full.
 * The key is the decoded registration's JSON: its shape is fixed by the decoder (int64
 * bucket bounds are the only numbers, so a bigint written as its digits cannot collide).
 * Content-addressed by SHA-256 (a collision is not a practical concern, and the text comes
 * from the state file runsc wrote, not from the sandbox). Once per sandbox load, not per scrape.
 */
export function internRegistration(decoded: MetricRegistration): MetricRegistration {
  const text = JSON.stringify(decoded, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
  const key = createHash('sha256').update(text).digest('base64');
  const hit = interned.get(key);
  if (hit !== undefined) return hit;
  if (interned.size < MAX_INTERNED_REGISTRATIONS) interned.set(key, decoded);
  return decoded;
}
