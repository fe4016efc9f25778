// A real Prometheus (Debian's binary, FROM scratch, host network) with a
// caller-written config and host directories bind-mounted read-only (CA files,
// client certificates): what prometheus-image.ts builds, for scrape jobs its
// option set does not cover (scheme https, tls_config, basic_auth).
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GenericContainer, type StartedTestContainer, Wait } from 'testcontainers';
import { addExitHook } from '../exit-hooks.js';
import { requireTool } from '../require-tool.js';
import type { RunningPrometheus } from './prometheus-image.js';
import { copyBinaryWithLibs, makeContext, removeImage } from './rootfs.js';

export interface CustomPrometheusOptions {
  /** Loopback port of Prometheus' own HTTP API (host network). */
  listenPort: number;
  /** The whole prometheus.yml, as an object (JSON is YAML). */
  config: unknown;
  /** Host directories mounted read-only at the same path, e.g. the one holding ca.crt. */
  readOnlyMounts?: string[];
}

export async function startCustomPrometheus(o: CustomPrometheusOptions): Promise<RunningPrometheus> {
  requireTool('docker');
  requireTool('prometheus');
  const listen = `127.0.0.1:${o.listenPort}`;
  const { dir, rootfs } = makeContext(
    'prom-custom-img',
    `ENTRYPOINT ["/usr/bin/prometheus", "--config.file=/etc/prometheus/prometheus.yml", ` +
      `"--storage.tsdb.path=/prometheus", "--web.listen-address=${listen}"]`,
  );
  copyBinaryWithLibs(rootfs, '/usr/bin/prometheus');
  mkdirSync(join(rootfs, 'etc', 'prometheus'), { recursive: true });
  mkdirSync(join(rootfs, 'prometheus'), { recursive: true });
  writeFileSync(join(rootfs, 'etc', 'prometheus', 'prometheus.yml'), JSON.stringify(o.config, null, 2));
  const tag = `metricserver-e2e-prometheus-custom:${process.pid}-${o.listenPort}`;
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
