// The total CPU time of a host cgroup, from its accounting file, parsed as runsc parses it
// (runsc/cgroup `CPUUsage` at release-20240729.0): v1 `cpuacct.usage` holds nanoseconds; v2
// `cpu.stat` holds `key value` lines, of which `usage_usec` counts microseconds.
import { parseUint64, scanLines, trimSpace } from './go-text.js';
import { canonicalUint64, type Uint64 } from './uint64.js';

const UINT64_MOD = 1n << 64n;

/** ns from the text of a v1 `cpuacct.usage` (one decimal uint64, surrounding space allowed); throws otherwise. */
export function parseCpuacctUsage(text: string): Uint64 {
  const s = trimSpace(text);
  const v = parseUint64(s);
  if (v === undefined) throw new Error(`cpuacct.usage is not an unsigned integer: ${JSON.stringify(s.slice(0, 40))}`);
  return v;
}

/**
 * runsc's lenient value parse for v2 files: a uint64, or 0 for any negative decimal (kernels
 * have reported negative memory stats); anything else (`+5`, `-0`, `1.5`, too large) throws.
 */
function parseStatValue(s: string): Uint64 {
  const v = parseUint64(s);
  if (v !== undefined) return v;
  if (/^-[0-9]+$/.test(s) && /[1-9]/.test(s)) return 0;
  throw new Error(`cpu.stat value is not an unsigned integer: ${JSON.stringify(s.slice(0, 40))}`);
}

/**
 * ns from the text of a v2 `cpu.stat`: `usage_usec` × 1000 (wrapping at 2^64, as Go's uint64
 * product does), 0 when there is no such line. Lines are read in order up to `usage_usec`; each
 * must be exactly `key value` with one space, or it throws (an empty line too).
 */
export function parseCpuStatUsage(text: string): Uint64 {
  for (const line of scanLines(text)) {
    const parts = line.split(' ');
    if (parts.length !== 2) throw new Error(`cpu.stat line ${JSON.stringify(line.slice(0, 60))} is not "key value"`);
    const value = parseStatValue(parts[1]!);
    if (parts[0] !== 'usage_usec') continue;
    if (typeof value === 'number' && value <= 9007199254740) return value * 1000;
    return canonicalUint64((BigInt(value) * 1000n) % UINT64_MOD);
  }
  return 0;
}
