// The body as pieces (finishPieces), large outputs and several builds at once. The
// builder hands its caller pieces to send, not a sink to write into: the chunk sink and
// Writable backpressure tests of the removed ExpositionWriter have no builder equivalent
// (the server writes the pieces itself); their rendering assertions are kept here.
import { describe, expect, test } from 'vitest';
import type { SnapshotExport } from '../../src/index.js';
import { ExpositionBuilder, FamilyPool, snapshotOf } from '../../src/index.js';
import { counter, exp, int } from '../support/build.js';
import { referenceExposition } from '../support/exposition-reference.js';
import { expectPromtoolAccepts } from '../support/promtool.js';
import { renderText } from '../support/render.js';

/** ~n sandboxes x 20 series: several hundred KiB of output. */
function bigInput(n: number): SnapshotExport[] {
  const out: SnapshotExport[] = [];
  for (let i = 0; i < n; i++) {
    const data = [];
    for (let m = 0; m < 20; m++)
      data.push(counter(`metric_${m}`, int(i * 1000 + m), { field: `v${m % 3}é` }, `help ${m}`));
    out.push(exp(data, { sandbox: `sandbox-${i}`, iteration: 'abcdef' }, 'runsc_'));
  }
  return out;
}

/** The oracle's text for the same snapshots. */
function reference(snaps: readonly SnapshotExport[]): string {
  const plain = snaps.map((s) => ({
    ...snapshotOf(s.snapshot),
    exporterPrefix: s.exporterPrefix,
    extraLabels: s.extraLabels,
  }));
  return referenceExposition(plain, { format: 'prometheus' }).text;
}

function build(snaps: readonly SnapshotExport[], pool?: FamilyPool): ExpositionBuilder {
  const b = new ExpositionBuilder({ pool });
  for (const s of snaps) b.add(s);
  return b;
}

describe('finishPieces', () => {
  test("the pieces in order are finish()'s bytes, and bytes is their total", () => {
    const snaps = bigInput(300);
    const expected = build(snaps).finish();
    expectPromtoolAccepts(expected);
    expect(expected.toString('utf8')).toBe(reference(snaps));
    const rendered = build(snaps).finishPieces();
    const all = Buffer.concat(rendered.pieces);
    expect(all.equals(expected)).toBe(true);
    expect(rendered.bytes).toBe(all.length);
    expect(rendered.pieces.length).toBeGreaterThan(3);
  });

  test('pieces are not overwritten by later builds on the same pool until released', () => {
    const pool = new FamilyPool();
    const snaps = bigInput(300);
    const rendered = build(snaps, pool).finishPieces();
    const text = Buffer.concat(rendered.pieces).toString('utf8');
    for (let k = 0; k < 3; k++) build(bigInput(5), pool).finish(); // finish() releases its own buffers at once
    expect(Buffer.concat(rendered.pieces).toString('utf8')).toBe(text);
    rendered.release();
    expect(build(bigInput(5), pool).finish().toString('utf8')).toBe(reference(bigInput(5)));
  });

  test('no snapshots: no pieces and 0 bytes', () => {
    const rendered = new ExpositionBuilder().finishPieces();
    expect(rendered.pieces).toEqual([]);
    expect(rendered.bytes).toBe(0);
  });
});

describe('several builds at once', () => {
  test('builders filled in turn on one pool each give their own complete output', () => {
    const pool = new FamilyPool();
    const a = bigInput(200);
    const b = bigInput(3);
    const ba = new ExpositionBuilder({ pool });
    const bb = new ExpositionBuilder({ pool });
    for (let i = 0; i < a.length; i++) {
      ba.add(a[i]!);
      if (i < b.length) bb.add(b[i]!);
    }
    const textB = bb.finish().toString('utf8');
    const textA = ba.finish().toString('utf8');
    expectPromtoolAccepts(textA);
    expectPromtoolAccepts(textB);
    expect(textA).toBe(reference(a));
    expect(textB).toBe(reference(b));
    expect(textA.length).toBeGreaterThan(textB.length);
  });
});

describe('large points', () => {
  test('a 3 MB label value is written whole and the pool keeps working', () => {
    const big = `${'x'.repeat(3_000_000)}"\n`;
    const pool = new FamilyPool();
    const text = build([exp([counter('m', int(1), { v: big })], { sandbox: 's' })], pool)
      .finish()
      .toString('utf8');
    expectPromtoolAccepts(text);
    expect(text).toContain(`m{sandbox="s",v="${'x'.repeat(3_000_000)}\\"\\n"} 1 `);
    expect(build(bigInput(1), pool).finish().toString('utf8')).toBe(renderText(bigInput(1)).text);
  });
});
