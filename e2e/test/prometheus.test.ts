// A real Prometheus (Debian's binary in a FROM-scratch image, testcontainers,
// host network) scraping the built server, and the server itself deployed in a
// container the way operators run it on a node; both against real sandboxes.
import type { StartedTestContainer } from 'testcontainers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseExposition, seriesKey } from '../src/exposition.js';
import { freePort } from '../src/free-port.js';
import { runTag } from '../src/ids.js';
import { type RunningPrometheus, startPrometheus } from '../src/images/prometheus-image.js';
import { buildServerImage, type ServerImage, startServerContainer } from '../src/images/server-image.js';
import { promQuery, promSeries, waitFor } from '../src/prometheus-api.js';
import { fixedWidthIds, RealRunsc } from '../src/runsc/harness.js';
import { scrape, targetFromAddress } from '../src/scrape.js';
import { type RunningServer, startServer } from '../src/server-process.js';

const JOB = 'runsc';
const FILTERED_JOB = 'runsc-fs-only';
// Series Prometheus synthesises per target; not part of what the server served.
const SYNTHETIC = new Set([
  'up',
  'scrape_duration_seconds',
  'scrape_samples_scraped',
  'scrape_series_added',
  'scrape_samples_post_metric_relabeling',
]);
const [hostA, hostB, boxed] = fixedWidthIds(`e2e-${runTag()}p`, 3) as [string, string, string];

let rs: RealRunsc;
let server: RunningServer;
let prom: RunningPrometheus;
let hostAddr: string;
let boxedAddr: string;

beforeAll(async () => {
  hostAddr = `127.0.0.1:${await freePort()}`;
  boxedAddr = `127.0.0.1:${await freePort()}`;
  rs = await RealRunsc.create();
  await Promise.all([
    rs.run({ id: hostA, metricServer: hostAddr, podName: 'pod-p', namespace: 'ns-p' }),
    rs.run({ id: hostB, metricServer: hostAddr }),
    rs.run({ id: boxed, metricServer: boxedAddr }),
  ]);
  // With --resource-metrics: Prometheus must ingest the runsc_container_* families as well.
  server = await startServer({ root: rs.root, address: hostAddr, flags: ['--resource-metrics'] });
  // Both targets from the start: the containerised server's is down until its test starts it.
  prom = await startPrometheus({
    listenPort: await freePort(),
    targets: [hostAddr, boxedAddr],
    job: JOB,
    // Prometheus percent-encodes the '?' of a metrics_path (/metrics%3F...): the server's index route
    // must rewrite it into a filtered /metrics, as Go's does.
    extraJobs: [{ job: FILTERED_JOB, targets: [hostAddr], metricsPath: '/metrics?runsc-sandbox-metrics-filter=^fs_' }],
  });
});

afterAll(async () => {
  await prom?.stop();
  await server?.stop('SIGTERM');
  await rs?.cleanup();
});

function withoutEmpty(labels: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(labels).filter(([, v]) => v !== ''));
}

/** Series Prometheus ingested from one target, as name+labels keys without job/instance. */
async function ingested(instance: string): Promise<Set<string>> {
  const series = await promSeries(prom.baseUrl, `{job="${JOB}",instance="${instance}"}`);
  const keys = new Set<string>();
  for (const s of series) {
    const { __name__: name = '', job: _job, instance: _inst, ...labels } = s;
    if (!SYNTHETIC.has(name)) keys.add(seriesKey(name, labels));
  }
  return keys;
}

