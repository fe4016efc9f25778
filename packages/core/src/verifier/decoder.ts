// The fast-path decoder for a registration's canonical Export replies, built from
// the verifier's rules: it knows exactly the definitions and label values the
// verifier would accept, so a reply it decodes is one the verifier can pass, and
// anything else (a lie included) goes the general way to the verifier's verdict.
import {
  CanonicalSnapshotDecoder,
  type KnownMetric,
  type Metric,
  type MetricRegistration,
} from '@org/metricserver-prom-format';
import { type MetricRule, rulesFor } from './rules.js';

/**
 * One decoder per rule table. Tables are shared by registrations that list the same
 * metrics in any order (rules.ts: runsc's order differs per sandbox process), so the
 * decoder is too, and its definitions and label values are the very strings its table
 * holds: the verifier's lookups and compares on every point meet the same objects.
 * A decoder holds a table entry per allowed label value (~1 MB for runsc's registration).
 */
const byRules = new WeakMap<ReadonlyMap<string, MetricRule>, CanonicalSnapshotDecoder>();

/**
 * The metric of every point the decoder of a rule table decodes: frozen, so the decoder
 * shares it as is, and linked to its rule (a non-enumerable property), so the verifier of
 * that table needs no lookup by name for it (Verifier.verify, with CanonicalSnapshot.madeBy).
 */
export interface DecodedMetric extends Metric {
  readonly rule: MetricRule;
}

/** The decoder already built for `rules`, if any (does not build one). */
export function decoderBuiltFor(rules: ReadonlyMap<string, MetricRule>): CanonicalSnapshotDecoder | undefined {
  return byRules.get(rules);
}

/**
 * The shared, immutable decoder of `registration`'s counters and gauges with at
 * most one field (histograms and multi-field metrics take the general path).
 * Throws RegistrationError like `new Verifier(registration)`.
 */
export function snapshotDecoderFor(registration: MetricRegistration): CanonicalSnapshotDecoder {
  const rules = rulesFor(registration);
  const cached = byRules.get(rules);
  if (cached !== undefined) return cached;
  const known: KnownMetric[] = [];
  for (const rule of rules.values()) {
    if (rule.kind === 'histogram' || rule.fields.length > 1) continue;
    const field = rule.fields[0];
    // `rule` not enumerable: the metric still reads (and compares, and serialises) as a plain Metric.
    const metric = Object.freeze(
      Object.defineProperty({ name: rule.name, type: rule.type, help: rule.help }, 'rule', {
        value: rule,
        enumerable: false,
      }),
    ) as DecodedMetric;
    known.push(
      field === undefined
        ? { metric }
        : { metric, field: { name: field.name, allowedValues: [...field.allowed.keys()] } },
    );
  }
  const decoder = new CanonicalSnapshotDecoder(known);
  byRules.set(rules, decoder);
  return decoder;
}
