// The fast-path decoder for a registration's canonical Export replies, built from
// the verifier's rules: it knows exactly the definitions and label values the
// verifier would accept, so a reply it decodes is one the verifier can pass, and
// anything else (a lie included) goes the general way to the verifier's verdict.
import { CanonicalSnapshotDecoder, type KnownMetric, type MetricRegistration } from '@org/metricserver-prom-format';
import { rulesFor } from './rules.js';

/** One decoder per registration object (registrations are interned, so one per runsc build). */
const byRegistration = new WeakMap<MetricRegistration, CanonicalSnapshotDecoder>();

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
  const decoder = new CanonicalSnapshotDecoder(known);
  byRegistration.set(registration, decoder);
  return decoder;
}
