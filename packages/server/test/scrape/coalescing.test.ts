// Concurrent scrapes with the same filters share one export; different filters
// do not; a request that leaves does not cut the export the others wait for.
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { ReleasedOutcomeError } from '../../src/body.js';
import { compileRe2 } from '../../src/filters.js';
import type { ScrapeRequest, Scraper } from '../../src/scrape.js';
import { FakeBackend, FakeTarget } from '../support/fake-backend.js';
import { expectPromtoolAccepts } from '../support/promtool.js';
import { NO_FILTER, newScraper } from '../support/scraper.js';

const scraper = (backend: FakeBackend) => newScraper(backend).s;

const text = (o: Awaited<ReturnType<Scraper['scrape']>>): string => o.text();

describe('scrape coalescing', () => {
  it('4 concurrent scrapes with the same filters: one export per sandbox, 4 complete bodies', async () => {
    const targets = [new FakeTarget({ id: 'slow', delayMs: 150 }), new FakeTarget({ id: 'fast', delayMs: 1 })];
    const backend = new FakeBackend(targets);
    const s = scraper(backend);
    const outs = await Promise.all([0, 1, 2, 3].map(() => s.scrape(NO_FILTER, new AbortController().signal)));
    for (const t of targets) expect(t.calls, t.id).toBe(1);
    for (const o of outs) {
      const body = text(o);
      expectPromtoolAccepts(body);
      expect(body).toMatch(/^runsc_fs_opens\{sandbox="slow"\} 1 /m);
      expect(body).toMatch(/^runsc_fs_opens\{sandbox="fast"\} 1 /m);
    }
    // One rendered body, compressed once, for all of them.
    expect(new Set(outs).size).toBe(1);
    const zipped = outs[0]!.gzip();
    expect(outs[3]!.gzip()).toBe(zipped);
    expect(gunzipSync(Buffer.concat(await zipped)).toString('utf8')).toBe(outs[0]!.text());
    // Settled scrapes are not reused: the next one exports again.
    await s.scrape(NO_FILTER, new AbortController().signal);
    for (const t of targets) expect(t.calls).toBe(2);
  });

  it('a scrape arriving while one is in flight joins it (same filters, capability filter included)', async () => {
    const t = new FakeTarget({ id: 'slow', delayMs: 200 });
    const s = scraper(new FakeBackend([t]));
    const capNet: ScrapeRequest = { ...NO_FILTER, capabilityMatcher: compileRe2('NET') };
    const first = s.scrape(capNet, new AbortController().signal);
    await new Promise((r) => setTimeout(r, 60));
    const joined = s.scrape({ ...NO_FILTER, capabilityMatcher: compileRe2('NET') }, new AbortController().signal);
    const [a, b] = await Promise.all([first, joined]);
    expect(t.calls).toBe(1);
    expect(a).toBe(b);
  });

  it('different metrics or capability filters do not share, and keep per-sandbox serialisation', async () => {
    const t = new FakeTarget({ id: 'one', delayMs: 60 });
    const s = scraper(new FakeBackend([t]));
    const reqs: ScrapeRequest[] = [
      NO_FILTER,
      { metricsFilter: 'fs_', metricsMatcher: compileRe2('fs_'), capabilityMatcher: undefined },
      { ...NO_FILTER, capabilityMatcher: compileRe2('CHOWN') },
    ];
    const outs = await Promise.all(reqs.map((r) => s.scrape(r, new AbortController().signal)));
    expect(t.calls).toBe(3);
    expect(t.maxInFlight).toBe(1);
    expect(text(outs[2]!)).not.toContain('capability="NET_RAW"');
    expect(text(outs[0]!)).toContain('capability="NET_RAW"');
  });

  it('the same filters in another format do not share (the body is rendered per format)', async () => {
    const t = new FakeTarget({ id: 'slow', delayMs: 100 });
    const s = scraper(new FakeBackend([t]));
    const [prom, om] = await Promise.all([
      s.scrape(NO_FILTER, new AbortController().signal),
      s.scrape({ ...NO_FILTER, format: 'openmetrics' }, new AbortController().signal),
    ]);
    expect(t.calls).toBe(2);
    expect(prom!.format).toBe('prometheus');
    expect(text(om!)).toMatch(/# EOF\n$/);
    expect(text(prom!)).toMatch(/# End of metric data\.\n$/);
  });

  it('a client leaving does not abort the export others share; when all leave it is aborted', async () => {
    const t = new FakeTarget({ id: 'slow', delayMs: 200 });
    const s = scraper(new FakeBackend([t]));
    const leaver = new AbortController();
    const gone = s.scrape(NO_FILTER, leaver.signal);
    const stays = s.scrape(NO_FILTER, new AbortController().signal);
    setTimeout(() => leaver.abort(new Error('client went away')), 30);
    await expect(gone).rejects.toThrow('client went away');
    const out = await stays;
    expect(text(out)).toMatch(/^runsc_fs_opens\{sandbox="slow"\} 1 /m);
    expect(t.calls).toBe(1);

    const stall = new FakeTarget({ id: 'stall', delayMs: 'never' });
    const s2 = scraper(new FakeBackend([stall]));
    const c1 = new AbortController();
    const c2 = new AbortController();
    const p1 = s2.scrape(NO_FILTER, c1.signal);
    const p2 = s2.scrape(NO_FILTER, c2.signal);
    await new Promise((r) => setTimeout(r, 30));
    c1.abort(new Error('one gone'));
    c2.abort(new Error('both gone'));
    await expect(p1).rejects.toThrow('one gone');
    await expect(p2).rejects.toThrow('both gone');
    // The shared export saw the abort: the stalled query ended at once, not after 8 s.
    await new Promise((r) => setTimeout(r, 20));
    expect(stall.inFlight).toBe(0);
    // And the next scrape starts a fresh export (the aborted one is not reused).
    const again = s2.scrape(NO_FILTER, new AbortController().signal);
    await new Promise((r) => setTimeout(r, 20));
    expect(stall.calls).toBe(2);
    void again.catch(() => {});
  });

  it('an already aborted signal rejects at once without starting an export', async () => {
    const t = new FakeTarget({ id: 'x' });
    const s = scraper(new FakeBackend([t]));
    const c = new AbortController();
    c.abort(new Error('gone before'));
    await expect(s.scrape(NO_FILTER, c.signal)).rejects.toThrow('gone before');
    expect(t.calls).toBe(0);
  });
});

describe('scrape body holds', () => {
  const turn = (): Promise<void> => new Promise((r) => setImmediate(r));
  const opens = (o: Awaited<ReturnType<Scraper['scrape']>>): string =>
    /^runsc_fs_opens\{sandbox="a"\} (\d+) /m.exec(o.text())![1]!;

  it('a body stays whole while any request holds it, and reads as released once all have let go', async () => {
    const s = scraper(new FakeBackend([new FakeTarget({ id: 'a', delayMs: 20 })]));
    const [x, y] = await Promise.all([0, 1].map(() => s.scrape(NO_FILTER, new AbortController().signal)));
    expect(x).toBe(y);
    await turn(); // the scraper's own hold is gone
    x!.release();
    expect(opens(y!)).toBe('1'); // y's hold keeps it
    y!.release();
    expect(() => y!.text()).toThrow(ReleasedOutcomeError);
    expect(() => y!.hold()).toThrow(ReleasedOutcomeError);
  });

  it('later scrapes reuse a released body but never a held one', async () => {
    const s = scraper(new FakeBackend([new FakeTarget({ id: 'a' })]));
    const first = await s.scrape(NO_FILTER, new AbortController().signal);
    const firstText = first.text();
    const fam = (o: typeof first): Buffer => o.pieces.find((p) => p.toString('latin1').startsWith('runsc_fs_opens{'))!;
    const firstPiece = fam(first);
    await turn();
    const second = await s.scrape(NO_FILTER, new AbortController().signal);
    await turn();
    expect(first.text()).toBe(firstText); // held: the second scrape rendered elsewhere
    expect(opens(second)).toBe('2');
    first.release();
    const third = await s.scrape(NO_FILTER, new AbortController().signal);
    await turn();
    expect(opens(third)).toBe('3');
    expect(opens(second)).toBe('2');
    const samePlace = (a: Buffer, b: Buffer): boolean => a.buffer === b.buffer && a.byteOffset === b.byteOffset;
    expect(samePlace(fam(second), firstPiece)).toBe(false);
    expect(samePlace(fam(third), firstPiece)).toBe(true); // rendered into the released body's buffer
    expectPromtoolAccepts(third.text());
  });

  it('an outcome every client left is let go by the scraper alone; the next scrape is whole', async () => {
    const s = scraper(new FakeBackend([new FakeTarget({ id: 'a', delayMs: 30 })]));
    const leaving = new AbortController();
    const gone = s.scrape(NO_FILTER, leaving.signal);
    leaving.abort(new Error('client left'));
    await expect(gone).rejects.toThrow('client left');
    const next = await s.scrape(NO_FILTER, new AbortController().signal);
    expectPromtoolAccepts(next.text());
  });
});
