// The result of `containerManager.Event` (runsc `boot.EventOut` at release-20240729.0), decoded
// strictly into a plain typed object. Real replies: test-support/captures/events (README).
//
// Decoding follows Go's encoding/json, as runsc's own client decodes the reply: keys match
// case-insensitively (exact spelling first), unknown keys are ignored (a newer runsc may add
// fields; the values we serve are all checked), null leaves a field at zero, a later duplicate
// key wins. Every field Go would decode is type-checked, also those not kept (`max`,
// `failcnt`, `percpu`, `raw`...): a wrong type there fails Go's decode too. Stricter than Go:
// `event.type` must be "stats", interface entries must not be null and their names unique.
// Every problem is a prom-format DecodeError naming the JSON path.
import { DecodeError } from '@org/metricserver-prom-format';
import { describe } from '../discovery/json-fields.js';
import { floatLiteralValue, isJsonObject, readUint64, type Uint64 } from './uint64.js';

/** One entry of `network_interfaces` (the sandbox's netstack NICs; the same list for every container). */
export interface NetworkInterfaceStats {
  readonly name: string;
  readonly rxBytes: Uint64;
  readonly rxPackets: Uint64;
  readonly rxErrors: Uint64;
  readonly rxDropped: Uint64;
  readonly txBytes: Uint64;
  readonly txPackets: Uint64;
  readonly txErrors: Uint64;
  readonly txDropped: Uint64;
}

/** The eight counters of a NetworkInterfaceStats, in wire order. */
export const INTERFACE_COUNTERS = [
  'rxBytes',
  'rxPackets',
  'rxErrors',
  'rxDropped',
  'txBytes',
  'txPackets',
  'txErrors',
  'txDropped',
] as const;

export type InterfaceCounter = (typeof INTERFACE_COUNTERS)[number];

/** What one Event reply says about one container. */
export interface ContainerEvent {
  /** `event.id`: the container the sandbox answered for. */
  readonly id: string;
  /**
   * `event.data.cpu.usage.total` in ns: set by the sandbox only when the container's spec
   * mounts cgroupfs (Kubernetes), then `containerUsage` is undefined. Undefined when absent
   * (Go omits it when 0).
   */
  readonly cpuTotalNs: Uint64 | undefined;
  /**
   * `containerUsage`: CPU ns by container id, for every container of the sandbox that has a
   * task (the same map whatever id was asked). Empty before any process started; undefined
   * when null (the cgroupfs shape) or absent.
   */
  readonly containerUsage: ReadonlyMap<string, Uint64> | undefined;
  /** `memory.usage.usage` (0 for a pod's root container without cgroupfs). */
  readonly memoryUsageBytes: Uint64;
  /** `memory.usage.limit` (0: none known). */
  readonly memoryLimitBytes: Uint64;
  /** `pids.current`: tasks of this container (0 when exited or not started). */
  readonly pidsCurrent: Uint64;
  /** `pids.limit` (0: none). */
  readonly pidsLimit: Uint64;
  /** Sorted by name: runsc's order is a Go map walk, drawn afresh on every call. */
  readonly interfaces: readonly NetworkInterfaceStats[];
}

type JsonObject = Record<string, unknown>;

/** Go's case folding of a key against our ASCII field names (prom-format's decode does the same). */
function foldKey(k: string): string {
  const l = k.toLowerCase();
  return l.includes('\u017f') ? l.replace(/\u017f/g, 's') : l;
}

/** Field name → itself, from its exact spelling and from its folded form. */
function fieldTable(names: readonly string[]): ReadonlyMap<string, string> {
  const t = new Map<string, string>();
  for (const n of names) t.set(foldKey(n), n);
  for (const n of names) t.set(n, n);
  return t;
}

/** The field `k` names (the exact spelling costs one lookup; other spellings are folded). */
function fieldOf(k: string, table: ReadonlyMap<string, string>): string | undefined {
  return table.get(k) ?? table.get(foldKey(k));
}

const EVENT_OUT = fieldTable(['event', 'containerUsage']);
const EVENT = fieldTable(['type', 'id', 'data']);
const STATS = fieldTable(['cpu', 'memory', 'pids', 'network_interfaces']);
const CPU = fieldTable(['usage']);
const CPU_USAGE = fieldTable(['kernel', 'user', 'total', 'percpu']);
const MEMORY = fieldTable(['cache', 'usage', 'swap', 'kernel', 'kernelTCP', 'raw']);
const MEMORY_ENTRY = fieldTable(['limit', 'usage', 'max', 'failcnt']);
const PIDS = fieldTable(['current', 'limit']);
const INTERFACE_WIRE = [
  'Name',
  'RxBytes',
  'RxPackets',
  'RxErrors',
  'RxDropped',
  'TxBytes',
  'TxPackets',
  'TxErrors',
  'TxDropped',
] as const;
const INTERFACE = fieldTable(INTERFACE_WIRE);
/** Wire field name → NetworkInterfaceStats key. */
const INTERFACE_KEY: ReadonlyMap<string, string> = new Map(
  INTERFACE_WIRE.map((w) => [w, w[0]!.toLowerCase() + w.slice(1)]),
);

