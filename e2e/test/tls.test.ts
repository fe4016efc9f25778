// --web-config-file end to end: the built CLI serving HTTPS with basic auth (a
// bcrypt hash as htpasswd writes it) to a fake fleet, scraped by a real
// Prometheus (scheme https, tls_config.ca_file mounted into its container,
// basic_auth). Jobs with a wrong password or plain HTTP must be down.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makePki, type Pki } from '../../test-support/tls-pki.js';
import { findSamples, parseExposition } from '../src/exposition.js';
import { type FleetRig, startRig } from '../src/fleet/rig.js';
import { freePort } from '../src/free-port.js';
import { type RunningPrometheus, startCustomPrometheus } from '../src/images/prometheus-image.js';
import { promQuery, waitFor } from '../src/prometheus-api.js';
import { expectPromtoolAccepts } from '../src/promtool.js';

const USER = 'prometheus';
const PASSWORD = 'e2e scrape secret';
// `htpasswd -nBC 10 "" | tr -d ':\n'` style hash of PASSWORD (cost 10, as operators make them).
const HASH = '$2y$10$lapnQx9FmwJ7Meyno/71NOyjHx8.aD9Blg4rzzOuNMCp.axMHkPJ.';
const COUNT = 3;

let dir: string;
let pki: Pki;
let rig: FleetRig;
let prom: RunningPrometheus | undefined;

interface HttpsResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function httpsGet(port: number, path: string, opts: { auth?: string; ca?: string } = {}): Promise<HttpsResult> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path,
        agent: false,
        ca: opts.ca,
        headers: opts.auth ? { Authorization: `Basic ${Buffer.from(opts.auth).toString('base64')}` } : {},
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }),
        );
      },
    );
    req.setTimeout(20_000, () => req.destroy(new Error(`GET ${path} timed out`)));
    req.on('error', reject);
    req.end();
  });
}

let caPem: string;
const port = (): number => Number(rig.address.split(':').at(-1));
const scrapeTls = (auth = `${USER}:${PASSWORD}`) => httpsGet(port(), '/metrics', { auth, ca: caPem });

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ms-e2e-tls-'));
  pki = makePki(dir);
  caPem = (await import('node:fs')).readFileSync(pki.caCert, 'utf8');
  const webConfig = join(dir, 'web-config.yml');
  writeFileSync(
    webConfig,
    [
      '# exporter-toolkit format',
      'tls_server_config:',
      '  cert_file: server.crt # relative to this file',
      '  key_file: server.key',
      'basic_auth_users:',
      `  ${USER}: ${HASH}`,
      '',
    ].join('\n'),
  );
  rig = await startRig({
    transport: 'tcp',
    fleet: { count: COUNT },
    flags: [`--web-config-file=${webConfig}`],
    server: { waitReady: false },
  });
  // The rig's readiness probe speaks plain HTTP: wait over HTTPS here instead.
  await waitFor(
    'the server answering over HTTPS and logging Server serving',
    async () => {
      const exited = await Promise.race([
        rig.server.exited,
        new Promise<undefined>((r) => setTimeout(() => r(undefined), 0)),
      ]);
      if (exited) throw new Error(`server exited ${JSON.stringify(exited)}: ${rig.server.output()}`);
      const r = await httpsGet(port(), `/runsc-metrics/healthcheck?root=${encodeURIComponent(rig.root)}`, {
        auth: `${USER}:${PASSWORD}`,
        ca: caPem,
      }).catch(() => undefined);
      return r?.status === 200 && /Server serving/.test(rig.server.output()) ? true : undefined;
    },
    20_000,
  );
});

