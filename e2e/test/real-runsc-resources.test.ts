// --resource-metrics against real gVisor sandboxes: a CPU loop, a memory writer (that also sent
// a few packets over its loopback) and a pod with a named subcontainer. What the built server
// serves must agree with `runsc events --stats <id>` taken just before and just after the scrape.

import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Exposition, findSamples, parseExposition, type Sample } from '../src/exposition.js';
import { runTag } from '../src/ids.js';
import { expectPromtoolAccepts } from '../src/promtool.js';
import { fixedWidthIds, RealRunsc, type RunscInterface, type RunscStatsEvent } from '../src/runsc/harness.js';
import { scrape } from '../src/scrape.js';
import { type RunningServer, startServer } from '../src/server-process.js';

const [busy, mem, pod, podSub] = fixedWidthIds(`e2e-${runTag()}u`, 4) as [string, string, string, string];
const MIB = 2 ** 20;
const FILL_MIB = 48;
/** A served CPU value is seconds printed from nanoseconds; reading it back may be a few ns off. */
const CPU_ROUNDING_NS = 1_000;

const NETWORK: readonly [keyof RunscInterface, string][] = [
  ['RxBytes', 'receive_bytes_total'],
  ['RxPackets', 'receive_packets_total'],
  ['RxErrors', 'receive_errors_total'],
  ['RxDropped', 'receive_packets_dropped_total'],
  ['TxBytes', 'transmit_bytes_total'],
  ['TxPackets', 'transmit_packets_total'],
  ['TxErrors', 'transmit_errors_total'],
  ['TxDropped', 'transmit_packets_dropped_total'],
];

let rs: RealRunsc;
let server: RunningServer;

/** The sandbox each container belongs to (its `sandbox` label). */
const SANDBOX_OF: Record<string, string> = { [busy]: busy, [mem]: mem, [pod]: pod, [podSub]: pod };

beforeAll(async () => {
  rs = await RealRunsc.create();
  const address = join(rs.root, 'm.sock');
  await Promise.all([
    rs.run({ id: busy, metricServer: address, args: ['/bin/sh', '-c', 'while :; do :; done'] }),
    rs.run({
      id: mem,
      metricServer: address,
      // Refused TCP connects to the loopback move its counters once; then a tmpfs file pins memory.
      args: [
        '/bin/sh',
        '-c',
        'for p in 1 2 3; do busybox nc -w 1 127.0.0.1 $p </dev/null; done; ' +
          `busybox dd if=/dev/zero of=/dev/fill bs=1M count=${FILL_MIB} 2>/dev/null; exec sleep 600`,
      ],
    }),
    rs.run({ id: pod, metricServer: address, podName: 'pod-u', namespace: 'ns-u', containerName: 'pause' }).then(() =>
      rs.run({
        id: podSub,
        subcontainerOf: pod,
        metricServer: address,
        podName: 'pod-u',
        namespace: 'ns-u',
        containerName: 'app',
        args: ['/bin/sh', '-c', 'busybox dd if=/dev/zero of=/dev/app bs=1M count=16 2>/dev/null; exec sleep 600'],
      }),
    ),
  ]);
  server = await startServer({ root: rs.root, address, flags: ['--resource-metrics'] });
  // Wait until the writers are done, so pids, network and the pod's CPU shares hold still.
  const deadline = Date.now() + 30_000;
  while ((rs.eventsStats(mem).data.memory.usage.usage ?? 0) < FILL_MIB * MIB || subStillWriting()) {
    if (Date.now() > deadline) throw new Error('the memory writers did not finish within 30 s');
    await new Promise((r) => setTimeout(r, 200));
  }
  await new Promise((r) => setTimeout(r, 500));
}, 120_000);

function subStillWriting(): boolean {
  return (rs.eventsStats(podSub).data.memory.usage.usage ?? 0) < 16 * MIB;
}

afterAll(async () => {
  const st = await server?.stop('SIGTERM');
  await rs?.cleanup();
  if (st && st.code !== 0) throw new Error(`server exited ${JSON.stringify(st)}; output:\n${server.output()}`);
});

function one(exp: Exposition, family: string, labels: Record<string, string>): Sample {
  const found = findSamples(exp, `runsc_${family}`, labels);
  expect(found, `${family} ${JSON.stringify(labels)}`).toHaveLength(1);
  return found[0]!;
}

