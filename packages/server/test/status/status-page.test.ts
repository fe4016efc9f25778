import { describe, expect, it } from 'vitest';
import { VerificationError } from '../../src/health.js';
import { acceptsHtml, INDEX_BODY, INDEX_PREFIX } from '../../src/routes/index-page.js';
import { escapeHtml } from '../../src/routes/status.js';
import { FakeBackend, FakeTarget } from '../support/fake-backend.js';
import { get, request } from '../support/http-client.js';
import { expectPromtoolAccepts } from '../support/promtool.js';
import { startTestServer } from '../support/server.js';

class LyingTarget extends FakeTarget {
  override async exportInto(): Promise<void> {
    this.calls++;
    throw new VerificationError(
      'snapshot rejected (counter-decreased): counter fs_opens went from 5 to <b>3</b>',
      'counter-decreased',
    );
  }
}

const HOSTILE_POD = '<script>alert("pod")</script>';

function fleet(): FakeBackend {
  return new FakeBackend([
    new FakeTarget({ id: 'sb-ok', labels: { sandbox: 'sb-ok', pod_name: 'web-1', namespace_name: 'prod' } }),
    new LyingTarget({
      id: 'sb-liar',
      labels: { sandbox: 'sb-liar', pod_name: HOSTILE_POD, namespace_name: "o'neil & co" },
    }),
    new FakeTarget({ id: 'sb-slow', delayMs: 'never' }),
    new FakeTarget({ id: 'sb-broken', fail: 'connection refused <img src=x onerror=alert(1)>' }),
    new FakeTarget({ id: 'sb-unloaded', loaded: false }),
  ]);
}

