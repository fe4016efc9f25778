// The Event reply exactly as runsc encodes it (Go's encoding/json of `boot.EventOut` at
// release-20240729.0: struct order, no whitespace; test-support/captures/events), decoded
// straight from the bytes. Fast path: JSON.parse, the end-of-object scan and the general
// decode were ~40 µs of each reply at N = 1000 (`pnpm bench --profile-resources`).
//
// It accepts a strict subset of what decodeEventResult accepts and returns what that would
// return for the same bytes; anything else (escapes or non-ASCII in a string, 16+ digit or
// non-integer numbers, a field runsc omits when zero but set here, other key spellings, a
// failure reply, duplicate interface names) is declined with undefined, and the caller takes
// the general path, which alone defines the errors. The property test holds it to that
// (test/resources/event-canonical.test.ts).
import type { ContainerEvent, NetworkInterfaceStats } from './event-decode.js';

const ascii = (s: string): Uint8Array => Buffer.from(s, 'latin1');

const PREFIX = ascii('{"success":true,"err":"","result":{"event":{"type":"stats","id":');
const CPU_USAGE = ascii(',"data":{"cpu":{"usage":{');
const KERNEL = ascii('"kernel":');
const USER = ascii('"user":');
const TOTAL = ascii('"total":');
const COMMA = ascii(',');
const MEMORY_USAGE = ascii('}},"memory":{"usage":{');
const LIMIT = ascii('"limit":');
const COMMA_USAGE = ascii(',"usage":');
const COMMA_MAX = ascii(',"max":');
const COMMA_FAILCNT = ascii(',"failcnt":');
const SWAP = ascii('},"swap":{');
const MEMORY_KERNEL = ascii('},"kernel":{');
const KERNEL_TCP = ascii('},"kernelTCP":{');
const PIDS = ascii('}},"pids":{');
const CURRENT = ascii('"current":');
const COMMA_LIMIT = ascii(',"limit":');
const NETWORK = ascii('},"network_interfaces":');
const NULL = ascii('null');
const NIC_NAME = ascii('{"Name":');
const RX_BYTES = ascii(',"RxBytes":');
const RX_PACKETS = ascii(',"RxPackets":');
const RX_ERRORS = ascii(',"RxErrors":');
const RX_DROPPED = ascii(',"RxDropped":');
const TX_BYTES = ascii(',"TxBytes":');
const TX_PACKETS = ascii(',"TxPackets":');
const TX_ERRORS = ascii(',"TxErrors":');
const TX_DROPPED = ascii(',"TxDropped":');
const CONTAINER_USAGE = ascii('}},"containerUsage":');
const END = ascii('}}');

/** Thrown inside the decoder only, caught by decodeCanonicalEvent: the bytes are not runsc's exact encoding. */
const DECLINE = Symbol('decline');

// The reply being read: set and cleared by decodeCanonicalEvent (synchronous, never re-entered).
let b: Buffer = Buffer.alloc(0);
let p = 0;
let end = 0;

function decline(): never {
  throw DECLINE;
}

/** Consumes `x` if the bytes at the cursor are `x`. */
function accept(x: Uint8Array): boolean {
  const n = x.length;
  if (p + n > end) return false;
  for (let i = 0; i < n; i++) if (b[p + i] !== x[i]) return false;
  p += n;
  return true;
}

/** The key `x` of an object's next field (after a comma unless it is the first, `before` = 0). */
function field(x: Uint8Array, before: number): boolean {
  const at = p;
  if (before > 0 && !accept(COMMA)) return false;
  if (accept(x)) return true;
  p = at;
  return false;
}

function expect(x: Uint8Array): void {
  if (!accept(x)) decline();
}

/** A JSON number Go writes for a uint64 below 10^15 (so exactly a JS number); anything else declines. */
function uint(): number {
  if (p >= end) decline();
  let c = b[p]!;
  if (c === 0x30) {
    p++;
    return 0; // a digit after it fails the next expect
  }
  if (c < 0x31 || c > 0x39) decline();
  let v = 0;
  const start = p;
  while (p < end && (c = b[p]!) >= 0x30 && c <= 0x39) {
    v = v * 10 + (c - 0x30);
    p++;
  }
  if (p - start > 15) decline(); // the general path keeps 16+ digits exact
  return v;
}

/** A JSON string of printable ASCII without escapes (what runsc writes for ids and NIC names). */
function str(): string {
  if (p >= end || b[p] !== 0x22) decline();
  const start = ++p;
  while (p < end) {
    const c = b[p]!;
    if (c === 0x22) {
      p++;
      return b.toString('latin1', start, p - 1);
    }
    if (c < 0x20 || c > 0x7e || c === 0x5c) decline();
    p++;
  }
  return decline();
}

// The last memoryEntry's limit and usage (no object per entry: four entries per reply).
let entryLimit = 0;
let entryUsage = 0;

