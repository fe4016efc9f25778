// Lying data: snapshots that are well-formed JSON but break the rules a metric
// server must enforce. The registration of a lying sandbox stays honest; the lie
// is only in what Metrics.Export returns.
export const LIES = [
  'unregistered-metric',
  'wrong-type',
  'unregistered-label',
  'unregistered-label-value',
  'duplicate-series',
  'counter-decrease',
  'int-float-switch',
  'timestamp-old',
  'timestamp-future',
  'nan-counter',
  'inf-counter',
  'histogram-mismatch',
  'label-escape',
  'claim-labels',
  'claim-external-labels',
  'meta-imitation',
  'ignore-filter',
] as const;
export type LieName = (typeof LIES)[number];

export function isLie(name: string): name is LieName {
  return (LIES as readonly string[]).includes(name);
}

/** How far `timestamp-old` / `timestamp-future` move `when` (the Go verifier allows 10 s of age). */
export const TIMESTAMP_SKEW_NS = 60_000_000_000n;
