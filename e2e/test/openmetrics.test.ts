// OpenMetrics end to end: the built server with --openmetrics behind a real
// Prometheus (which asks for application/openmetrics-text;version=1.0.0 first and
// for gzip), against a fake fleet. Prometheus must keep the target up and ingest
// every counter under its OpenMetrics sample name, <family>_total.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectValidOpenMetrics } from '../../test-support/openmetrics.js';
import { type FleetRig, startRig } from '../src/fleet/rig.js';
import { freePort } from '../src/free-port.js';
import { type RunningPrometheus, startPrometheus } from '../src/images/prometheus-image.js';
import { promQuery, promSeries, waitFor } from '../src/prometheus-api.js';
import { httpGet } from '../src/scrape.js';

const JOB = 'runsc-openmetrics';
const OM_ACCEPT = 'application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5';

let rig: FleetRig;
let prom: RunningPrometheus;

beforeAll(async () => {
  rig = await startRig({ transport: 'tcp', fleet: { count: 3 }, flags: ['--openmetrics'] });
  prom = await startPrometheus({ listenPort: await freePort(), targets: [rig.address], job: JOB });
});

afterAll(async () => {
  await prom?.stop();
  await rig?.close();
});

describe('Prometheus scraping OpenMetrics', () => {
  it('the server answers OpenMetrics to an OpenMetrics Accept, valid per the strict parser', async () => {
    const res = await httpGet(rig.server.target, '/metrics', { headers: { Accept: OM_ACCEPT } });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/openmetrics-text; version=1.0.0; charset=utf-8');
    const fams = expectValidOpenMetrics(res.body);
    expect(fams.filter((f) => f.type === 'counter').length).toBeGreaterThan(5);
  });

  it('keeps the target up and ingests counters as <family>_total, never under the bare 0.0.4 name', async () => {
    await waitFor(
      'up == 1',
      async () => {
        const r = await promQuery(prom.baseUrl, `up{job="${JOB}"} == 1`);
        return r.length === 1 ? r : undefined;
      },
      30_000,
    );
    const res = await httpGet(rig.server.target, '/metrics', { headers: { Accept: OM_ACCEPT } });
    const counters = expectValidOpenMetrics(res.body).filter((f) => f.type === 'counter');
    const want = new Set(counters.map((f) => `${f.name}_total`));
    let names = new Set<string>();
    await waitFor(
      'every served counter ingested as <family>_total',
      async () => {
        names = new Set((await promSeries(prom.baseUrl, `{job="${JOB}"}`)).map((s) => s.__name__ ?? ''));
        return [...want].every((n) => names.has(n)) ? true : undefined;
      },
      30_000,
    ).catch((e: Error) => {
      throw new Error(`${e.message}: missing ${JSON.stringify([...want].filter((n) => !names.has(n)).slice(0, 10))}`);
    });
    for (const f of counters) expect(names.has(f.name), f.name).toBe(false);
    // A gVisor counter (no _total on the wire) and the meta counter, with their values.
    const total = await promQuery(prom.baseUrl, `runsc_meta_num_sandboxes_total{job="${JOB}"}`);
    expect(total.map((s) => s.value?.[1])).toEqual(['3']);
    const timeouts = await promQuery(prom.baseUrl, `runsc_meta_sandbox_export_timeouts_total{job="${JOB}"}`);
    expect(new Set(timeouts.map((s) => s.metric.sandbox))).toEqual(new Set(rig.fleet.sandboxes.map((s) => s.id)));
    // Histograms arrive whole (buckets, sum, count) and nothing named _min/_max/_ssd.
    expect([...names].some((n) => /_(min|max|ssd)$/.test(n) && !n.startsWith('runsc_meta_'))).toBe(false);
  });
});