afterAll(async () => {
  await prom?.stop();
  await rig?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the built CLI with --web-config-file', () => {
  it('serves the fleet over HTTPS to the right credentials, promtool-valid', async () => {
    const res = await scrapeTls();
    expect(res.status).toBe(200);
    expectPromtoolAccepts(res.body);
    const exp = parseExposition(res.body);
    expect(findSamples(exp, 'runsc_meta_num_sandboxes_running')[0]?.value).toBe(String(COUNT));
    expect(new Set(findSamples(exp, 'runsc_meta_sandbox_running').map((s) => s.labels.sandbox))).toEqual(
      new Set(rig.fleet.sandboxes.map((s) => s.id)),
    );
  });

  it('answers 401 with a Basic challenge to a wrong password and to no credentials', async () => {
    for (const auth of [`${USER}:wrong`, undefined]) {
      const res = await httpsGet(port(), '/metrics', { ca: caPem, ...(auth ? { auth } : {}) });
      expect(res.status).toBe(401);
      expect(res.headers['www-authenticate']).toBe('Basic');
      expect(res.body).toBe('Unauthorized\n');
    }
  });

  it('a client that does not trust the CA cannot connect', async () => {
    await expect(httpsGet(port(), '/metrics', { auth: `${USER}:${PASSWORD}` })).rejects.toThrow(
      /self[- ]signed|unable to (get|verify)/i,
    );
  });
});

describe('a real Prometheus scraping over TLS with basic auth', () => {
  it('the https + ca_file + basic_auth job is up and ingests the sandboxes; wrong password and plain http jobs are down', async () => {
    const target = rig.address;
    const job = (name: string, extra: Record<string, unknown>) => ({
      job_name: name,
      static_configs: [{ targets: [target] }],
      ...extra,
    });
    prom = await startCustomPrometheus({
      listenPort: await freePort(),
      readOnlyMounts: [dir],
      config: {
        global: { scrape_interval: '1s', scrape_timeout: '1s', evaluation_interval: '1s' },
        scrape_configs: [
          job('runsc-tls', {
            scheme: 'https',
            tls_config: { ca_file: pki.caCert },
            basic_auth: { username: USER, password: PASSWORD },
          }),
          job('runsc-wrong-password', {
            scheme: 'https',
            tls_config: { ca_file: pki.caCert },
            basic_auth: { username: USER, password: 'guess' },
          }),
          job('runsc-plain-http', { scheme: 'http', basic_auth: { username: USER, password: PASSWORD } }),
        ],
      },
    });
    const up = await waitFor(
      'up reported for all three jobs, runsc-tls up',
      async () => {
        const r = await promQuery(prom!.baseUrl, 'up');
        const byJob = new Map(r.map((s) => [s.metric.job, s.value?.[1]]));
        return byJob.size === 3 && byJob.get('runsc-tls') === '1' ? byJob : undefined;
      },
      60_000,
    );
    expect(Object.fromEntries(up)).toEqual({ 'runsc-tls': '1', 'runsc-wrong-password': '0', 'runsc-plain-http': '0' });
    const running = await waitFor(
      'runsc_meta_sandbox_running ingested from the TLS job',
      async () => {
        const r = await promQuery(prom!.baseUrl, 'runsc_meta_sandbox_running{job="runsc-tls"}');
        return r.length === COUNT ? r : undefined;
      },
      30_000,
    );
    expect(new Set(running.map((s) => s.metric.sandbox))).toEqual(new Set(rig.fleet.sandboxes.map((s) => s.id)));
    // And a sandbox's own metrics (not only meta ones): the first one the server serves.
    const samples = parseExposition((await scrapeTls()).body).samples;
    const own = samples.find((s) => s.labels.sandbox !== undefined && !s.name.startsWith('runsc_meta_'));
    expect(own).toBeDefined();
    const servedBy = new Set(samples.filter((s) => s.name === own?.name).map((s) => s.labels.sandbox));
    const ingested = await waitFor(
      `${own?.name} ingested from the TLS job`,
      async () => {
        const r = await promQuery(prom!.baseUrl, `${own?.name}{job="runsc-tls"}`);
        return r.length > 0 ? r : undefined;
      },
      30_000,
    );
    expect(new Set(ingested.map((s) => s.metric.sandbox))).toEqual(servedBy);
    // Nothing leaked to the failing jobs.
    expect(
      await promQuery(prom!.baseUrl, '{job=~"runsc-wrong-password|runsc-plain-http",__name__=~"runsc_.*"}'),
    ).toEqual([]);
    // The server saw the wrong password (401s in its request log).
    expect(rig.server.output()).toMatch(/"status":401/);
  });
});
