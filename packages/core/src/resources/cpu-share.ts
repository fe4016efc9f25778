// The CPU total `runsc events --stats` prints for a container (runsc `Container.Event` and
// `populateStats` at release-20240729.0), from an Event reply and one reading of the sandbox's
// host cgroup. Pure and synchronous.
//
// When the reply's containerUsage map is not empty (no cgroupfs in the sandbox), the host cgroup's
// usage is shared out in proportion to the sentry's per-container numbers, so the containers of a
// sandbox add up to what the host charged it (the sentry's own work included). Otherwise (the
// cgroupfs shape: containerUsage null, cpu.usage.total already the container's sentry cgroup
// figure) the reply's total stands.
import type { ContainerEvent } from './event-decode.js';
import type { HostCpuReading } from './host-cgroup.js';
import { canonicalUint64, type Uint64 } from './uint64.js';

const UINT64_MOD = 1n << 64n;
const TWO_64 = 2 ** 64;

/** Go's uint64(f) for a non-negative float: truncated; at or beyond 2^64 (platform-defined in Go) 2^64-1. */
function truncateToUint64(f: number): Uint64 {
  if (!(f >= 0)) return 0; // NaN cannot occur from uint64 inputs; kept total
  if (f < Number.MAX_SAFE_INTEGER) return Math.trunc(f);
  if (f >= TWO_64) return UINT64_MOD - 1n;
  return canonicalUint64(BigInt(f)); // an integral double already
}

/**
 * populateStats for `containerId`: its share of the host cgroup's CPU by `containerUsage` (the
 * reply's map, non-empty in runsc's call; empty gives 0 as runsc's guard does).
 *
 * * no cgroup, or its usage unreadable or 0: the container's own entry (0 when absent);
 * * all entries 0: the cgroup usage split evenly (integer division);
 * * else entry × (cgroup / Σ entries) in float64, truncated.
 *
 * The sum wraps at 2^64 as Go's uint64 addition does.
 */
export function populateStatsCpu(
  containerId: string,
  containerUsage: ReadonlyMap<string, Uint64>,
  host: HostCpuReading,
): Uint64 {
  const numContainers = containerUsage.size;
  if (numContainers === 0) return 0;

  let own: Uint64 = 0;
  let all: Uint64 = 0;
  let big = false;
  for (const [id, usage] of containerUsage) {
    if (id === containerId) own = usage;
    if (!big && typeof usage === 'number' && (all as number) + usage <= Number.MAX_SAFE_INTEGER) {
      all = (all as number) + usage;
    } else {
      all = (BigInt(all) + BigInt(usage)) % UINT64_MOD;
      big = true;
    }
  }
  if (big) all = canonicalUint64(all as bigint);

  if (host.kind !== 'usage') return own;
  const cgroup = host.ns;
  if (cgroup === 0 || cgroup === 0n) return own;
  if (all === 0 || all === 0n) {
    all = cgroup;
    own =
      typeof cgroup === 'number' ? Math.floor(cgroup / numContainers) : canonicalUint64(cgroup / BigInt(numContainers));
  }
  return truncateToUint64(Number(own) * (Number(cgroup) / Number(all)));
}

/**
 * The CPU total runsc reports for the event's container: populateStatsCpu when the reply carries
 * a non-empty containerUsage, else the reply's own `cpu.usage.total` (0 when absent). `host` is
 * read only in the first case, so a caller may pass a `none` reading when no event needs it.
 */
export function containerCpuNs(event: ContainerEvent, host: HostCpuReading): Uint64 {
  const usage = event.containerUsage;
  if (usage !== undefined && usage.size > 0) return populateStatsCpu(event.id, usage, host);
  return event.cpuTotalNs ?? 0;
}

/** Whether any of these events needs a host cgroup reading (one has a non-empty containerUsage). */
export function needsHostCpu(events: readonly ContainerEvent[]): boolean {
  for (const e of events) if (e.containerUsage !== undefined && e.containerUsage.size > 0) return true;
  return false;
}
