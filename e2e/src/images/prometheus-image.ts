// A real Prometheus in a container built locally FROM scratch out of Debian's
// /usr/bin/prometheus, with a generated config, run on host networking.
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GenericContainer, type StartedTestContainer, Wait } from 'testcontainers';
import { addExitHook } from '../exit-hooks.js';
import { requireTool } from '../require-tool.js';
import { copyBinaryWithLibs, makeContext, removeImage } from './rootfs.js';

export interface PrometheusOptions {
  /** Loopback port Prometheus' own HTTP API listens on (host network). */
  listenPort: number;
  /** host:port scrape targets. */
  targets: string[];
  job?: string;
  metricsPath?: string;
  scrapeIntervalSeconds?: number;
  /** More scrape jobs (e.g. the same target with a metrics_path carrying a query). */
  extraJobs?: { job: string; targets: string[]; metricsPath: string }[];
}

export interface RunningPrometheus {
  container: StartedTestContainer;
  baseUrl: string;
  stop(): Promise<void>;
}

function config(o: PrometheusOptions): unknown {
  const interval = `${o.scrapeIntervalSeconds ?? 1}s`;
  return {
    global: { scrape_interval: interval, scrape_timeout: interval, evaluation_interval: interval },
    scrape_configs: [
      {
        job_name: o.job ?? 'runsc',
        metrics_path: o.metricsPath ?? '/metrics',
        static_configs: [{ targets: o.targets }],
      },
      ...(o.extraJobs ?? []).map((j) => ({
        job_name: j.job,
        metrics_path: j.metricsPath,
        static_configs: [{ targets: j.targets }],
      })),
    ],
  };
}

/** Prometheus with the generated static-target config above. */
export function startPrometheus(o: PrometheusOptions): Promise<RunningPrometheus> {
  return startCustomPrometheus({ listenPort: o.listenPort, config: config(o) });
}

export interface CustomPrometheusOptions {
  /** Loopback port of Prometheus' own HTTP API (host network). */
  listenPort: number;
  /** The whole prometheus.yml, as an object (JSON is YAML: no YAML library needed). */
  config: unknown;
  /** Host directories mounted read-only at the same path, e.g. the one holding a CA certificate. */
  readOnlyMounts?: string[];
}

/** Prometheus with a caller-written config (https, tls_config, basic_auth jobs) and read-only mounts. */
export async function startCustomPrometheus(o: CustomPrometheusOptions): Promise<RunningPrometheus> {
  requireTool('docker');
  requireTool('prometheus');
  const listen = `127.0.0.1:${o.listenPort}`;
  const { dir, rootfs } = makeContext(
    'prom-img',
    `ENTRYPOINT ["/usr/bin/prometheus", "--config.file=/etc/prometheus/prometheus.yml", ` +
      `"--storage.tsdb.path=/prometheus", "--web.listen-address=${listen}"]`,
  );
  copyBinaryWithLibs(rootfs, '/usr/bin/prometheus');
  mkdirSync(join(rootfs, 'etc', 'prometheus'), { recursive: true });
  mkdirSync(join(rootfs, 'prometheus'), { recursive: true });
  writeFileSync(join(rootfs, 'etc', 'prometheus', 'prometheus.yml'), JSON.stringify(o.config, null, 2));
  // Ryuk is off (its image cannot be pulled), so stop() removes the image and context itself.
  const tag = `metricserver-e2e-prometheus:${process.pid}-${o.listenPort}`;
  let container: StartedTestContainer;
  try {
    const image = await GenericContainer.fromDockerfile(dir).build(tag, { deleteOnExit: false });
    container = await image
      .withNetworkMode('host')
      .withBindMounts((o.readOnlyMounts ?? []).map((p) => ({ source: p, target: p, mode: 'ro' as const })))
      .withWaitStrategy(Wait.forLogMessage(/Server is ready to receive web requests/))
      .withStartupTimeout(60_000)
      .start();
  } catch (e) {
    removeImage(tag);
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  // Ryuk is off: if the test process dies, this hook removes the container and the image.
  const removeHook = addExitHook(() => {
    spawnSync('docker', ['rm', '-f', container.getId()], { stdio: 'ignore', timeout: 20_000 });
    removeImage(tag);
  });
  return {
    container,
    baseUrl: `http://${listen}`,
    async stop() {
      try {
        await container.stop({ timeout: 5_000 });
      } finally {
        removeImage(tag);
        rmSync(dir, { recursive: true, force: true });
        removeHook();
      }
    },
  };
}
