// The bin's own heap tuning: which flags it adds, and that the built bin really runs
// with them (re-executed in place: same pid, stdio kept) unless the operator chose them.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { HEAP_FLAGS, missingHeapFlags, relaunchArgv } from '../../src/relaunch.js';

const bin = fileURLToPath(new URL('../../dist/bin.js', import.meta.url));

describe('missingHeapFlags', () => {
  it('adds every heap flag the operator did not set', () => {
    expect(missingHeapFlags([], undefined)).toEqual([...HEAP_FLAGS]);
    expect(missingHeapFlags(['--enable-source-maps'], '--max-old-space-size=512')).toEqual([...HEAP_FLAGS]);
  });
  it("leaves an operator's choice alone, from node flags or NODE_OPTIONS, in either spelling", () => {
    expect(missingHeapFlags(['--max-semi-space-size=16'], undefined)).toEqual(['--heap-growing-percent=10']);
    expect(missingHeapFlags([], '--max_semi_space_size=2 --heap-growing-percent=50')).toEqual([]);
  });
});

describe('relaunchArgv', () => {
  it('keeps node flags first, then the heap flags, the script and its arguments', () => {
    expect(relaunchArgv('/n', ['--cpu-prof'], ['--a=1'], ['/n', '/bin.js', '--root', 'x'])).toEqual([
      '/n',
      '--cpu-prof',
      '--a=1',
      '/bin.js',
      '--root',
      'x',
    ]);
  });
});

describe('dist/bin.js', () => {
  /** What `--help` prints, plus the flags V8 runs with and the pid, from a preload that reports them on exit. */
  function run(
    env: Record<string, string> = {},
    nodeFlags: string[] = [],
  ): { out: string; code: number | null; pid: number } {
    if (!existsSync(bin)) throw new Error(`${bin} is missing: run \`pnpm turbo build\` first (npm test does)`);
    const r = spawnSync(process.execPath, [...nodeFlags, bin, '--help'], {
      encoding: 'utf8',
      env: { ...process.env, ...env },
      timeout: 20_000,
    });
    return { out: `${r.stdout}${r.stderr}`, code: r.status, pid: r.pid };
  }

  it('re-executes itself with the heap flags, keeping its stdout, and says nothing about it', () => {
    const r = run({}, ['--require', fileURLToPath(new URL('./report-flags.cjs', import.meta.url))]);
    expect(r.code).toBe(0);
    expect(r.out).toContain('--metric-server');
    const report = /FLAGS (\d+) (.*)\n/.exec(r.out);
    expect(report, r.out).not.toBeNull();
    expect(report![2]).toContain('--max-semi-space-size=4');
    expect(report![2]).toContain('--heap-growing-percent=10');
    // Once, and from the process we started: replaced in place (execve), not a child.
    expect(r.out.match(/FLAGS /g)).toHaveLength(1);
    expect(Number(report![1])).toBe(r.pid);
    expect(r.out).not.toContain('running without');
  });

  it('runs as started when the operator set the flags (NODE_OPTIONS, node flags)', () => {
    const preload = ['--require', fileURLToPath(new URL('./report-flags.cjs', import.meta.url))];
    const r = run({ NODE_OPTIONS: '--max-semi-space-size=8' }, ['--heap-growing-percent=20', ...preload]);
    expect(r.code).toBe(0);
    const report = /FLAGS (\d+) (.*)\n/.exec(r.out);
    expect(report![2]).not.toContain('--max-semi-space-size');
    expect(Number(report![1])).toBe(r.pid);
  });
});
