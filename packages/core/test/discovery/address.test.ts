import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { addressMatches, isProcessAlive, substituteRuntimeRoot } from '../../src/discovery/index.js';

describe('addressMatches', () => {
  it('substitutes every %RUNTIME_ROOT% and compares exactly', () => {
    expect(addressMatches('%RUNTIME_ROOT%/metrics.sock', '/run/runsc/metrics.sock', '/run/runsc')).toBe(true);
    expect(addressMatches('%RUNTIME_ROOT%/m/%RUNTIME_ROOT%.sock', '/r/m//r.sock', '/r')).toBe(true);
    expect(addressMatches('/base/metrics.sock', '/base/metrics.sock', '/r')).toBe(true);
    // Server address given with the placeholder is substituted the same way.
    expect(addressMatches('/r/metrics.sock', '%RUNTIME_ROOT%/metrics.sock', '/r')).toBe(true);
  });

  it('does not normalise paths and never substitutes %ID%', () => {
    expect(addressMatches('%RUNTIME_ROOT%/metrics.sock', '/r/metrics.sock', '/r/')).toBe(false);
    expect(addressMatches('/base/%ID%.sock', '/base/sb-e.sock', '/r')).toBe(false);
    expect(substituteRuntimeRoot('/base/%ID%.sock', '/r')).toBe('/base/%ID%.sock');
  });

  it('an empty stored address never matches', () => {
    expect(addressMatches('', '', '/r')).toBe(false);
  });
});

describe('isProcessAlive', () => {
  it('is true for this process and false for pid 0 and negative pids', () => {
    expect(isProcessAlive(process.pid)).toBe(true);
    expect(isProcessAlive(0)).toBe(false);
    expect(isProcessAlive(-1)).toBe(false);
    expect(isProcessAlive(1.5)).toBe(false);
  });

  it('is false once a child has exited', async () => {
    const child = spawn(process.execPath, ['-e', '0']);
    const pid = child.pid!;
    await new Promise((r) => child.on('exit', r));
    // Reaped by Node: kill(pid, 0) now fails with ESRCH (unless the pid got reused at once).
    expect(isProcessAlive(pid)).toBe(false);
  });
});
