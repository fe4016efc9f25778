// `--resource-metrics`: one sandbox's verified resource usage (core's containerManager.Event
// replies, checked by its ResourceVerifier) as points of cAdvisor-named families, rendered by
// the scrape's builder under the exporter prefix with the sandbox's identity labels.
//
// Per container: CPU (runsc events --stats' figure, in seconds), memory usage and limit,
// threads. Network counters are the sandbox's (one network stack for all its containers:
// every container's reply lists the same interfaces), so they go once, on the root
// container, as cAdvisor puts a pod's network on its pause container.

import type { InterfaceCounter, SandboxContainer } from '@org/metricserver-core';
import {
  type Data,
  floatNumber,
  intNumber,
  type Labels,
  type Metric,
  MetricType,
  NO_LABELS,
  pointsOf,
  type SnapshotPoints,
} from '@org/metricserver-prom-format';
import type { ResourceUsage } from './backend.js';

const family = (name: string, type: number, help: string): Metric => Object.freeze({ name, type, help });

export const RESOURCE_FAMILIES = {
  cpu: family(
    'container_cpu_usage_seconds_total',
    MetricType.Counter,
    'Cumulative CPU time consumed by the container in seconds, as runsc events --stats reports it.',
  ),
  memory: family(
    'container_memory_usage_bytes',
    MetricType.Gauge,
    'Memory used by the container in bytes, as runsc events --stats reports it (the sentry accounting).',
  ),
  memoryLimit: family(
    'container_spec_memory_limit_bytes',
    MetricType.Gauge,
    'Memory limit of the container in bytes; 0 when none is set.',
  ),
  threads: family('container_threads', MetricType.Gauge, 'Number of threads (tasks) running inside the container.'),
} as const;

const NETWORK: readonly { readonly key: InterfaceCounter; readonly metric: Metric }[] = [
  net('rxBytes', 'receive_bytes_total', 'Cumulative count of bytes received.'),
  net('rxPackets', 'receive_packets_total', 'Cumulative count of packets received.'),
  net('rxErrors', 'receive_errors_total', 'Cumulative count of errors encountered while receiving.'),
  net('rxDropped', 'receive_packets_dropped_total', 'Cumulative count of packets dropped while receiving.'),
  net('txBytes', 'transmit_bytes_total', 'Cumulative count of bytes transmitted.'),
  net('txPackets', 'transmit_packets_total', 'Cumulative count of packets transmitted.'),
  net('txErrors', 'transmit_errors_total', 'Cumulative count of errors encountered while transmitting.'),
  net('txDropped', 'transmit_packets_dropped_total', 'Cumulative count of packets dropped while transmitting.'),
];

function net(key: InterfaceCounter, suffix: string, help: string): { key: InterfaceCounter; metric: Metric } {
  return {
    key,
    metric: family(`container_network_${suffix}`, MetricType.Counter, `${help} (the sandbox's interface)`),
  };
}

/** Every resource family, for documentation and tests. */
export const RESOURCE_METRICS: readonly Metric[] = [
  ...Object.values(RESOURCE_FAMILIES),
  ...NETWORK.map((n) => n.metric),
];

const ALL: ReadonlySet<Metric> = new Set(RESOURCE_METRICS);

/** `container_id`, and `container` when the container's annotations name it. */
function containerLabels(id: string, name: string): Labels {
  return name === '' ? { container_id: id } : { container_id: id, container: name };
}

/**
 * The label sets of one container's series, the sandbox's identity labels included, frozen:
 * made once per container object (a sandbox view's) and identity, so the builder renders each
 * set once and copies it afterwards (its cache of frozen label sets; with the identity as the
 * snapshot's extra labels instead, every point was merged anew: ~25 ms more per scrape at
 * N = 1000, `pnpm bench --profile-resources`).
 */
interface ContainerLabelSets {
  readonly identity: Labels;
  readonly container: Labels;
  /** By interface name; bounded, since a sandbox chooses the names. */
  readonly interfaces: Map<string, Labels>;
}

const MAX_INTERFACE_LABEL_SETS = 64;
const labelSets = new WeakMap<SandboxContainer, ContainerLabelSets>();

function labelSetsOf(c: SandboxContainer, identity: Labels): ContainerLabelSets {
  let sets = labelSets.get(c);
  if (sets === undefined || sets.identity !== identity) {
    // The identity wins a clash, as the server's labels win over a sandbox's everywhere.
    const container = Object.freeze({ ...containerLabels(c.id, c.containerName), ...identity });
    sets = { identity, container, interfaces: new Map() };
    labelSets.set(c, sets);
  }
  return sets;
}

function interfaceLabels(sets: ContainerLabelSets, name: string): Labels {
  let labels = sets.interfaces.get(name);
  if (labels === undefined) {
    if (sets.interfaces.size >= MAX_INTERFACE_LABEL_SETS) sets.interfaces.clear();
    labels = Object.freeze({ ...sets.container, interface: name, ...sets.identity });
    sets.interfaces.set(name, labels);
  }
  return labels;
}

/**
 * The resource families a metrics filter keeps (`runsc-sandbox-metrics-filter` applies to them as
 * to a sandbox's metrics: to the name without the exporter prefix); all of them without a filter.
 */
export function resourceFamiliesFor(matches: ((name: string) => boolean) | undefined): ReadonlySet<Metric> {
  // ALL itself without a filter: resourcePoints then keeps every point without testing each.
  return matches === undefined ? ALL : new Set(RESOURCE_METRICS.filter((m) => matches(m.name)));
}

/**
 * The points of one sandbox's resource usage in `families`, each labelled with the sandbox's
 * `identity` labels and its container's (render them with no extra labels).
 */
export function resourcePoints(
  usage: ResourceUsage,
  families: ReadonlySet<Metric> = ALL,
  identity: Labels = NO_LABELS,
): SnapshotPoints {
  const data: Data[] = [];
  const { containers, events, cpuNs } = usage;
  let networkOn = containers.findIndex((c) => c.root);
  if (networkOn < 0) networkOn = 0;
  for (let i = 0; i < containers.length; i++) {
    const c = containers[i]!;
    const e = events[i]!;
    const sets = labelSetsOf(c, identity);
    const labels = sets.container;
    data.push(
      { metric: RESOURCE_FAMILIES.cpu, labels, number: floatNumber(Number(cpuNs[i]!) / 1e9) },
      { metric: RESOURCE_FAMILIES.memory, labels, number: intNumber(e.memoryUsageBytes) },
      { metric: RESOURCE_FAMILIES.memoryLimit, labels, number: intNumber(e.memoryLimitBytes) },
      { metric: RESOURCE_FAMILIES.threads, labels, number: intNumber(e.pidsCurrent) },
    );
    if (i !== networkOn) continue;
    for (const nic of e.interfaces) {
      const nicLabels = interfaceLabels(sets, nic.name);
      for (const n of NETWORK) data.push({ metric: n.metric, labels: nicLabels, number: intNumber(nic[n.key]) });
    }
  }
  return pointsOf({ when: usage.when, data: families === ALL ? data : data.filter((d) => families.has(d.metric)) });
}

/** Sums over the containers, for the status page: CPU seconds and memory bytes. */
export function resourceTotals(usage: ResourceUsage): { cpuSeconds: number; memoryBytes: number } {
  let cpuSeconds = 0;
  let memoryBytes = 0;
  for (let i = 0; i < usage.containers.length; i++) {
    cpuSeconds += Number(usage.cpuNs[i]!) / 1e9;
    memoryBytes += Number(usage.events[i]!.memoryUsageBytes);
  }
  return { cpuSeconds, memoryBytes };
}
