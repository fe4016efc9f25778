// --resource-metrics: each container's usage (containerManager.Event through core) rendered
// as runsc_container_* families, with misbehaving sandboxes refused per sandbox.
import type { ContainerEvent, SandboxContainer } from '@org/metricserver-core';
import { createFleet, type Fleet } from '@org/metricserver-fake-sandbox';
import { ExpositionBuilder, type Labels, NO_LABELS } from '@org/metricserver-prom-format';
import { describe, expect, it } from 'vitest';
import type { ResourceUsage } from '../../src/backend.js';
import { startMetricServer } from '../../src/index.js';
import { memoryLogger } from '../../src/log.js';
import { RESOURCE_METRICS, resourcePoints, resourceTotals } from '../../src/resources.js';
import { get, request } from '../support/http-client.js';
import { expectValidOpenMetrics } from '../support/openmetrics.js';
import { expectPromtoolAccepts } from '../support/promtool.js';
import { onCleanup, tempDir } from '../support/server.js';

const HTML = { headers: { Accept: 'text/html' } };

const container = (id: string, root: boolean, containerName = ''): SandboxContainer => ({
  id,
  root,
  status: 'running',
  createdAt: '2026-12-03T10:00:00Z',
  containerName,
  containerType: root ? 'sandbox' : 'container',
  podName: 'web',
  podNamespace: 'prod',
});

const nic = (name: string, base: number) => ({
  name,
  rxBytes: base,
  rxPackets: base + 1,
  rxErrors: 0,
  rxDropped: 2,
  txBytes: base + 3,
  txPackets: base + 4,
  txErrors: 0,
  txDropped: 0,
});

const event = (id: string, memory: number, threads: number): ContainerEvent => ({
  id,
  cpuTotalNs: undefined,
  containerUsage: undefined,
  memoryUsageBytes: memory,
  memoryLimitBytes: 0,
  pidsCurrent: threads,
  pidsLimit: 0,
  interfaces: [nic('eth0', 1000), nic('lo', 10)],
});

describe('resourcePoints', () => {
  const usage: ResourceUsage = {
    when: { seconds: 1_800_000_000, nanos: 0 },
    containers: [container('pod-root', true), container('app', false, 'nginx')],
    events: [event('pod-root', 0, 1), event('app', 4096, 3)],
    cpuNs: [20_000_000, 1_500_000_000n],
  };

  it('one CPU, memory, limit and threads point per container; the network once, on the root container', () => {
    const points = resourcePoints(usage);
    const lines: string[] = [];
    for (let i = 0; i < points.length; i++) {
      const d = points.pointAt(i);
      lines.push(`${d.metric.name} ${JSON.stringify(d.labels)} ${d.number?.float || d.number?.int}`);
    }
    expect(lines).toContain('container_cpu_usage_seconds_total {"container_id":"pod-root"} 0.02');
    expect(lines).toContain('container_cpu_usage_seconds_total {"container_id":"app","container":"nginx"} 1.5');
    expect(lines).toContain('container_memory_usage_bytes {"container_id":"app","container":"nginx"} 4096');
    expect(lines).toContain('container_spec_memory_limit_bytes {"container_id":"app","container":"nginx"} 0');
    expect(lines).toContain('container_threads {"container_id":"app","container":"nginx"} 3');
    expect(lines).toContain(
      'container_network_receive_packets_dropped_total {"container_id":"pod-root","interface":"eth0"} 2',
    );
    expect(lines).toContain('container_network_transmit_bytes_total {"container_id":"pod-root","interface":"lo"} 13');
    expect(lines.filter((l) => l.startsWith('container_network_') && l.includes('"app"'))).toEqual([]);
    expect(points.length).toBe(2 * 4 + 2 * 8);
    expect(resourceTotals(usage)).toEqual({ cpuSeconds: 1.52, memoryBytes: 4096 });
  });

  it('renders identity-labelled points exactly as the identity given as extra labels would', () => {
    const identity = Object.freeze({ sandbox: 'sb-1', iteration: 'it-1', pod_name: 'web', namespace_name: 'prod' });
    const render = (extraLabels: Labels, points: ReturnType<typeof resourcePoints>): string => {
      const b = new ExpositionBuilder();
      b.add({ snapshot: points, exporterPrefix: 'runsc_', extraLabels, distinctSeries: true });
      return b.finish().toString();
    };
    const merged = render(NO_LABELS, resourcePoints(usage, undefined, identity));
    expect(merged).toContain('{container="nginx",container_id="app",iteration="it-1"');
    expect(merged).toBe(render(identity, resourcePoints(usage)));
    // Made once per container and identity: the second scrape's points carry the same frozen sets.
    const labelsOf = (p: ReturnType<typeof resourcePoints>) =>
      Array.from({ length: p.length }, (_, i) => p.pointAt(i).labels);
    const first = labelsOf(resourcePoints(usage, undefined, identity));
    const again = labelsOf(resourcePoints(usage, undefined, identity));
    for (let i = 0; i < first.length; i++) expect(again[i]).toBe(first[i]);
    expect(Object.isFrozen(first[0])).toBe(true);
  });

  it('documents every family in the server README', async () => {
    const { readFileSync } = await import('node:fs');
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    for (const m of RESOURCE_METRICS) expect(readme, m.name).toContain(`runsc_${m.name}`);
  });
});

