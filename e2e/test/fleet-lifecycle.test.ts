// Sandboxes coming and going under a running server, as runsc makes them:
// appearing, booting with the lock held, stopping, SIGKILLed; the root dir
// disappearing; %RUNTIME_ROOT% addresses; start-up without a root dir.
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { FakeSandbox } from '@org/metricserver-fake-sandbox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Exposition, findSamples, parseExposition } from '../src/exposition.js';
import { servedSeries } from '../src/fleet/expected.js';
import { type FleetRig, shortTempDir, startRig } from '../src/fleet/rig.js';
import { expectPromtoolAccepts } from '../src/promtool.js';
import { scrape } from '../src/scrape.js';
import { startServer } from '../src/server-process.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function checkedScrape(rig: FleetRig): Promise<{ exp: Exposition; ms: number }> {
  const res = await scrape(rig.server.target);
  expectPromtoolAccepts(res.body);
  return { exp: parseExposition(res.body), ms: res.durationMs };
}

const value = (exp: Exposition, name: string, labels: Record<string, string> = {}): string | undefined =>
  findSamples(exp, name, labels)[0]?.value;

describe('sandboxes coming and going', () => {
  let rig: FleetRig;
  beforeAll(async () => {
    rig = await startRig({ flags: ['--per-sandbox-timeout=2s'] });
  });
  afterAll(async () => {
    await rig?.close();
  });

  it('serves a sandbox from the first scrape after it appears', async () => {
    const { exp: empty } = await checkedScrape(rig);
    expect(empty.samples.filter((s) => s.labels.sandbox !== undefined)).toEqual([]);
    expect(value(empty, 'runsc_meta_num_sandboxes_total')).toBe('0');
    const sb = await rig.fleet.add();
    const { exp } = await checkedScrape(rig);
    expect(servedSeries(exp, sb.id).size).toBeGreaterThan(0);
    expect(value(exp, 'runsc_meta_sandbox_running', { sandbox: sb.id })).toBe('1');
    expect(value(exp, 'runsc_meta_num_sandboxes_total')).toBe('1');
    await sb.stop();
  });

  it('skips a sandbox whose state file is locked while it boots (without waiting), then serves it', async () => {
    const sb = rig.fleet.create({ behaviour: { name: 'booting', param: 2_000 } });
    const started = sb.start();
    while (!existsSync(sb.statePath)) await sleep(10); // written under the lock, as runsc create does
    const { exp, ms } = await checkedScrape(rig);
    expect(ms).toBeLessThan(1_500); // a held lock is skipped, never waited for
    expect(exp.samples.filter((s) => s.labels.sandbox === sb.id)).toEqual([]);
    expect(value(exp, 'runsc_meta_num_sandboxes_broken_metrics')).toBe('0');
    await started;
    const { exp: later } = await checkedScrape(rig);
    expect(servedSeries(later, sb.id).size).toBeGreaterThan(0);
    await sb.stop();
  });

  it('forgets a stopped (deleted) sandbox at the next scrape', async () => {
    const [a, b] = [await rig.fleet.add(), await rig.fleet.add()] as [FakeSandbox, FakeSandbox];
    expect(servedSeries((await checkedScrape(rig)).exp, a.id).size).toBeGreaterThan(0);
    await a.stop();
    const { exp } = await checkedScrape(rig);
    expect(exp.samples.filter((s) => s.labels.sandbox === a.id)).toEqual([]);
    expect(servedSeries(exp, b.id).size).toBeGreaterThan(0);
    await b.stop();
  });

  it('drops a SIGKILLed sandbox at the next discovery pass (as Go does), never counting it broken', async () => {
    const sb = await rig.fleet.add();
    expect(value((await checkedScrape(rig)).exp, 'runsc_meta_sandbox_running', { sandbox: sb.id })).toBe('1');
    await sb.crash(); // state file still says "running", the socket refuses connections
    const { exp } = await checkedScrape(rig);
    expect(exp.samples.filter((s) => s.labels.sandbox === sb.id)).toEqual([]);
    expect(value(exp, 'runsc_meta_num_sandboxes_broken_metrics')).toBe('0');
    expect(value(exp, 'runsc_meta_num_sandboxes_running')).toBe('0');
    await sb.stop();
  });

  it('reports a sandbox SIGKILLed while it is being queried as not running, not broken', async () => {
    const sb = await rig.fleet.add({ behaviour: { name: 'slow', param: 1_000 } });
    const pending = checkedScrape(rig);
    await sleep(300); // discovery done, the export is under way
    await sb.crash();
    const { exp } = await pending;
    expect(findSamples(exp, 'runsc_meta_sandbox_running', { sandbox: sb.id }).map((s) => s.value)).toEqual(['0']);
    expect(findSamples(exp, 'runsc_meta_sandbox_presence', { sandbox: sb.id }).map((s) => s.value)).toEqual(['1']);
    expect(value(exp, 'runsc_meta_num_sandboxes_broken_metrics')).toBe('0');
    const { exp: next } = await checkedScrape(rig);
    expect(next.samples.filter((s) => s.labels.sandbox === sb.id)).toEqual([]);
    await sb.stop();
  });
});