function isObject(v: unknown): v is JsonObject {
  return isJsonObject(v);
}

function what(v: unknown): string {
  const float = floatLiteralValue(v);
  return float !== undefined ? `the number ${String(float)}` : describe(v);
}

/** An object, or undefined for null/absent (Go leaves the struct at zero). */
function optionalObject(v: unknown, path: string, type: string): JsonObject | undefined {
  if (v === null || v === undefined) return undefined;
  if (!isObject(v)) throw new DecodeError(path, `expected ${type} object, got ${what(v)}`);
  return v;
}

function readString(v: unknown, path: string): string {
  if (v === null || v === undefined) return '';
  if (typeof v !== 'string') throw new DecodeError(path, `expected a string, got ${what(v)}`);
  return v;
}

/** A uint64 field `key` of the object at `parent`; the path is built only for an error. */
function uint(v: unknown, parent: string, key: string): Uint64 {
  return isPlainUint(v) ? v : readUint64(v, `${parent}.${key}`);
}

/** The common case, checked before any path is built: a safe non-negative integer (not -0). */
function isPlainUint(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && (v > 0 || Object.is(v, 0));
}

function checkUint64Array(v: unknown, path: string): void {
  if (v === null || v === undefined) return;
  if (!Array.isArray(v)) throw new DecodeError(path, `expected an array of unsigned integers, got ${what(v)}`);
  for (let i = 0; i < v.length; i++) readUint64(v[i], `${path}[${i}]`);
}

/** A `map[string]uint64`: undefined for null/absent (Go's nil map); a later duplicate key wins (JSON.parse's). */
function readUint64Map(v: unknown, path: string): Map<string, Uint64> | undefined {
  if (v === null || v === undefined) return undefined;
  if (!isObject(v)) throw new DecodeError(path, `expected an object of unsigned integers, got ${what(v)}`);
  const out = new Map<string, Uint64>();
  for (const k in v) {
    const n = v[k];
    out.set(k, isPlainUint(n) ? n : readUint64(n, `${path}[${JSON.stringify(k)}]`));
  }
  return out;
}

/** A `MemoryEntry`: `usage` and `limit` into `into` when given (`max`, `failcnt` checked, not kept). */
function readMemoryEntry(v: unknown, path: string, into: Decoded | undefined): void {
  const o = optionalObject(v, path, 'a MemoryEntry');
  if (o === undefined) return;
  for (const k in o) {
    const f = fieldOf(k, MEMORY_ENTRY);
    if (f === undefined || o[k] === null) continue; // null leaves a number as it was
    const n = uint(o[k], path, k);
    if (into === undefined) continue;
    if (f === 'usage') into.memoryUsageBytes = n;
    else if (f === 'limit') into.memoryLimitBytes = n;
  }
}

interface Decoded {
  cpuTotalNs: Uint64 | undefined;
  memoryUsageBytes: Uint64;
  memoryLimitBytes: Uint64;
  pidsCurrent: Uint64;
  pidsLimit: Uint64;
  interfaces: NetworkInterfaceStats[];
}

function readCpu(v: unknown, path: string, out: Decoded): void {
  const cpu = optionalObject(v, path, 'a CPU');
  if (cpu === undefined) return;
  for (const k in cpu) {
    if (fieldOf(k, CPU) === undefined) continue;
    const p = `${path}.${k}`;
    const usage = optionalObject(cpu[k], p, 'a CPUUsage');
    if (usage === undefined) continue;
    for (const uk in usage) {
      const f = fieldOf(uk, CPU_USAGE);
      if (f === 'percpu') checkUint64Array(usage[uk], `${p}.${uk}`);
      else if (f !== undefined && usage[uk] !== null) {
        const n = uint(usage[uk], p, uk);
        if (f === 'total') out.cpuTotalNs = n;
      }
    }
  }
}

