// Checks one scrape's containerManager.Event replies of a sandbox, all its containers together,
// before anything from them is served. One ResourceVerifier per served sandbox (like the metric
// Verifier); verify() is synchronous, and a rejection changes nothing.
//
// What is a counter, and so must not go down for the same container (same `createdAt`) within
// the same sandbox iteration:
// * `cpu.usage.total` when the sandbox sets it (the cgroupfs shape: a sentry cgroup charge);
// * the eight counters of every network interface (netstack NIC statistics).
// What is NOT checked for decrease, though it looks like a counter: the `containerUsage` entries.
// The sentry sums the CPU of the thread groups that exist now, so an honest sandbox's entry falls
// when a process without a parent in it exits (every `runsc exec`): real capture
// test-support/captures/events/event-exec01-series.txt, 4.36 s back to 0.03 s. Rejecting that
// would refuse honest sandboxes for as long as the entry stays below its old value.
//
// The CPU the server serves (containerCpuNs: runsc's host-cgroup share, or the reply's total) is
// passed in and comes back never below the value served last for that container: the share moves
// with the containers' proportions and with exec'd processes, so it can fall for an honest
// sandbox, and a served counter must not (docs/compat.md, "Resource metrics").
import type { SandboxContainer } from '../sandbox/containers.js';
import {
  type ContainerEvent,
  INTERFACE_COUNTERS,
  type InterfaceCounter,
  type NetworkInterfaceStats,
} from './event-decode.js';
import { ResourceRejection, type ResourceRejectionCode } from './rejection.js';
import { type Uint64, uint64Problem } from './uint64.js';

/** One scrape of a sandbox's resource usage. */
export interface ResourceScrape {
  /** The sandbox iteration (its `iteration` label): a new one starts every counter afresh. */
  readonly iteration: string;
  /** The containers asked: all of the sandbox's, as the caller took them from its state files. Ids unique. */
  readonly containers: readonly Pick<SandboxContainer, 'id' | 'createdAt'>[];
  /** The replies, in any order: exactly one per asked container. */
  readonly events: readonly ContainerEvent[];
  /** The CPU to serve for each event (containerCpuNs), `cpuNs[i]` for `events[i]`. */
  readonly cpuNs: readonly Uint64[];
}

export type ResourceVerifyResult =
  /** `cpuNs[i]`: the CPU to serve for `events[i]`, never below the one served before for its container. */
  { readonly ok: true; readonly cpuNs: readonly Uint64[] } | { readonly ok: false; readonly reason: ResourceRejection };

/** What is remembered of one container's last accepted event. */
interface ContainerMemo {
  /** Its `createdAt`: a container re-created under the same id starts afresh. */
  readonly createdAt: string;
  /** `cpu.usage.total`, the last one the sandbox sent (kept through events without it). */
  readonly total: Uint64 | undefined;
  /** The interfaces of the last event, by name (decoded events are never changed, so kept as they are). */
  readonly interfaces: ReadonlyMap<string, NetworkInterfaceStats>;
  /** The CPU served last. */
  readonly served: Uint64;
}

const WIRE_COUNTER: Record<InterfaceCounter, string> = {
  rxBytes: 'RxBytes',
  rxPackets: 'RxPackets',
  rxErrors: 'RxErrors',
  rxDropped: 'RxDropped',
  txBytes: 'TxBytes',
  txPackets: 'TxPackets',
  txErrors: 'TxErrors',
  txDropped: 'TxDropped',
};

function reject(code: ResourceRejectionCode, message: string, containerId?: string): ResourceVerifyResult {
  return { ok: false, reason: new ResourceRejection(code, message, containerId) };
}

function show(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'bigint') return String(v);
  return v === null ? 'null' : typeof v;
}

const max = (a: Uint64, b: Uint64): Uint64 => (a < b ? b : a);

export class ResourceVerifier {
  /** The iteration of the last accepted scrape (undefined before the first). */
  private iteration: string | undefined;
  /** Per container id of the last accepted scrape. Replaced whole on every accept. */
  private memos = new Map<string, ContainerMemo>();

  /** Containers remembered from the last accepted scrape (for tests and status pages). */
  get containerCount(): number {
    return this.memos.size;
  }

