// A pool hands a family's buffer to the next build only once the body that points into
// it is released, keeps a bounded number of spares, and forgets names nobody uses.
import { describe, expect, test } from 'vitest';
import { ExpositionBuilder, FamilyPool, pointsOf, type RenderedPieces } from '../../src/index.js';
import { exp, gauge, int, T0 } from '../support/build.js';

function build(pool: FamilyPool, value: number, names = ['g']): RenderedPieces {
  const b = new ExpositionBuilder({ pool });
  b.add(
    exp(
      names.map((n) => gauge(n, int(value), { k: 'v' })),
      { sandbox: 's' },
    ),
  );
  return b.finishPieces();
}

const text = (r: RenderedPieces): string => Buffer.concat(r.pieces, r.bytes).toString('utf8');
/** The family's piece: the one holding its sample line. */
const familyPiece = (r: RenderedPieces, name: string): Buffer =>
  r.pieces.find((p) => p.toString('latin1').startsWith(`${name}{`))!;
/** Where a piece's bytes live (small buffers share node's pool slab, so the offset counts). */
const samePlace = (a: Buffer, b: Buffer): boolean => a.buffer === b.buffer && a.byteOffset === b.byteOffset;

describe('FamilyPool', () => {
  test('a held body keeps its bytes; once released, the next build renders into its buffer', () => {
    const pool = new FamilyPool();
    const first = build(pool, 111);
    const firstText = text(first);
    expect(firstText).toContain('g{k="v",sandbox="s"} 111 ');
    const second = build(pool, 222); // first still held: its buffer is not handed out
    expect(samePlace(familyPiece(second, 'g'), familyPiece(first, 'g'))).toBe(false);
    expect(text(first)).toBe(firstText);
    first.release();
    const third = build(pool, 333);
    expect(samePlace(familyPiece(third, 'g'), familyPiece(first, 'g'))).toBe(true);
    expect(text(third)).toBe(text(build(new FamilyPool(), 333)));
    expect(text(second)).toContain(' 222 ');
  });

  test('a second release gives nothing back twice', () => {
    const pool = new FamilyPool();
    const r = build(pool, 1);
    r.release();
    r.release();
    expect(pool.takeBuffer('g', 0)).toBeDefined();
    expect(pool.takeBuffer('g', 0)).toBeUndefined();
  });

  test('keeps at most two spare buffers per name and prefers one big enough', () => {
    const pool = new FamilyPool();
    pool.giveBuffers([
      ['n', Buffer.alloc(10)],
      ['n', Buffer.alloc(100)],
      ['n', Buffer.alloc(1000)],
    ]);
    expect(pool.takeBuffer('n', 50)!.length).toBe(100);
    expect(pool.takeBuffer('n', 50)!.length).toBe(10); // none big enough left: the builder grows it
    expect(pool.takeBuffer('n', 50)).toBeUndefined();
  });

  test('columns come back at finish and are reused by the next build of the name', () => {
    const pool = new FamilyPool();
    build(pool, 1, ['a', 'b']);
    const spare = pool.takeColumns('a');
    expect(spare).toBeDefined();
    pool.giveColumns([['a', spare![0], spare![1]]]);
    build(pool, 2, ['a']);
    // The build took a's pair and gave it back: the same arrays, not new ones.
    expect(pool.takeColumns('a')![0]).toBe(spare![0]);
  });

  test('forgets a name no build has given back for eight builds', () => {
    const pool = new FamilyPool();
    build(pool, 1, ['gone']).release();
    for (let i = 0; i < 8; i++) build(pool, 1, ['kept']).release();
    expect(pool.takeBuffer('gone', 0)).toBeDefined();
    build(pool, 1, ['kept']).release();
    expect(pool.takeBuffer('gone', 0)).toBeUndefined();
    expect(pool.takeBuffer('kept', 0)).toBeDefined();
    expect(pool.size).toBe(1);
  });

  test('finish() copies the body out and releases at once', () => {
    const pool = new FamilyPool();
    const b = new ExpositionBuilder({ pool });
    b.add({ snapshot: pointsOf({ when: T0, data: [gauge('g', int(5))] }), exporterPrefix: '', extraLabels: {} });
    const body = b.finish().toString('utf8');
    expect(body).toContain('\ng 5 ');
    expect(pool.takeBuffer('g', 0)).toBeDefined();
  });
});
