// The status page of the built CLI in headless Chromium: a fake fleet (pods, a
// hostile pod name, a lying sandbox, a dead control socket) discovered without
// a scrape (instant discovery), then one /metrics scrape, then the page as a
// browser builds it (--dump-dom) and a screenshot in .test-results/.
import { mkdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dumpDom, requireChromium, screenshot } from '../src/chromium.js';
import { type FleetRig, startRig } from '../src/fleet/rig.js';
import { expectPromtoolAccepts } from '../src/promtool.js';
import { httpGet, scrape } from '../src/scrape.js';

const RESULTS = resolve(dirname(fileURLToPath(import.meta.url)), '../../.test-results');
const SCREENSHOT = join(RESULTS, 'status-page.png');
const HOSTILE_POD = '<img src=x onerror="document.title=1">';

interface StatusJson {
  sandboxes: Array<{
    id: string;
    pod: string;
    namespace: string;
    running: boolean;
    lastExport: null | { ok: boolean; failure: string | null; error: string | null };
  }>;
  instantDiscovery: { enabled: boolean; watching: boolean };
}

let rig: FleetRig;
let url: string;
const ids: Record<string, string> = {};

async function status(): Promise<StatusJson> {
  const res = await httpGet(rig.server.target, '/runsc-metrics/status');
  expect(res.status).toBe(200);
  return JSON.parse(res.body) as StatusJson;
}

beforeAll(async () => {
  requireChromium(); // fails the suite loudly when missing
  mkdirSync(RESULTS, { recursive: true });
  rig = await startRig({ transport: 'tcp', flags: ['--per-sandbox-timeout=2s'] });
  url = `http://${rig.address}/`;
});

afterAll(async () => {
  await rig?.close();
});

describe('status page in headless Chromium', () => {
  it('lists sandboxes that appeared after start-up before any scrape (instant discovery, built CLI)', async () => {
    const add = async (key: string, opts: Parameters<FleetRig['fleet']['add']>[0]) => {
      ids[key] = (await rig.fleet.add(opts)).id;
    };
    await add('web', { pod: { name: 'web-7d9f', namespace: 'shop' } });
    await add('db', { pod: { name: 'db-0', namespace: 'shop' } });
    await add('hostile', { pod: { name: HOSTILE_POD, namespace: 'a&b' } });
    await add('liar', { behaviour: 'unregistered-metric', pod: { name: 'liar-1', namespace: 'evil' } });
    await add('silent', { behaviour: 'no-answer' });
    const want = Object.values(ids).sort();
    const t0 = Date.now();
    let seen: string[] = [];
    while (Date.now() - t0 < 5_000) {
      seen = (await status()).sandboxes.map((s) => s.id);
      if (seen.length === want.length) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    // The 20 s loop is far away, and no /metrics request was made: the watch found them.
    expect(seen).toEqual(want);
    const s = await status();
    expect(s.instantDiscovery).toEqual({ enabled: true, watching: true });
    for (const sb of s.sandboxes) expect(sb.lastExport).toBeNull();
  });

  it('shows each sandbox’s last export after a scrape, the verifier error of the liar, and escapes sandbox strings', async () => {
    const res = await scrape(rig.server.target);
    expectPromtoolAccepts(res.body);
    expect(res.body).toMatch(/^runsc_meta_num_sandboxes_broken_metrics 2 /m);

    const dom = await dumpDom(url);
    expect(dom).toContain('You have reached the runsc metrics server page!');
    expect(dom).toMatch(/<a href="\/metrics">\/metrics<\/a>/);
    expect(dom).toMatch(/<a href="\/runsc-metrics\/status">/);
    const row = (key: string): string => {
      const m = new RegExp(`<tr data-sandbox="${ids[key]}">(.*?)</tr>`, 's').exec(dom);
      if (!m) throw new Error(`no row for ${key} (${ids[key]}) in the DOM:\n${dom}`);
      return m[1] as string;
    };
    expect(row('web')).toMatch(/<td>web-7d9f<\/td><td>shop<\/td><td><span class="ok">yes<\/span><\/td>/);
    expect(row('web')).toContain('<span class="ok">ok</span>');
    expect(row('db')).toContain('<span class="ok">ok</span>');
    // The liar: rejected by the verifier, with the reason in its own column.
    expect(row('liar')).toContain('<span class="bad">rejected</span>');
    expect(row('liar')).toMatch(/<td class="err">snapshot rejected \([a-z-]+\): [^<]+<\/td>$/);
    // A stalled control socket: a timeout at the per-sandbox bound, no verifier error.
    expect(row('silent')).toMatch(
      /<span class="bad">timeout<\/span>: no verified answer within the per-sandbox deadline of \d+ ms/,
    );
    expect(row('silent')).toMatch(/<td class="num">(19|2[0-9])\d\d\.\d<\/td>/);
    // The hostile pod name is text in the DOM the browser built, never an element.
    expect(row('hostile')).toContain('<td>&lt;img src=x onerror="document.title=1"&gt;</td><td>a&amp;b</td>');
    expect(dom).not.toMatch(/<img/i);
    expect(dom).toMatch(/<title>runsc metrics<\/title>/);

    await screenshot(url, SCREENSHOT);
    const png = readFileSync(SCREENSHOT);
    expect(png.subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a');
    expect([png.readUInt32BE(16), png.readUInt32BE(20)]).toEqual([1280, 800]);
    expect(statSync(SCREENSHOT).size).toBeGreaterThan(10_000);
    console.log(`status page screenshot: ${SCREENSHOT}`);
  });

  it('keeps Go’s exact index body for non-browser clients', async () => {
    const res = await httpGet(rig.server.target, '/');
    expect(res.body).toBe(
      '<html><head><title>runsc metrics</title></head><body><p>You have reached the runsc metrics server page!</p>' +
        '<p>To see actual metric data, head over to <a href="/metrics">/metrics</a>.</p></body></html>',
    );
  });

  it('shows a removed sandbox gone without a scrape', async () => {
    await rig.fleet.get(ids.db as string)?.stop();
    const t0 = Date.now();
    while (Date.now() - t0 < 5_000 && (await status()).sandboxes.some((s) => s.id === ids.db)) {
      await new Promise((r) => setTimeout(r, 50));
    }
    expect((await status()).sandboxes.map((s) => s.id)).not.toContain(ids.db);
    const dom = await dumpDom(url);
    expect(dom).not.toContain(`data-sandbox="${ids.db}"`);
    expect(dom).toContain(`data-sandbox="${ids.web}"`);
  });
});