  /**
   * Verifies one scrape. On success its values become the reference for the next scrape (the
   * containers of this scrape only) and the result carries the CPU to serve; on rejection
   * nothing changes. Throws only for a caller's mistake (repeated container ids, a `cpuNs` of
   * another length than `events`).
   */
  verify(scrape: ResourceScrape): ResourceVerifyResult {
    const { containers, events, cpuNs } = scrape;
    if (cpuNs.length !== events.length) {
      throw new RangeError(`cpuNs has ${cpuNs.length} values for ${events.length} events`);
    }
    const asked = new Map<string, number>();
    for (let i = 0; i < containers.length; i++) {
      const id = containers[i]!.id;
      if (asked.has(id)) throw new RangeError(`container ${JSON.stringify(id)} is listed twice`);
      asked.set(id, i);
    }

    // Every asked container answered once, about itself, and nothing else.
    const answered = new Array<boolean>(containers.length).fill(false);
    for (const e of events) {
      const at = asked.get(e.id);
      if (at === undefined) {
        const ids = containers.map((c) => JSON.stringify(c.id)).join(', ');
        return reject(
          'foreign-id',
          `the sandbox answered for container ${JSON.stringify(e.id)}, which is not one of the containers ` +
            `asked (${ids})`,
          e.id,
        );
      }
      if (answered[at]) {
        return reject('duplicate-id', `the sandbox answered twice for container ${JSON.stringify(e.id)}`, e.id);
      }
      answered[at] = true;
    }
    const missing = answered.indexOf(false);
    if (missing >= 0) {
      const id = containers[missing]!.id;
      return reject('missing-container', `no event for container ${JSON.stringify(id)}`, id);
    }

    // Every value a uint64 (decoding checked them; events may come from elsewhere).
    for (const e of events) {
      const bad = checkValues(e);
      if (bad !== null) return bad;
    }

    // Counters against the last accepted scrape of the same iteration and container.
    const sameIteration = this.iteration === scrape.iteration;
    const memoOf = (e: ContainerEvent): ContainerMemo | undefined => {
      if (!sameIteration) return undefined;
      const m = this.memos.get(e.id);
      return m !== undefined && m.createdAt === containers[asked.get(e.id)!]!.createdAt ? m : undefined;
    };
    for (const e of events) {
      const memo = memoOf(e);
      if (memo === undefined) continue;
      if (e.cpuTotalNs !== undefined && memo.total !== undefined && e.cpuTotalNs < memo.total) {
        return reject(
          'counter-decreased',
          `container ${JSON.stringify(e.id)}: cpu.usage.total went down from ${memo.total} to ${e.cpuTotalNs} ns`,
          e.id,
        );
      }
      for (const iface of e.interfaces) {
        const old = memo.interfaces.get(iface.name);
        if (old === undefined) continue;
        for (const counter of INTERFACE_COUNTERS) {
          if (iface[counter] < old[counter]) {
            return reject(
              'counter-decreased',
              `container ${JSON.stringify(e.id)}: network interface ${JSON.stringify(iface.name)} ` +
                `${WIRE_COUNTER[counter]} went down from ${old[counter]} to ${iface[counter]}`,
              e.id,
            );
          }
        }
      }
    }

    // Accept: only now is any state written.
    const served = new Array<Uint64>(events.length);
    const next = new Map<string, ContainerMemo>();
    for (let i = 0; i < events.length; i++) {
      const e = events[i]!;
      const memo = memoOf(e);
      served[i] = memo === undefined ? cpuNs[i]! : max(memo.served, cpuNs[i]!);
      const interfaces = new Map<string, NetworkInterfaceStats>();
      for (const iface of e.interfaces) interfaces.set(iface.name, iface);
      next.set(e.id, {
        createdAt: containers[asked.get(e.id)!]!.createdAt,
        total: e.cpuTotalNs ?? memo?.total,
        interfaces,
        served: served[i]!,
      });
    }
    this.iteration = scrape.iteration;
    this.memos = next;
    return { ok: true, cpuNs: served };
  }
}

/**
 * The first value of `e` that is not a uint64, or a repeated interface name, as a rejection; else
 * null. Messages are built only for a rejection (every accepted reply passes here).
 */
function checkValues(e: ContainerEvent): ResourceVerifyResult | null {
  if (!isUint64(e.memoryUsageBytes)) return valueRejection(e, e.memoryUsageBytes, 'memory.usage.usage');
  if (!isUint64(e.memoryLimitBytes)) return valueRejection(e, e.memoryLimitBytes, 'memory.usage.limit');
  if (!isUint64(e.pidsCurrent)) return valueRejection(e, e.pidsCurrent, 'pids.current');
  if (!isUint64(e.pidsLimit)) return valueRejection(e, e.pidsLimit, 'pids.limit');
  if (e.cpuTotalNs !== undefined && !isUint64(e.cpuTotalNs)) {
    return valueRejection(e, e.cpuTotalNs, 'cpu.usage.total');
  }
  if (e.containerUsage !== undefined) {
    for (const [k, v] of e.containerUsage) {
      if (!isUint64(v)) return valueRejection(e, v, `containerUsage[${JSON.stringify(k)}]`);
    }
  }
  const interfaces = e.interfaces;
  const names = interfaces.length > 1 ? new Set<string>() : undefined;
  for (const iface of interfaces) {
    if (names !== undefined) {
      if (names.has(iface.name)) {
        return reject(
          'duplicate-interface',
          `container ${JSON.stringify(e.id)}: network interface ${JSON.stringify(iface.name)} is listed twice`,
          e.id,
        );
      }
      names.add(iface.name);
    }
    for (const c of INTERFACE_COUNTERS) {
      if (!isUint64(iface[c])) {
        return valueRejection(e, iface[c], `network interface ${JSON.stringify(iface.name)} ${WIRE_COUNTER[c]}`);
      }
    }
  }
  return null;
}

const isUint64 = (v: unknown): boolean => uint64Problem(v) === null;

function valueRejection(e: ContainerEvent, v: unknown, field: string): ResourceVerifyResult {
  const problem = uint64Problem(v)!;
  const why =
    problem === 'not-integer' ? 'is not an integer' : problem === 'negative' ? 'is negative' : 'is out of range';
  return reject(problem, `container ${JSON.stringify(e.id)}: ${field} ${why} (${show(v)})`, e.id);
}
