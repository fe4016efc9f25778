// The fast-path decoder for a registration's canonical Export replies, built from
// the verifier's rules: it knows exactly the definitions and label values the
// verifier would accept, so a reply it decodes is one the verifier can pass, and
// anything else (a lie included) goes the general way to the verifier's verdict.
import { CanonicalSnapshotDecoder, type KnownMetric, type MetricRegistration } from '@org/metricserver-prom-format';
import { rulesFor } from './rules.js';

/** One decoder per registration object (registrations are interned, so one per runsc build). */
const byRegistration = new WeakMap<MetricRegistration, CanonicalSnapshotDecoder>();

/**
 * Decoders by what they know, whatever the registration's order: runsc lists the same
 * metrics in a different order from one sandbox process to the next, and interning
 * (by exact JSON) keeps each order apart, while a decoder only matches definitions and
 * label values by their bytes. A decoder holds a table entry per allowed label value
 * (~1 MB for runsc's registration), so equal sets share one. Bounded like interning.
 */
const byKnownSet = new Map<string, CanonicalSnapshotDecoder>();
const MAX_SHARED_DECODERS = 16;

/**
 * The shared, immutable decoder of `registration`'s counters and gauges with at
 * most one field (histograms and multi-field metrics take the general path).
 * Throws RegistrationError like `new Verifier(registration)`.
 */
export function snapshotDecoderFor(registration: MetricRegistration): CanonicalSnapshotDecoder {
  const cached = byRegistration.get(registration);
  if (cached !== undefined) return cached;
  const known: KnownMetric[] = [];
  for (const rule of rulesFor(registration).values()) {
    if (rule.kind === 'histogram' || rule.fields.length > 1) continue;
    const field = rule.fields[0];
    const metric = { name: rule.name, type: rule.type, help: rule.help };
    known.push(field === undefined ? { metric } : { metric, field: { name: field.name, allowedValues: [...field.allowed.keys()] } });
  }
  const key = knownSetKey(known);
  let decoder = byKnownSet.get(key);
  if (decoder === undefined) {
    decoder = new CanonicalSnapshotDecoder(known);
    if (byKnownSet.size < MAX_SHARED_DECODERS) byKnownSet.set(key, decoder);
  }
  byRegistration.set(registration, decoder);
  return decoder;
}

/** The same text for the same definitions and label values in any order. */
function knownSetKey(known: readonly KnownMetric[]): string {
  const parts = known.map((k) =>
    JSON.stringify([k.metric.name, k.metric.type, k.metric.help, k.field?.name ?? null, k.field === undefined ? null : [...k.field.allowedValues].sort()]),
  );
  return parts.sort().join('\n');
}
