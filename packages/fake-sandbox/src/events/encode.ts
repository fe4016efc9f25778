// containerManager.Event replies in runsc's exact layout: Go's encoding/json of
// boot.EventOut (runsc/boot/events.go @ release-20240729.0), checked byte for
// byte against test-support/captures/events. Struct fields keep their order;
// `omitempty` drops zero counters; map keys (containerUsage) come out sorted.
import { goJson } from '../wire/go-json.js';
import type { InterfaceStats } from './usage.js';

/** One container's event, before encoding. Numbers are plain JS numbers so lies can bend them. */
export interface ContainerEvent {
  readonly id: string;
  /** cpu.usage.total; 0 leaves `"usage":{}` (runsc fills it only when the sentry has cgroups). */
  readonly cpuTotal: number;
  /** memory.usage.usage; 0 drops the key (`"usage":{"limit":0,"failcnt":0}`). */
  readonly memoryUsage: number;
  /** pids.current; 0 leaves `"pids":{}`. */
  readonly pidsCurrent: number;
  /** null before the sandbox's network is up. */
  readonly interfaces: readonly InterfaceStats[] | null;
  /** CPU ns per container of the sandbox; null when cpuTotal is used instead. */
  readonly containerUsage: Readonly<Record<string, number>> | null;
}

const REPLY_HEAD = '{"success":true,"err":"","result":{"event":{"type":"stats","id":';
// Limit and failcnt have no omitempty; runsc never sets anything else in these three.
const MEMORY_REST =
  '"swap":{"limit":0,"failcnt":0},"kernel":{"limit":0,"failcnt":0},"kernelTCP":{"limit":0,"failcnt":0}';

/** Everything up to and including `"network_interfaces":`. */
export function eventHead(e: ContainerEvent): string {
  const cpu = e.cpuTotal === 0 ? '{}' : `{"total":${e.cpuTotal}}`;
  const mem = e.memoryUsage === 0 ? '' : `"usage":${e.memoryUsage},`;
  const pids = e.pidsCurrent === 0 ? '{}' : `{"current":${e.pidsCurrent}}`;
  return (
    `${REPLY_HEAD}${goJson(e.id)},"data":{"cpu":{"usage":${cpu}},` +
    `"memory":{"usage":{"limit":0,${mem}"failcnt":0},${MEMORY_REST}},"pids":${pids},"network_interfaces":`
  );
}

export function interfaceJson(i: InterfaceStats): string {
  return (
    `{"Name":${goJson(i.Name)},"RxBytes":${i.RxBytes},"RxPackets":${i.RxPackets},"RxErrors":${i.RxErrors},` +
    `"RxDropped":${i.RxDropped},"TxBytes":${i.TxBytes},"TxPackets":${i.TxPackets},"TxErrors":${i.TxErrors},` +
    `"TxDropped":${i.TxDropped}}`
  );
}

/** What follows the interface list: the end of `event`, then `containerUsage`. */
export function eventTail(e: ContainerEvent): string {
  return `}},"containerUsage":${containerUsageJson(e.containerUsage)}}}`;
}

function containerUsageJson(usage: Readonly<Record<string, number>> | null): string {
  if (usage === null) return 'null';
  // Go sorts map keys bytewise; container ids are ASCII, so JS order is the same.
  const ids = Object.keys(usage).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${ids.map((id) => `${goJson(id)}:${usage[id]}`).join(',')}}`;
}

export function encodeEventReply(e: ContainerEvent): string {
  const ifaces = e.interfaces === null ? 'null' : `[${e.interfaces.map(interfaceJson).join(',')}]`;
  return `${eventHead(e)}${ifaces}${eventTail(e)}`;
}

const IDLE_LO: InterfaceStats = {
  Name: 'lo',
  RxBytes: 0,
  RxPackets: 0,
  RxErrors: 0,
  RxDropped: 0,
  TxBytes: 0,
  TxPackets: 0,
  TxErrors: 0,
  TxDropped: 0,
};

/**
 * A valid reply of any size, to be streamed (never built whole): the event's
 * head, an interface list padded with idle `lo` entries (`chunk` repeats them),
 * and its tail.
 */
export function hugeEventParts(e: ContainerEvent): { head: string; chunk: Buffer; tail: string } {
  const filler = interfaceJson(IDLE_LO);
  const chunk = Buffer.from(`,${filler}`.repeat(Math.ceil(65536 / (filler.length + 1))));
  return { head: `${eventHead(e)}[${filler}`, chunk, tail: `]${eventTail(e)}` };
}
