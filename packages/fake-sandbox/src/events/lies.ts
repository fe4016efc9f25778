// What a lying sandbox does to a well-formed containerManager.Event reply. The
// transport misbehaviours of the call (event-stall, event-garbage, event-huge)
// live in the control server; these only bend the values.
import type { ContainerEvent } from './encode.js';
import { CPU_TICK_NS } from './usage.js';

export const EVENT_LIES = ['event-cpu-decrease', 'event-foreign-id', 'event-negative'] as const;
export type EventLie = (typeof EVENT_LIES)[number];

export function isEventLie(name: string): name is EventLie {
  return (EVENT_LIES as readonly string[]).includes(name);
}

/** event-cpu-decrease starts this high (~2.8 h of CPU) and loses a second on every call. */
const DECREASE_START_NS = 10_000_000_000_000;

/** Call `n` (1-based) of the sandbox's Event calls, as the lie `lie` tells it. */
export function applyEventLie(lie: EventLie, e: ContainerEvent, n: number, foreignId: string): ContainerEvent {
  switch (lie) {
    case 'event-cpu-decrease': {
      const cpu = Math.max(CPU_TICK_NS, DECREASE_START_NS - n * 1_000_000_000);
      const usage = e.containerUsage && Object.fromEntries(Object.keys(e.containerUsage).map((id) => [id, cpu]));
      return { ...e, cpuTotal: e.cpuTotal === 0 ? 0 : cpu, containerUsage: usage };
    }
    case 'event-foreign-id':
      return { ...e, id: foreignId };
    case 'event-negative':
      return n % 2 === 1 ? negative(e) : fractional(e);
  }
}

/** Odd calls: a negative pid count and a negative CPU for the asked container. */
function negative(e: ContainerEvent): ContainerEvent {
  const own = e.containerUsage?.[e.id] ?? e.cpuTotal;
  const cpu = -Math.max(CPU_TICK_NS, own);
  return {
    ...e,
    pidsCurrent: -1,
    cpuTotal: e.cpuTotal === 0 ? 0 : cpu,
    containerUsage: e.containerUsage && { ...e.containerUsage, [e.id]: cpu },
  };
}

/** Even calls: half a byte of memory and a quarter byte received on the last interface. */
function fractional(e: ContainerEvent): ContainerEvent {
  const ifaces = e.interfaces && [...e.interfaces];
  const last = ifaces?.[ifaces.length - 1];
  if (ifaces && last) ifaces[ifaces.length - 1] = { ...last, RxBytes: last.RxBytes + 0.25 };
  return { ...e, memoryUsage: e.memoryUsage + 0.5, interfaces: ifaces };
}