describe('Prometheus scraping the server on the host', () => {
  it('sees the target up and ingests exactly the series /metrics served', async () => {
    await waitFor(`up{instance="${hostAddr}"} == 1`, async () => {
      const r = await promQuery(prom.baseUrl, `up{job="${JOB}",instance="${hostAddr}"} == 1`);
      return r.length === 1 ? r : undefined;
    });
    // Sandbox series are idle and stable: poll until what Prometheus holds equals a fresh scrape.
    let diff = '';
    await waitFor(
      'Prometheus series == served series',
      async () => {
        const samples = parseExposition((await scrape(server.target)).body).samples;
        // Prometheus treats an empty label value as no label (e.g. sandbox_metadata's experiment="").
        const served = new Set(samples.map((s) => seriesKey(s.name, withoutEmpty(s.labels))));
        const got = await ingested(hostAddr);
        const missing = [...served].filter((k) => !got.has(k));
        const extra = [...got].filter((k) => !served.has(k));
        diff = `missing ${JSON.stringify(missing.slice(0, 10))}, extra ${JSON.stringify(extra.slice(0, 10))}`;
        return missing.length === 0 && extra.length === 0 ? true : undefined;
      },
      30_000,
    ).catch((e: Error) => {
      throw new Error(`${e.message}: ${diff}`);
    });
    const opens = await promQuery(prom.baseUrl, `runsc_fs_opens{instance="${hostAddr}"}`);
    expect(new Set(opens.map((s) => s.metric.sandbox))).toEqual(new Set([hostA, hostB]));
    expect(opens.find((s) => s.metric.sandbox === hostA)?.metric).toMatchObject({
      pod_name: 'pod-p',
      namespace_name: 'ns-p',
    });
    // The resource families, one CPU series per container, as the dashboard queries them.
    const cpu = await promQuery(prom.baseUrl, `runsc_container_cpu_usage_seconds_total{instance="${hostAddr}"}`);
    expect(new Set(cpu.map((s) => s.metric.container_id))).toEqual(new Set([hostA, hostB]));
    const memory = await promQuery(
      prom.baseUrl,
      `sum by (sandbox) (runsc_container_memory_usage_bytes{instance="${hostAddr}"}) > 0`,
    );
    expect(memory.map((s) => s.metric.sandbox).sort()).toEqual([hostA, hostB].sort());
    const lo = await promQuery(
      prom.baseUrl,
      `runsc_container_network_receive_bytes_total{instance="${hostAddr}",interface="lo"}`,
    );
    expect(lo.length).toBe(2);
  });
});

describe('a metrics_path with a query (sent as /metrics%3F...)', () => {
  it('is served filtered: only fs_ sandbox metrics, meta metrics untouched', async () => {
    const series = await waitFor(
      `runsc_fs_opens in job ${FILTERED_JOB}`,
      async () => {
        const r = await promSeries(prom.baseUrl, `{job="${FILTERED_JOB}",sandbox!=""}`);
        return r.some((s) => s.__name__ === 'runsc_fs_opens') ? r : undefined;
      },
      30_000,
    );
    const own = series.filter((s) => !s.__name__?.startsWith('runsc_meta_'));
    expect(own.length).toBeGreaterThan(0);
    for (const s of own) expect(s.__name__).toMatch(/^runsc_fs_/);
    expect(series.some((s) => s.__name__ === 'runsc_meta_sandbox_running')).toBe(true);
    const up = await promQuery(prom.baseUrl, `up{job="${FILTERED_JOB}"}`);
    expect(up.map((s) => s.value?.[1])).toEqual(['1']);
  });
});

describe('the server deployed in a container (node + packed package, FROM scratch)', () => {
  let image: ServerImage | undefined;
  let boxedServer: StartedTestContainer | undefined;

  afterAll(async () => {
    await boxedServer?.stop({ timeout: 10_000 });
    image?.remove();
  });

  it('is scraped by Prometheus: up == 1 and its sandbox series ingested', async () => {
    image = await buildServerImage();
    boxedServer = await startServerContainer(image, { root: rs.root, address: boxedAddr });
    const health = targetFromAddress(boxedAddr);
    await waitFor('the containerised server answering /metrics', async () => (await scrape(health)).body);
    await waitFor(
      `up{instance="${boxedAddr}"} == 1`,
      async () => ((await promQuery(prom.baseUrl, `up{instance="${boxedAddr}"} == 1`)).length === 1 ? true : undefined),
      30_000,
    );
    const series = await waitFor(
      `runsc_fs_opens of ${boxed} via ${boxedAddr}`,
      async () => {
        const r = await promQuery(prom.baseUrl, `runsc_fs_opens{instance="${boxedAddr}"}`);
        return r.length > 0 ? r : undefined;
      },
      30_000,
    );
    expect(series.map((s) => s.metric.sandbox)).toEqual([boxed]);
    const running = await promQuery(prom.baseUrl, `runsc_meta_sandbox_running{instance="${boxedAddr}"}`);
    expect(running.map((s) => [s.metric.sandbox, s.value?.[1]])).toEqual([[boxed, '1']]);
  });
});
