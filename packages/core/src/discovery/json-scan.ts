// Byte-level walking of the compact JSON runsc writes (Go's encoding/json: no
// whitespace), without building values: enough to find where a value starts and ends.
// Anything it does not expect answers -1, and the caller parses the whole text instead.

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const COMMA = 0x2c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;

/** The offset after the string starting at `i` (its opening quote), or -1. */
export function skipString(b: Uint8Array, i: number): number {
  if (b[i] !== QUOTE) return -1;
  for (let j = i + 1; j < b.length; j++) {
    const c = b[j];
    if (c === QUOTE) return j + 1;
    if (c === BACKSLASH) j++;
  }
  return -1;
}

/** The offset after the value starting at `i`, or -1. Strings are skipped whole, so their brackets never count. */
export function skipValue(b: Uint8Array, i: number): number {
  const first = b[i];
  if (first === QUOTE) return skipString(b, i);
  if (first !== OPEN_BRACE && first !== OPEN_BRACKET) {
    // A number, true, false or null: up to the next delimiter.
    let j = i;
    while (j < b.length && b[j] !== COMMA && b[j] !== CLOSE_BRACE && b[j] !== CLOSE_BRACKET) j++;
    return j > i ? j : -1;
  }
  let depth = 0;
  for (let j = i; j < b.length; j++) {
    const c = b[j];
    if (c === QUOTE) {
      j = skipString(b, j) - 1;
      if (j < 0) return -1;
    } else if (c === OPEN_BRACE || c === OPEN_BRACKET) depth++;
    else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      if (--depth === 0) return j + 1;
    }
  }
  return -1;
}

/** True when bytes[at, at + lit.length) equal `lit`. */
export function bytesAt(b: Uint8Array, at: number, lit: Uint8Array): boolean {
  if (at + lit.length > b.length) return false;
  for (let k = 0; k < lit.length; k++) if (b[at + k] !== lit[k]) return false;
  return true;
}

/**
 * Where the value of `key` starts in the object at `i`, looked up among its own keys only
 * (nested objects are skipped whole); -1 when the object has no such key written plainly.
 */
export function valueOfKey(b: Uint8Array, i: number, key: Uint8Array): number {
  if (b[i] !== OPEN_BRACE) return -1;
  let j = i + 1;
  if (b[j] === CLOSE_BRACE) return -1;
  for (;;) {
    const keyEnd = skipString(b, j);
    if (keyEnd < 0 || b[keyEnd] !== COLON) return -1;
    const valueAt = keyEnd + 1;
    if (keyEnd - j === key.length && bytesAt(b, j, key)) return valueAt;
    const next = skipValue(b, valueAt);
    if (next < 0) return -1;
    if (b[next] === COMMA) j = next + 1;
    else return -1; // `}`: not found; anything else: not JSON as runsc writes it
  }
}

const SANDBOX_KEY = Buffer.from('"sandbox"', 'latin1');
const REGISTERED_METRICS_KEY = Buffer.from('"registeredMetrics"', 'latin1');

/**
 * Where `sandbox.registeredMetrics`'s value starts in a state file's bytes (by the object
 * structure, so a key of that name inside the spec's annotations is not mistaken for it),
 * or -1.
 */
export function registrationValueAt(b: Uint8Array): number {
  const sandbox = valueOfKey(b, 0, SANDBOX_KEY);
  return sandbox < 0 ? -1 : valueOfKey(b, sandbox, REGISTERED_METRICS_KEY);
}