async function fleetAndServer(behaviours: Parameters<typeof createFleet>[0]['behaviours'], count: number) {
  const root = tempDir('ms-res-');
  const address = `${root}/metrics.sock`;
  const fleet: Fleet = await createFleet({ root, metricServer: address, count, behaviours, hosts: 2 });
  onCleanup(() => fleet.close());
  const log = memoryLogger();
  const handle = await startMetricServer({
    root,
    metricServer: address,
    logger: log,
    perSandboxTimeoutMs: 1500,
    resourceMetrics: true,
  });
  onCleanup(() => handle.close('test over'));
  return { fleet, log, target: { socketPath: handle.address } };
}

/** Every sample of `family` for `sandbox`, as `{labels} value` lines. */
function samples(body: string, family: string, sandbox: string): Map<string, number> {
  const out = new Map<string, number>();
  const re = new RegExp(`^runsc_${family}\\{([^}]*sandbox="${sandbox}"[^}]*)\\} (\\S+) \\d+$`, 'gm');
  for (const m of body.matchAll(re)) out.set(m[1]!, Number(m[2]));
  return out;
}

describe('--resource-metrics against a fake fleet', () => {
  it('serves honest sandboxes, refuses the resource data of misbehaving ones (their metrics stay), one bound', async () => {
    const s = await fleetAndServer(
      [
        { behaviour: 'event-stall', count: 1 },
        { behaviour: 'event-garbage', count: 1 },
        { behaviour: 'event-foreign-id', count: 1 },
        { behaviour: 'event-negative', count: 1 },
      ],
      6,
    );
    const [stall, garbage, foreign, negative, ...honest] = s.fleet.sandboxes;
    const started = Date.now();
    const first = await get(s.target, '/metrics');
    expect(Date.now() - started).toBeLessThan(1500 + 2500);
    expect(first.status).toBe(200);
    expectPromtoolAccepts(first.body);
    // Metrics of every sandbox are served: the Event call comes after the verified export.
    expect(first.body).toMatch(/^runsc_meta_num_sandboxes_broken_metrics 0 /m);
    for (const sb of s.fleet.sandboxes) {
      expect(first.body).toMatch(new RegExp(`runsc_meta_sandbox_creation_time_seconds\\{[^}]*sandbox="${sb!.id}"`));
    }
    for (const sb of honest) {
      const cpu = samples(first.body, 'container_cpu_usage_seconds_total', sb!.id);
      expect(cpu.size, sb!.id).toBe(1);
      expect([...cpu.keys()][0]).toContain(`container_id="${sb!.id}"`);
      expect(samples(first.body, 'container_memory_usage_bytes', sb!.id).size).toBe(1);
      expect(samples(first.body, 'container_threads', sb!.id).size).toBe(1);
      const rx = samples(first.body, 'container_network_receive_bytes_total', sb!.id);
      expect([...rx.keys()].map((k) => /interface="([^"]+)"/.exec(k)?.[1]).sort()).toEqual(['eth0', 'lo']);
    }
    const reasons = new Map([
      [stall!.id, 'resources-timeout'],
      [garbage!.id, 'resources-protocol'],
      [foreign!.id, 'resources-protocol'],
      [negative!.id, 'resources-protocol'],
    ]);
    for (const [id, reason] of reasons) {
      expect(first.body).not.toMatch(new RegExp(`^runsc_container_\\w+\\{[^}]*sandbox="${id}"`, 'm'));
      expect(first.body).toMatch(
        new RegExp(`^runsc_meta_sandbox_export_failures\\{[^}]*reason="${reason}"[^}]*sandbox="${id}"\\} 1 `, 'm'),
      );
    }

    const second = await get(s.target, '/metrics');
    expectPromtoolAccepts(second.body);
    for (const sb of honest) {
      for (const family of ['container_cpu_usage_seconds_total', 'container_network_transmit_bytes_total']) {
        const before = samples(first.body, family, sb!.id);
        const after = samples(second.body, family, sb!.id);
        expect(after.size).toBe(before.size);
        for (const [k, v] of before) expect(after.get(k)!, `${family} ${k}`).toBeGreaterThanOrEqual(v);
      }
    }
    // The metrics filter applies to the resource families' names as to a sandbox's metrics.
    const filtered = await get(s.target, '/metrics?runsc-sandbox-metrics-filter=%5Econtainer_memory_usage');
    expectPromtoolAccepts(filtered.body);
    const families = new Set([...filtered.body.matchAll(/^runsc_(container_\w+)\{/gm)].map((m) => m[1]));
    expect([...families]).toEqual(['container_memory_usage_bytes']);
    const none = await get(s.target, '/metrics?runsc-sandbox-metrics-filter=%5Efs_');
    expect(none.body).not.toContain('runsc_container_');

    // Logged once per change of error, not once per scrape (event-negative alternates two lies).
    const warnings = s.log.records().filter((r) => r.msg === 'Could not read the resource usage of sandbox');
    expect([...new Set(warnings.map((w) => w.sandbox))].sort()).toEqual([...reasons.keys()].sort());
    for (const id of [stall!.id, garbage!.id, foreign!.id]) {
      expect(warnings.filter((w) => w.sandbox === id).length, id).toBe(1);
    }

    const status = JSON.parse((await get(s.target, '/runsc-metrics/status')).body) as {
      sandboxes: { id: string; resources: { cpuSeconds: number | null; error: string | null } | null }[];
    };
    for (const sb of status.sandboxes) {
      if (reasons.has(sb.id)) expect(sb.resources?.error, sb.id).toEqual(expect.any(String));
      else expect(sb.resources?.cpuSeconds, sb.id).toBeGreaterThanOrEqual(0);
    }
    const page = (await request(s.target, 'GET', '/', HTML)).body;
    expect(page).toContain('<th>CPU (s)</th><th>memory (MiB)</th>');
    // An honest sandbox's row has numbers; a refused one's has none (never collected) or a stale mark.
    const rows = new Map([...page.matchAll(/<tr data-sandbox="([^"]+)">(.*?)<\/tr>/g)].map((m) => [m[1], m[2]]));
    expect(rows.size).toBe(s.fleet.sandboxes.length);
    for (const sb of honest) expect(rows.get(sb!.id), sb!.id).toMatch(/resources-cpu">\d+\.\d\d</);
    for (const id of reasons.keys()) expect(rows.get(id), id).not.toMatch(/resources-cpu">\d/);
  });

  it('serves the families as valid OpenMetrics too (counters keep one _total)', async () => {
    const root = tempDir('ms-res-om-');
    const address = `${root}/metrics.sock`;
    const fleet = await createFleet({ root, metricServer: address, count: 2, hosts: 1 });
    onCleanup(() => fleet.close());
    const handle = await startMetricServer({
      root,
      metricServer: address,
      logger: memoryLogger(),
      resourceMetrics: true,
      openMetrics: true,
    });
    onCleanup(() => handle.close('test over'));
    const res = await request({ socketPath: handle.address }, 'GET', '/metrics', {
      headers: { Accept: 'application/openmetrics-text; version=1.0.0' },
    });
    expect(res.headers['content-type']).toContain('application/openmetrics-text');
    const byName = new Map(expectValidOpenMetrics(res.body).map((f) => [f.name, f]));
    const cpu = byName.get('runsc_container_cpu_usage_seconds');
    expect(cpu?.type).toBe('counter');
    expect(new Set(cpu?.samples.map((x) => x.name))).toEqual(new Set(['runsc_container_cpu_usage_seconds_total']));
    expect(cpu?.samples).toHaveLength(2);
    expect(byName.get('runsc_container_memory_usage_bytes')?.type).toBe('gauge');
    expect(byName.get('runsc_container_network_receive_bytes')?.samples).toHaveLength(4); // lo and eth0, 2 sandboxes
  });

  it('keeps one host cgroup file open per served sandbox and closes it when the sandbox goes', async () => {
    const { readdirSync, readlinkSync } = await import('node:fs');
    const cgroupFds = (): number =>
      readdirSync('/proc/self/fd').filter((fd) => {
        try {
          return readlinkSync(`/proc/self/fd/${fd}`).startsWith('/sys/fs/cgroup/');
        } catch {
          return false; // closed while listing
        }
      }).length;
    const before = cgroupFds();
    const s = await fleetAndServer([], 12);
    await get(s.target, '/metrics');
    await get(s.target, '/metrics');
    // Every fake sandbox resolves to a readable cgroup (its pid's); none is opened twice.
    expect(cgroupFds() - before, 'one kept usage file per sandbox (is /sys/fs/cgroup mounted?)').toBe(12);
    for (const sb of s.fleet.sandboxes.slice(0, 5)) await sb!.stop();
    const after = await get(s.target, '/metrics');
    expect(after.body).not.toContain(`sandbox="${s.fleet.sandboxes[0]!.id}"`);
    expect(cgroupFds() - before).toBe(7);
  });

  it('is off by default: no container families, as the Go server', async () => {
    const root = tempDir('ms-res-off-');
    const address = `${root}/metrics.sock`;
    const fleet = await createFleet({ root, metricServer: address, count: 2, hosts: 1 });
    onCleanup(() => fleet.close());
    const handle = await startMetricServer({ root, metricServer: address, logger: memoryLogger() });
    onCleanup(() => handle.close('test over'));
    const res = await get({ socketPath: handle.address }, '/metrics');
    expect(res.status).toBe(200);
    expect(res.body).toMatch(/runsc_meta_num_sandboxes_running 2 /);
    expect(res.body).not.toContain('runsc_container_');
    const page = (await request({ socketPath: handle.address }, 'GET', '/', HTML)).body;
    expect(page).toContain('id="sandbox-table"');
    expect(page).not.toContain('CPU (s)');
  });
});