function readMemory(v: unknown, path: string, out: Decoded): void {
  const mem = optionalObject(v, path, 'a Memory');
  if (mem === undefined) return;
  for (const k in mem) {
    const f = fieldOf(k, MEMORY);
    const p = `${path}.${k}`;
    if (f === 'cache') uint(mem[k], path, k);
    else if (f === 'raw') readUint64Map(mem[k], p);
    else if (f !== undefined) readMemoryEntry(mem[k], p, f === 'usage' ? out : undefined);
  }
}

function readPids(v: unknown, path: string, out: Decoded): void {
  const pids = optionalObject(v, path, 'a Pids');
  if (pids === undefined) return;
  for (const k in pids) {
    const f = fieldOf(k, PIDS);
    if (f === undefined || pids[k] === null) continue;
    const n = uint(pids[k], path, k);
    if (f === 'current') out.pidsCurrent = n;
    else out.pidsLimit = n;
  }
}

function readInterface(v: unknown, path: string): NetworkInterfaceStats {
  // Go would keep a nil entry; runsc never writes one and it has no name to serve.
  if (v === null) throw new DecodeError(path, 'expected a NetworkInterface object, got null');
  const o = optionalObject(v, path, 'a NetworkInterface') as JsonObject;
  const s: Record<string, string | Uint64> = {
    name: '',
    rxBytes: 0,
    rxPackets: 0,
    rxErrors: 0,
    rxDropped: 0,
    txBytes: 0,
    txPackets: 0,
    txErrors: 0,
    txDropped: 0,
  };
  for (const k in o) {
    const f = fieldOf(k, INTERFACE);
    if (f === undefined) continue;
    if (f === 'Name') s.name = readString(o[k], `${path}.${k}`);
    else s[INTERFACE_KEY.get(f)!] = uint(o[k], path, k);
  }
  return s as unknown as NetworkInterfaceStats;
}

function readInterfaces(v: unknown, path: string): NetworkInterfaceStats[] {
  if (v === null || v === undefined) return [];
  if (!Array.isArray(v)) throw new DecodeError(path, `expected an array of network interfaces, got ${what(v)}`);
  const out = new Array<NetworkInterfaceStats>(v.length);
  for (let i = 0; i < v.length; i++) out[i] = readInterface(v[i], `${path}[${i}]`);
  if (out.length > 1) {
    out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (let i = 1; i < out.length; i++) {
      if (out[i]!.name === out[i - 1]!.name) {
        throw new DecodeError(path, `network interface ${JSON.stringify(out[i]!.name)} is listed more than once`);
      }
    }
  }
  return out;
}

function readStats(v: unknown, path: string, out: Decoded): void {
  const data = optionalObject(v, path, 'a Stats');
  if (data === undefined) return;
  for (const k in data) {
    const f = fieldOf(k, STATS);
    const p = `${path}.${k}`;
    if (f === 'cpu') readCpu(data[k], p, out);
    else if (f === 'memory') readMemory(data[k], p, out);
    else if (f === 'pids') readPids(data[k], p, out);
    else if (f === 'network_interfaces') out.interfaces = readInterfaces(data[k], p);
  }
}

/**
 * Decodes an Event result (`{"event":{"type":"stats","id":…,"data":…},"containerUsage":…}`).
 * `path` names `value` in errors (default `$.result`). Throws DecodeError; does not compare
 * the id with the one asked (readEventReply does).
 */
export function decodeEventResult(value: unknown, path = '$.result'): ContainerEvent {
  const top = optionalObject(value, path, 'an EventOut');
  if (top === undefined) throw new DecodeError(path, 'expected an EventOut object, got null');
  let type = '';
  let id = '';
  let containerUsage: Map<string, Uint64> | undefined;
  const out: Decoded = {
    cpuTotalNs: undefined,
    memoryUsageBytes: 0,
    memoryLimitBytes: 0,
    pidsCurrent: 0,
    pidsLimit: 0,
    interfaces: [],
  };
  for (const k in top) {
    const f = fieldOf(k, EVENT_OUT);
    const p = `${path}.${k}`;
    if (f === 'containerUsage') containerUsage = readUint64Map(top[k], p);
    else if (f === 'event') {
      const ev = optionalObject(top[k], p, 'an Event');
      if (ev === undefined) continue;
      for (const ek in ev) {
        const ef = fieldOf(ek, EVENT);
        if (ef === 'type') type = readString(ev[ek], `${p}.${ek}`);
        else if (ef === 'id') id = readString(ev[ek], `${p}.${ek}`);
        else if (ef === 'data') readStats(ev[ek], `${p}.${ek}`, out);
      }
    }
  }
  if (type !== 'stats') {
    throw new DecodeError(`${path}.event.type`, `expected "stats", got ${JSON.stringify(type)}`);
  }
  return { id, containerUsage, ...out };
}