describe('--resource-metrics against real runsc', () => {
  it('serves what runsc events --stats reports around the scrape, per container', async () => {
    const ids = [busy, mem, pod, podSub];
    const before = new Map<string, RunscStatsEvent>(ids.map((id) => [id, rs.eventsStats(id)]));
    const res = await scrape(server.target);
    const after = new Map<string, RunscStatsEvent>(ids.map((id) => [id, rs.eventsStats(id)]));
    expect(res.status).toBe(200);
    expectPromtoolAccepts(res.body);
    const exp = parseExposition(res.body);

    for (const id of ids) {
      const b = before.get(id)!.data;
      const a = after.get(id)!.data;
      const labels = { sandbox: SANDBOX_OF[id]!, container_id: id };

      // pids: exact (nothing starts or exits in these containers any more).
      expect(a.pids.current, `${id} pids held still`).toBe(b.pids.current);
      expect(Number(one(exp, 'container_threads', labels).value), `${id} threads`).toBe(b.pids.current ?? 0);

      // memory: within what the two reads saw; the limit as runsc reports it.
      const served = Number(one(exp, 'container_memory_usage_bytes', labels).value);
      const [lo, hi] = [b.memory.usage.usage ?? 0, a.memory.usage.usage ?? 0].sort((x, y) => x - y) as [number, number];
      expect(served, `${id} memory`).toBeGreaterThanOrEqual(lo);
      expect(served, `${id} memory`).toBeLessThanOrEqual(hi);
      expect(Number(one(exp, 'container_spec_memory_limit_bytes', labels).value)).toBe(b.memory.usage.limit);

      // CPU: between the CLI's before and after figures (it shares the host cgroup out as runsc does).
      const cpuNs = Number(one(exp, 'container_cpu_usage_seconds_total', labels).value) * 1e9;
      expect(cpuNs, `${id} cpu`).toBeGreaterThanOrEqual((b.cpu.usage.total ?? 0) - CPU_ROUNDING_NS);
      expect(cpuNs, `${id} cpu`).toBeLessThanOrEqual((a.cpu.usage.total ?? 0) + CPU_ROUNDING_NS);

      // network: exact, per interface, once per sandbox on its root container.
      const net = findSamples(exp, 'runsc_container_network_receive_bytes_total', labels);
      if (id === podSub) {
        expect(net, 'a subcontainer carries no network series').toEqual([]);
        continue;
      }
      expect(a.network_interfaces).toEqual(b.network_interfaces);
      const interfaces = b.network_interfaces ?? [];
      expect(net.map((s) => s.labels.interface).sort()).toEqual(interfaces.map((i) => i.Name).sort());
      for (const nic of interfaces) {
        for (const [field, suffix] of NETWORK) {
          const s = one(exp, `container_network_${suffix}`, { ...labels, interface: nic.Name });
          expect(Number(s.value), `${id} ${nic.Name} ${field}`).toBe(nic[field]);
        }
      }
    }

    // The loop is busy and the writer did write: the comparison above is not between zeros.
    const busyBefore = before.get(busy)!.data.cpu.usage.total ?? 0;
    expect(after.get(busy)!.data.cpu.usage.total ?? 0).toBeGreaterThan(busyBefore);
    expect(before.get(mem)!.data.memory.usage.usage).toBeGreaterThanOrEqual(FILL_MIB * MIB);
    const lo = (before.get(mem)!.data.network_interfaces ?? []).find((i) => i.Name === 'lo');
    expect(lo?.TxPackets, 'the refused connects went over lo').toBeGreaterThan(0);
  });

  it('labels containers with the pod, the namespace and the CRI container name', async () => {
    const exp = parseExposition((await scrape(server.target)).body);
    expect(one(exp, 'container_threads', { container_id: podSub }).labels).toMatchObject({
      sandbox: pod,
      pod_name: 'pod-u',
      namespace_name: 'ns-u',
      container: 'app',
    });
    expect(one(exp, 'container_threads', { container_id: pod }).labels).toMatchObject({ container: 'pause' });
    expect(one(exp, 'container_threads', { container_id: busy }).labels.container).toBeUndefined();
  });

  it('keeps CPU a counter: a later scrape never serves less, and the loop keeps it growing', async () => {
    const cpu = async () =>
      Number(
        one(parseExposition((await scrape(server.target)).body), 'container_cpu_usage_seconds_total', {
          container_id: busy,
        }).value,
      );
    const first = await cpu();
    await new Promise((r) => setTimeout(r, 300));
    expect(await cpu()).toBeGreaterThan(first);
  });
});