/** A MemoryEntry's fields: `limit`, then `usage` and `max` when not 0, then `failcnt`. */
function memoryEntry(): void {
  expect(LIMIT);
  entryLimit = uint();
  entryUsage = accept(COMMA_USAGE) ? uint() : 0;
  if (accept(COMMA_MAX)) uint();
  expect(COMMA_FAILCNT);
  uint();
}

/** `,"<key>":<uint>` of a NIC (object literal properties are evaluated in order). */
function counter(key: Uint8Array): number {
  expect(key);
  return uint();
}

function nic(): NetworkInterfaceStats {
  expect(NIC_NAME);
  const name = str();
  const nic: NetworkInterfaceStats = {
    name,
    rxBytes: counter(RX_BYTES),
    rxPackets: counter(RX_PACKETS),
    rxErrors: counter(RX_ERRORS),
    rxDropped: counter(RX_DROPPED),
    txBytes: counter(TX_BYTES),
    txPackets: counter(TX_PACKETS),
    txErrors: counter(TX_ERRORS),
    txDropped: counter(TX_DROPPED),
  };
  if (p >= end || b[p] !== 0x7d) decline();
  p++;
  return nic;
}

/** `null`, `[]` or `[nic,...]`, sorted by name as the general decode sorts; a repeated name declines. */
function interfaces(): NetworkInterfaceStats[] {
  if (accept(NULL)) return [];
  if (p >= end || b[p] !== 0x5b) decline();
  p++;
  const out: NetworkInterfaceStats[] = [];
  if (p < end && b[p] === 0x5d) {
    p++;
    return out;
  }
  for (;;) {
    out.push(nic());
    if (p < end && b[p] === 0x2c) p++;
    else break;
  }
  if (p >= end || b[p] !== 0x5d) decline();
  p++;
  if (out.length > 1) {
    out.sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : 0));
    for (let i = 1; i < out.length; i++) if (out[i]!.name === out[i - 1]!.name) decline();
  }
  return out;
}

/** `null` (undefined), `{}` or `{"id":ns,...}` (Go writes map keys sorted; a repeated key's last value wins). */
function containerUsage(): Map<string, number> | undefined {
  if (accept(NULL)) return undefined;
  if (p >= end || b[p] !== 0x7b) decline();
  p++;
  const out = new Map<string, number>();
  if (p < end && b[p] === 0x7d) {
    p++;
    return out;
  }
  for (;;) {
    const id = str();
    if (p >= end || b[p] !== 0x3a) decline();
    p++;
    out.set(id, uint());
    if (p < end && b[p] === 0x2c) p++;
    else break;
  }
  if (p >= end || b[p] !== 0x7d) decline();
  p++;
  return out;
}

function event(): ContainerEvent {
  expect(PREFIX);
  const id = str();
  expect(CPU_USAGE);
  // CPUUsage: kernel, user, total, each omitted when 0; percpu (never seen) declines.
  let cpuTotalNs: number | undefined;
  let fields = 0;
  if (field(KERNEL, fields)) {
    uint();
    fields++;
  }
  if (field(USER, fields)) {
    uint();
    fields++;
  }
  if (field(TOTAL, fields)) cpuTotalNs = uint();
  expect(MEMORY_USAGE);
  memoryEntry();
  const memoryUsageBytes = entryUsage;
  const memoryLimitBytes = entryLimit;
  expect(SWAP);
  memoryEntry();
  expect(MEMORY_KERNEL);
  memoryEntry();
  expect(KERNEL_TCP);
  memoryEntry();
  expect(PIDS);
  let pidsCurrent = 0;
  let pidsLimit = 0;
  if (accept(CURRENT)) {
    pidsCurrent = uint();
    if (accept(COMMA_LIMIT)) pidsLimit = uint();
  } else if (accept(LIMIT)) pidsLimit = uint();
  expect(NETWORK);
  const nics = interfaces();
  expect(CONTAINER_USAGE);
  const usage = containerUsage();
  expect(END);
  if (p !== end) decline();
  return {
    id,
    containerUsage: usage,
    cpuTotalNs,
    memoryUsageBytes,
    memoryLimitBytes,
    pidsCurrent,
    pidsLimit,
    interfaces: nics,
  };
}

/**
 * The event of a reply in runsc's exact encoding, `bytes[0, length)`, or undefined when the
 * bytes are anything else (the general path then decodes them and reports any error).
 */
export function decodeCanonicalEvent(bytes: Buffer, length: number): ContainerEvent | undefined {
  b = bytes;
  p = 0;
  end = length;
  try {
    return event();
  } catch (e) {
    if (e === DECLINE) return undefined;
    throw e;
  } finally {
    b = EMPTY;
  }
}

const EMPTY = Buffer.alloc(0);
