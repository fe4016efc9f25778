// One sandbox's answers to containerManager.Event, following runsc's rules for
// who gets what (runsc/boot/events.go @ release-20240729.0, and the captures in
// test-support/captures/events): the interface list and, without cgroupfs, the
// memory total and the containerUsage map belong to the whole sandbox.
import { Prng } from '../wire/prng.js';
import { type ContainerEvent, encodeEventReply, hugeEventParts } from './encode.js';
import { applyEventLie, type EventLie } from './lies.js';
import { UsageModel } from './usage.js';

/** Memory a created, never started sandbox reports (real capture: 12288). */
export const CREATED_MEMORY_BYTES = 12288;

export interface EventSourceOptions {
  readonly seed: number;
  readonly startNs: bigint;
  /** The root container (= sandbox id) first, then the subcontainers. */
  readonly containerIds: readonly string[];
  /**
   * The containers mount cgroupfs (containerd does, for Kubernetes): the sentry then has a
   * cgroup per container, and runsc reports each one's own CPU in `cpu.usage.total` and
   * memory, with `containerUsage: null`. Otherwise (runsc's `--network=none` busybox
   * captures) `cpu.usage` is empty and the CPU is in `containerUsage`.
   */
  readonly cgroupfs?: boolean;
}

export class EventSource {
  readonly model: UsageModel;
  /** Event replies built; numbers the interface orders and the lies. */
  private calls = 0;

  constructor(private readonly opts: EventSourceOptions) {
    this.model = new UsageModel(opts.seed, opts.containerIds);
  }

  has(containerId: string): boolean {
    return this.model.has(containerId);
  }

  /** The honest event for `containerId` at `nowNs`; `started` false gives runsc's created-only shape. */
  event(containerId: string, nowNs: bigint, started: boolean): ContainerEvent {
    if (!started) {
      return {
        id: containerId,
        cpuTotal: 0,
        memoryUsage: CREATED_MEMORY_BYTES,
        pidsCurrent: 0,
        interfaces: null,
        containerUsage: {},
      };
    }
    const el = Number(nowNs - this.opts.startNs) / 1e9;
    const m = this.model;
    const ids = this.opts.containerIds;
    const cgroupfs = this.opts.cgroupfs ?? false;
    return {
      id: containerId,
      cpuTotal: cgroupfs ? m.cpuNs(containerId, el) : 0,
      memoryUsage: cgroupfs ? m.memoryBytes(containerId, el) : this.sharedMemory(containerId, el),
      pidsCurrent: m.container(containerId).pids,
      interfaces: m.interfaceStats(el),
      containerUsage: cgroupfs ? null : Object.fromEntries(ids.map((id) => [id, m.cpuNs(id, el)])),
    };
  }

  /**
   * runsc without cgroups: one container gets the sandbox's whole memory; in a pod the root
   * (pause) container gets 0 and every other one an equal share (Go's integer division).
   */
  private sharedMemory(containerId: string, el: number): number {
    const ids = this.opts.containerIds;
    const total = ids.reduce((sum, id) => sum + this.model.memoryBytes(id, el), 0);
    if (ids.length === 1) return total;
    return containerId === ids[0] ? 0 : Math.floor(total / (ids.length - 1));
  }

  /** The range `memoryUsage` of a started container stays in. */
  memoryBounds(containerId: string): { min: number; max: number } {
    const ids = this.opts.containerIds;
    const own = this.model.container(containerId);
    if (this.opts.cgroupfs || ids.length === 1) return { min: own.memoryMin, max: own.memoryMax };
    if (containerId === ids[0]) return { min: 0, max: 0 };
    const sum = (k: 'memoryMin' | 'memoryMax'): number => ids.reduce((s, id) => s + this.model.container(id)[k], 0);
    return {
      min: Math.floor(sum('memoryMin') / (ids.length - 1)),
      max: Math.floor(sum('memoryMax') / (ids.length - 1)),
    };
  }

  /**
   * The next call's event, as sent: interfaces in a fresh order (the sentry walks a Go map of
   * them on every call), then the lie, if any. Reproducible from the seed and the call number.
   */
  next(containerId: string, nowNs: bigint, started: boolean, lie: EventLie | null, foreignId: string): ContainerEvent {
    const n = ++this.calls;
    const honest = this.event(containerId, nowNs, started);
    const shuffled = honest.interfaces && new Prng(callSeed(this.opts.seed, n)).shuffle([...honest.interfaces]);
    const e = { ...honest, interfaces: shuffled };
    return lie ? applyEventLie(lie, e, n, foreignId) : e;
  }

  reply(containerId: string, nowNs: bigint, started: boolean, lie: EventLie | null, foreignId: string): string {
    return encodeEventReply(this.next(containerId, nowNs, started, lie, foreignId));
  }

  hugeParts(containerId: string, nowNs: bigint, started: boolean): ReturnType<typeof hugeEventParts> {
    return hugeEventParts(this.next(containerId, nowNs, started, null, containerId));
  }
}

/** The PRNG seed of Event call `n` (a different odd step from the exports', so the streams differ). */
function callSeed(seed: number, n: number): number {
  return (seed ^ Math.imul(n, 0x85ebca6b)) >>> 0;
}
