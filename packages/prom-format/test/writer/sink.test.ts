import { Writable } from 'node:stream';
import { describe, expect, test } from 'vitest';
import type { SnapshotExport } from '../../src/index.js';
import { ExpositionWriter, SinkClosedError } from '../../src/index.js';
import { counter, exp, int } from '../support/build.js';
import { expectPromtoolAccepts } from '../support/promtool.js';

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

/** A Writable that takes each chunk slowly and records whether anyone ignored its backpressure. */
class SlowSink extends Writable {
  readonly chunks: Buffer[] = [];
  writesWhileFull = 0;
  falseReturns = 0;
  constructor() {
    super({ highWaterMark: 16 * 1024 });
  }
  override write(chunk: unknown, ...rest: never[]): boolean {
    if (this.writableNeedDrain) this.writesWhileFull++;
    const ok = super.write(chunk, ...rest);
    if (!ok) this.falseReturns++;
    return ok;
  }
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.chunks.push(chunk);
    setTimeout(cb, 1);
  }
}

describe('chunk callback sink', () => {
  test('pieces of >= 32 KiB ending on line boundaries, same bytes as renderToString', async () => {
    const snaps = bigInput(300);
    const w = new ExpositionWriter();
    const expected = w.renderToString({}, snaps);
    expectPromtoolAccepts(expected);
    const chunks: Buffer[] = [];
    const n = await w.write((c) => chunks.push(c), {}, snaps);
    const all = Buffer.concat(chunks);
    expect(all.toString('utf8')).toBe(expected);
    expect(n).toBe(all.length);
    expect(n).toBe(Buffer.byteLength(expected));
    expect(chunks.length).toBeGreaterThan(3);
    for (const c of chunks.slice(0, -1)) {
      expect(c.length).toBeGreaterThanOrEqual(32 * 1024);
      expect(c[c.length - 1]).toBe(0x0a);
    }
    // Chunks are copies: a later write must not change what the sink already holds.
    await w.write(() => undefined, {}, bigInput(5));
    expect(Buffer.concat(chunks).toString('utf8')).toBe(expected);
  });

  test('no snapshots: the sink is never called and the count is 0', async () => {
    let calls = 0;
    expect(await new ExpositionWriter().write(() => calls++, {}, [])).toBe(0);
    expect(calls).toBe(0);
  });

  test('a throwing callback rejects the write and the writer stays usable', async () => {
    const w = new ExpositionWriter();
    await expect(
      w.write(
        () => {
          throw new Error('client went away');
        },
        {},
        bigInput(10),
      ),
    ).rejects.toThrow('client went away');
    const text = w.renderToString({}, bigInput(2));
    expectPromtoolAccepts(text);
    expect(text).toBe(new ExpositionWriter().renderToString({}, bigInput(2)));
  });
});

describe('Writable sink', () => {
  test('backpressure is honoured: never written to while it asks to drain', async () => {
    const snaps = bigInput(300);
    const sink = new SlowSink();
    const w = new ExpositionWriter();
    const n = await w.write(sink, {}, snaps);
    await new Promise<void>((resolve) => sink.end(resolve));
    const all = Buffer.concat(sink.chunks);
    expect(all.length).toBe(n);
    expectPromtoolAccepts(all);
    expect(all.toString('utf8')).toBe(w.renderToString({}, snaps));
    expect(sink.falseReturns).toBeGreaterThan(0); // the test did exercise backpressure
    expect(sink.writesWhileFull).toBe(0);
  });

  test('a destroyed stream rejects with SinkClosedError', async () => {
    const sink = new SlowSink();
    sink.destroy();
    await expect(new ExpositionWriter().write(sink, {}, bigInput(1))).rejects.toBeInstanceOf(SinkClosedError);
  });

  test('a stream closed while waiting for drain rejects instead of hanging', async () => {
    const sink = new SlowSink();
    const p = new ExpositionWriter().write(sink, {}, bigInput(300));
    setTimeout(() => sink.destroy(), 5);
    await expect(p).rejects.toBeInstanceOf(SinkClosedError);
  });

  test('a stream error while waiting for drain rejects with that error', async () => {
    const sink = new SlowSink();
    sink.on('error', () => undefined);
    const p = new ExpositionWriter().write(sink, {}, bigInput(300));
    setTimeout(() => sink.destroy(new Error('EPIPE-ish')), 5);
    await expect(p).rejects.toThrow(/EPIPE-ish|closed/);
  });
});

describe('one writer, many calls', () => {
  test('concurrent write() calls are serialised and each gets its own complete output', async () => {
    const w = new ExpositionWriter();
    const a = bigInput(200);
    const b = bigInput(3);
    const sa = new SlowSink();
    const chunksB: Buffer[] = [];
    const [na, nb] = await Promise.all([w.write(sa, {}, a), w.write((c) => chunksB.push(c), {}, b)]);
    // renderToString while nothing runs reuses the same buffer and must agree.
    expectPromtoolAccepts(Buffer.concat(sa.chunks));
    expectPromtoolAccepts(Buffer.concat(chunksB));
    expect(Buffer.concat(sa.chunks).toString('utf8')).toBe(w.renderToString({}, a));
    expect(Buffer.concat(chunksB).toString('utf8')).toBe(w.renderToString({}, b));
    expect(na).toBeGreaterThan(nb);
  });

  test('renderToString during a pending write does not disturb it', async () => {
    const w = new ExpositionWriter();
    const a = bigInput(200);
    const sink = new SlowSink();
    const p = w.write(sink, {}, a);
    await new Promise((r) => setTimeout(r, 2));
    const small = w.renderToString({}, bigInput(1));
    await p;
    expectPromtoolAccepts(small);
    expectPromtoolAccepts(Buffer.concat(sink.chunks));
    expect(small).toBe(new ExpositionWriter().renderToString({}, bigInput(1)));
    expect(Buffer.concat(sink.chunks).toString('utf8')).toBe(new ExpositionWriter().renderToString({}, a));
  });
});

describe('large points', () => {
  test('a 3 MB label value is written whole and the writer keeps working', async () => {
    const big = `${'x'.repeat(3_000_000)}"\n`;
    const w = new ExpositionWriter();
    const chunks: Buffer[] = [];
    await w.write((c) => chunks.push(c), {}, [exp([counter('m', int(1), { v: big })], { sandbox: 's' })]);
    const text = Buffer.concat(chunks).toString('utf8');
    expectPromtoolAccepts(text);
    expect(text).toContain(`m{sandbox="s",v="${'x'.repeat(3_000_000)}\\"\\n"} 1 `);
    expect(w.renderToString({}, bigInput(1))).toBe(new ExpositionWriter().renderToString({}, bigInput(1)));
  });
});