const html = { headers: { Accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' } };

describe('status page', () => {
  it('keeps Go’s exact index body for clients that do not ask for HTML', async () => {
    const s = await startTestServer({}, fleet());
    for (const accept of [undefined, '*/*', 'text/plain', 'text/html;q=0']) {
      const res = await request(s.target, 'GET', '/', accept === undefined ? {} : { headers: { Accept: accept } });
      expect(res.body).toBe(INDEX_BODY);
      expect(res.headers.vary).toBe('Accept');
    }
  });

  it('shows served sandboxes before any scrape without running discovery', async () => {
    const s = await startTestServer({}, fleet());
    const res = await request(s.target, 'GET', '/', html);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.headers['content-security-policy']).toMatch(/default-src 'none'/);
    expect(res.headers.vary).toBe('Accept');
    expect(res.body.startsWith(INDEX_PREFIX)).toBe(true);
    expect(res.body.endsWith('</body></html>')).toBe(true);
    expect(res.body).toContain('href="/metrics"');
    expect(res.body).toContain('href="/runsc-metrics/status"');
    expect(res.body.match(/<tr data-sandbox=/g)).toHaveLength(5);
    expect(res.body.match(/not scraped yet/g)).toHaveLength(5);
    expect(s.backend.refreshes).toBe(1); // the start-up pass only: the page runs none
    for (const t of s.backend.list) expect(t.calls).toBe(0);
  });

  it('shows each sandbox’s last export result after a scrape, escaped', async () => {
    const s = await startTestServer({ perSandboxTimeoutMs: 300 }, fleet());
    const scrape = await get(s.target, '/metrics');
    expectPromtoolAccepts(scrape.body);
    const res = await request(s.target, 'GET', '/', html);
    const row = (id: string): string => {
      const m = new RegExp(`<tr data-sandbox="${id}">(.*?)</tr>`).exec(res.body);
      if (!m) throw new Error(`no row for ${id} in ${res.body}`);
      return m[1] as string;
    };
    expect(row('sb-ok')).toMatch(
      /<td>web-1<\/td><td>prod<\/td><td><span class="ok">yes<\/span><\/td><td class="when">\d{4}-\d\d-\d\dT[\d:.]+Z<\/td><td class="num">\d+\.\d<\/td><td class="err"><span class="ok">ok<\/span><\/td><td class="err"><\/td>/,
    );
    expect(row('sb-liar')).toContain(
      '<td>&lt;script&gt;alert(&quot;pod&quot;)&lt;/script&gt;</td><td>o&#39;neil &amp; co</td>',
    );
    expect(row('sb-liar')).toContain(
      '<span class="bad">rejected</span></td><td class="err">snapshot rejected (counter-decreased): counter fs_opens went from 5 to &lt;b&gt;3&lt;/b&gt;</td>',
    );
    expect(row('sb-slow')).toMatch(
      /<span class="bad">timeout<\/span>: no verified answer within the per-sandbox deadline of \d+ ms/,
    );
    expect(row('sb-broken')).toContain(
      '<span class="bad">error</span>: connection refused &lt;img src=x onerror=alert(1)&gt;',
    );
    expect(row('sb-unloaded')).toContain('<span class="bad">not loaded</span>');
    // Nothing a sandbox said became markup.
    expect(res.body).not.toContain('<script>');
    expect(res.body).not.toContain('<img');
    expect(res.body).not.toContain('<b>3');
    expect(res.body).toMatch(/<b>5<\/b> served, <b>4<\/b> running, <b>4<\/b> whose last export failed/);
  });

  it('serves the same facts as JSON at /runsc-metrics/status', async () => {
    const s = await startTestServer({ perSandboxTimeoutMs: 300 }, fleet());
    const before = JSON.parse((await get(s.target, '/runsc-metrics/status')).body);
    expect(before.root).toBe(s.root);
    expect(before.instantDiscovery).toEqual({ enabled: true, watching: true });
    expect(before.sandboxes.map((x: { id: string }) => x.id)).toEqual([
      'sb-broken',
      'sb-liar',
      'sb-ok',
      'sb-slow',
      'sb-unloaded',
    ]);
    expect(before.sandboxes[2]).toEqual({
      id: 'sb-ok',
      pod: 'web-1',
      namespace: 'prod',
      iteration: '',
      loaded: true,
      running: true,
      lastExport: null,
      exports: 0,
      failures: 0,
      // Without --resource-metrics there is never resource data; the key stays, as null.
      resources: null,
    });
    await get(s.target, '/metrics');
    await get(s.target, '/metrics');
    const res = await get(s.target, '/runsc-metrics/status');
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
    const after = JSON.parse(res.body);
    const by = (id: string) => after.sandboxes.find((x: { id: string }) => x.id === id);
    expect(by('sb-ok')).toMatchObject({
      exports: 2,
      failures: 0,
      lastExport: { ok: true, failure: null, error: null },
    });
    expect(by('sb-ok').lastExport.durationMs).toBeGreaterThanOrEqual(0);
    expect(Date.parse(by('sb-ok').lastExport.finishedAt)).toBeGreaterThan(Date.now() - 60_000);
    expect(by('sb-liar')).toMatchObject({
      pod: HOSTILE_POD,
      failures: 2,
      lastExport: { ok: false, failure: 'verify' },
    });
    expect(by('sb-slow').lastExport.failure).toBe('timeout');
    expect(by('sb-slow').lastExport.durationMs).toBeGreaterThanOrEqual(250);
    expect(by('sb-broken').lastExport).toMatchObject({
      failure: 'error',
      error: 'connection refused <img src=x onerror=alert(1)>',
    });
    expect(by('sb-unloaded')).toMatchObject({ loaded: false, running: false, lastExport: { failure: 'not-loaded' } });
    expect(s.backend.refreshes).toBe(3); // the start-up pass and the two scrapes; the status route ran none
  });

  it('says when no sandbox is served', async () => {
    const s = await startTestServer({ instantDiscovery: false });
    const res = await request(s.target, 'GET', '/', html);
    expect(res.body).toContain('id="no-sandboxes"');
    expect(res.body).toContain('Instant discovery: off');
    expect(JSON.parse((await get(s.target, '/runsc-metrics/status')).body).sandboxes).toEqual([]);
  });
});

describe('acceptsHtml / escapeHtml', () => {
  it('reads Accept like a browser sends it', () => {
    expect(acceptsHtml(undefined)).toBe(false);
    expect(acceptsHtml('*/*')).toBe(false);
    expect(acceptsHtml('text/html')).toBe(true);
    expect(acceptsHtml('TEXT/HTML; charset=utf-8')).toBe(true);
    expect(acceptsHtml('text/*;q=0.5')).toBe(true);
    expect(acceptsHtml('text/html;q=0, */*')).toBe(false);
    expect(acceptsHtml('application/openmetrics-text; version=1.0.0,text/plain;q=0.5')).toBe(false);
  });
  it('escapes the five characters that matter in text and attributes', () => {
    expect(escapeHtml(`<a href="x" title='y'>&amp;</a>`)).toBe(
      '&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;amp;&lt;/a&gt;',
    );
  });
});
