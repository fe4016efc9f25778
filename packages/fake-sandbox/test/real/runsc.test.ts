// One REAL gVisor sandbox next to a fake one: their state files and
// Metrics.Export replies must have the same structure. Needs root and runsc
// (the recipe of the team's real-runsc notes). Without them the test fails
// loudly: `npm test` installs runsc, and a skipped comparison proves nothing.
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createFleet } from '../../src/index.js';
import { call, EXPORT_ALL } from '../support/client.js';
import { shapeDiff } from '../support/shape.js';

const which = (cmd: string): string | null => {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
};
const runsc = which('runsc');
const busybox = which('busybox');
const canRun = runsc !== null && busybox !== null && process.getuid?.() === 0;

/** Runs runsc with stdio ignored (pipes would stay open as long as the sandbox lives). */
function runRunsc(args: string[], timeoutMs = 30_000): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(runsc as string, args, { stdio: 'ignore' });
    const t = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`runsc ${args.join(' ')} timed out`));
    }, timeoutMs);
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(t);
      resolve(code ?? -1);
    });
  });
}

describe('against a real runsc sandbox', () => {
  it("state file and Metrics.Export reply have the same structure as a fake's", { timeout: 90_000 }, async () => {
    if (!canRun) {
      throw new Error(
        'needs root, runsc and busybox: apt-get install -t bookworm-backports runsc; apt-get install busybox-static',
      );
    }
    const base = mkdtempSync(join(tmpdir(), 'fsb-'));
    const realRoot = join(base, 'r');
    const bundle = join(base, 'b');
    const id = 'real-01';
    const flags = [`--root=${realRoot}`, '--network=none', `--metric-server=${join(base, 'm.sock')}`];
    mkdirSync(realRoot);
    for (const d of ['bin', 'proc', 'dev', 'sys', 'tmp', 'etc'])
      mkdirSync(join(bundle, 'rootfs', d), { recursive: true });
    copyFileSync(busybox as string, join(bundle, 'rootfs/bin/busybox'));
    symlinkSync('busybox', join(bundle, 'rootfs/bin/sleep'));
    const fleet = await createFleet({ root: join(base, 'f'), metricServer: join(base, 'm.sock') });
    try {
      expect(spawnSync(runsc as string, ['spec', '--', '/bin/sleep', '600'], { cwd: bundle }).status).toBe(0);
      expect(await runRunsc([...flags, 'run', '--detach', '--bundle', bundle, id])).toBe(0);
      const real = JSON.parse(readFileSync(join(realRoot, `${id}_sandbox:${id}.state`), 'utf8'));
      const sb = await fleet.add({ id: 'fake-01' });
      const fake = JSON.parse(readFileSync(sb.statePath, 'utf8'));
      // The spec is whatever `runsc spec` generated; everything runsc itself writes must match.
      expect(shapeDiff(real, fake, '$', new Set(['$.spec', '$.sandbox.registeredMetrics']))).toEqual([]);
      expect(Object.keys(fake.spec)).toEqual(Object.keys(real.spec));
      expect(fake.sandbox.metricMetadata).toEqual(real.sandbox.metricMetadata);
      const names = (r: { metrics: { prometheus_name: string }[] }): string[] =>
        r.metrics.map((m) => m.prometheus_name).sort();
      expect(names(fake.sandbox.registeredMetrics)).toEqual(names(real.sandbox.registeredMetrics));

      const realReply = JSON.parse((await call(real.sandbox.controlSocketPath, EXPORT_ALL, 5000)).bytes.toString());
      const fakeReply = JSON.parse((await call(sb.socketPath, EXPORT_ALL)).bytes.toString());
      expect(shapeDiff(realReply, fakeReply, '$', new Set(['$.result.snapshot.data']))).toEqual([]);
      // Entry shapes: every fake entry has the shape of a real entry of the same kind.
      type E = { metric: { type: number }; labels?: unknown };
      const realEntries = realReply.result.snapshot.data as E[];
      for (const e of fakeReply.result.snapshot.data as E[]) {
        const model = realEntries.find(
          (r) =>
            r.metric.type === e.metric.type &&
            !!r.labels === !!e.labels &&
            shapeDiff(r, e, '$', new Set(['$.val'])).length === 0,
        );
        if (!e.labels) expect(model, JSON.stringify(e)).toBeDefined();
      }

      // Entry order: runsc walks Go maps, so every export draws a new order (a map of ~100
      // metrics has ~128 starting points) while a metric's entries stay together. The fake
      // must do the same, or a decoder that guesses the last order is measured on a gift.
      const orders = async (socket: string): Promise<string[][]> => {
        const out: string[][] = [];
        for (let i = 0; i < 8; i++) {
          const reply = JSON.parse((await call(socket, EXPORT_ALL, 5000)).bytes.toString());
          out.push((reply.result.snapshot.data as { metric: { name: string } }[]).map((d) => d.metric.name));
        }
        return out;
      };
      for (const [who, seen] of [
        ['real', await orders(real.sandbox.controlSocketPath)],
        ['fake', await orders(sb.socketPath)],
      ] as const) {
        expect(
          new Set(seen.map((o) => o.join(' '))).size,
          `${who}: distinct orders in 8 exports`,
        ).toBeGreaterThanOrEqual(3);
        for (const names of seen) {
          const runs = names.filter((n, i) => i === 0 || names[i - 1] !== n);
          expect(new Set(runs).size, `${who}: a metric's entries are contiguous`).toBe(runs.length);
        }
      }
    } finally {
      await runRunsc([`--root=${realRoot}`, 'delete', '-force', id]).catch(() => -1);
      await fleet.close();
      rmSync(base, { recursive: true, force: true });
    }
  });
});
