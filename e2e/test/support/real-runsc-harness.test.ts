// The harness and the independent iteration computation, checked against what
// real runsc itself prints, so the suites built on them assert real facts.
import { existsSync, readdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseExposition } from '../../src/exposition.js';
import { expectedIteration, goUtcString } from '../../src/iteration.js';
import { fixedWidthIds, isAlive, RealRunsc } from '../../src/runsc/harness.js';

describe('iteration label (independent of core)', () => {
  it('matches the values real runsc printed in the captures', () => {
    // From runsc 20240729 captures: UTC and a -08:00 offset.
    expect(goUtcString('2026-11-27T22:45:02.272446868Z')).toBe('2026-11-27 22:45:02.272446868 +0000 UTC');
    expect(expectedIteration('sb-a', '2026-11-27T22:45:02.272446868Z')).toBe('364890tlaro1q');
    expect(expectedIteration('sb-g', '2026-11-27T14:47:22.754125291-08:00')).toBe('30llrnz77msbh');
    expect(expectedIteration('sb-b', '2026-11-27T22:45:16.217460187Z')).toBe('xu0v68ecb182');
    expect(goUtcString('2026-01-02T03:04:05Z')).toBe('2026-01-02 03:04:05 +0000 UTC');
    expect(goUtcString('2026-01-02T03:04:05.100Z')).toBe('2026-01-02 03:04:05.1 +0000 UTC');
  });
});

describe('RealRunsc harness', () => {
  let rs: RealRunsc;
  const [a, b] = fixedWidthIds(`e2e-h${process.pid % 1000}-`, 2) as [string, string];

  beforeAll(async () => {
    rs = await RealRunsc.create();
    await Promise.all([
      rs.run({ id: a, metricServer: `${'/tmp'}/unused-${a}.sock`, tz: 'America/Los_Angeles' }),
      rs.run({ id: b }),
    ]);
  });
  afterAll(async () => {
    await rs?.cleanup();
  });

  it('starts sandboxes whose iteration label runsc computes as we do', () => {
    const st = rs.state(a);
    expect(st.createdAt).toMatch(/[+-]0[78]:00$/);
    const exp = parseExposition(rs.exportMetrics(a));
    const opens = exp.samples.find((s) => s.name === 'runsc_fs_opens');
    expect(opens?.labels).toEqual({ sandbox: a, iteration: expectedIteration(a, st.createdAt) });
  });

  it('kill -9 leaves the state file saying running; delete -force removes everything', async () => {
    const pid = await rs.kill9(b);
    expect(isAlive(pid)).toBe(false);
    expect(rs.state(b).status).toBe('running');
    await rs.deleteForce([b]);
    expect(readdirSync(rs.root).filter((f) => f.includes(b))).toEqual([]);
  });

  it('cleanup deletes the rest and removes the temp dir', async () => {
    const base = rs.base;
    await rs.cleanup();
    expect(existsSync(base)).toBe(false);
  });
});