describe('%RUNTIME_ROOT% addresses', () => {
  let rig: FleetRig;
  afterAll(async () => {
    await rig?.close();
  });

  it('serves sandboxes naming the server with the placeholder or the substituted path, and no others', async () => {
    rig = await startRig({ address: '%RUNTIME_ROOT%/ms.sock', fleet: { count: 1 } });
    expect(rig.server.target).toEqual({ kind: 'unix', socketPath: join(rig.root, 'ms.sock') });
    const [placeholder] = rig.fleet.sandboxes as [FakeSandbox];
    const literal = await rig.fleet.add({ metricServer: join(rig.root, 'ms.sock') });
    const other = await rig.fleet.add({ metricServer: '%RUNTIME_ROOT%/other.sock' });
    const { exp } = await checkedScrape(rig);
    expect(servedSeries(exp, placeholder.id).size).toBeGreaterThan(0);
    expect(servedSeries(exp, literal.id).size).toBeGreaterThan(0);
    expect(exp.samples.filter((s) => s.labels.sandbox === other.id)).toEqual([]);
  });
});

describe('the root directory', () => {
  it('removed under a running server: it exits 0 (at its 20 s check); with --allow-unknown-root it stays', async () => {
    const dirs = [shortTempDir('lc'), shortTempDir('lc')] as const;
    const roots = dirs.map((d) => join(d, 'root'));
    for (const r of roots) mkdirSync(r);
    const strict = await startServer({ root: roots[0] as string, address: join(dirs[0], 'ms.sock') });
    const lenient = await startServer({
      root: roots[1] as string,
      address: join(dirs[1], 'ms.sock'),
      flags: ['--allow-unknown-root'],
    });
    try {
      for (const r of roots) rmSync(r, { recursive: true });
      const t0 = Date.now();
      const exit = await Promise.race([strict.exited, sleep(35_000).then(() => 'still running' as const)]);
      expect(exit, strict.output()).toEqual({ code: 0, signal: null });
      expect(Date.now() - t0).toBeLessThan(35_000);
      expect(existsSync(join(dirs[0], 'ms.sock'))).toBe(false);
      expect(lenient.child.exitCode).toBeNull();
      const res = await scrape(lenient.target);
      expectPromtoolAccepts(res.body);
      expect(value(parseExposition(res.body), 'runsc_meta_num_sandboxes_running')).toBe('0');
    } finally {
      await strict.stop('SIGKILL');
      await lenient.stop('SIGTERM');
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    }
  }, 60_000);

  it('missing at start-up: exit 128 with the reason; with --allow-unknown-root it starts', async () => {
    const dir = shortTempDir('lc');
    const missing = join(dir, 'nope');
    try {
      const strict = await startServer({ root: missing, address: join(dir, 'a.sock'), waitReady: false });
      expect((await strict.exited).code).toBe(128);
      expect(strict.output()).toContain(missing);
      const lenient = await startServer({
        root: missing,
        address: join(dir, 'b.sock'),
        flags: ['--allow-unknown-root'],
      });
      expect((await scrape(lenient.target)).status).toBe(200);
      expect(await lenient.stop('SIGTERM')).toEqual({ code: 0, signal: null });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
