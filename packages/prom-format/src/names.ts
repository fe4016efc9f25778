// Name rules of the text format. Anything else is refused before a byte is written.

/** The part of the exposition's contract about names, thrown by the `assert*` helpers. */
export class InvalidNameError extends Error {
  override readonly name = 'InvalidNameError';
}

/** `[a-zA-Z_:][a-zA-Z0-9_:]*` (char-code loop: no regex state, no allocation). */
export function isValidMetricName(s: string): boolean {
  const n = s.length;
  if (n === 0) return false;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    const ok =
      (c >= 0x61 && c <= 0x7a) ||
      (c >= 0x41 && c <= 0x5a) ||
      c === 0x5f ||
      c === 0x3a ||
      (i > 0 && c >= 0x30 && c <= 0x39);
    if (!ok) return false;
  }
  return true;
}

/** `[a-zA-Z_][a-zA-Z0-9_]*`, not starting with `__` (reserved for Prometheus itself). */
export function isValidLabelName(s: string): boolean {
  const n = s.length;
  if (n === 0) return false;
  if (n >= 2 && s.charCodeAt(0) === 0x5f && s.charCodeAt(1) === 0x5f) return false;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    const ok = (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || c === 0x5f || (i > 0 && c >= 0x30 && c <= 0x39);
    if (!ok) return false;
  }
  return true;
}

export function assertMetricName(s: string): void {
  if (!isValidMetricName(s))
    throw new InvalidNameError(`invalid metric name ${JSON.stringify(s)}: must match [a-zA-Z_:][a-zA-Z0-9_:]*`);
}

export function assertLabelName(s: string): void {
  if (!isValidLabelName(s)) {
    throw new InvalidNameError(
      `invalid label name ${JSON.stringify(s)}: must match [a-zA-Z_][a-zA-Z0-9_]* and not start with "__"`,
    );
  }
}
