import { TimestampError } from '@org/metricserver-prom-format';
import { describe, expect, it } from 'vitest';
import { iterationId } from '../../src/sandbox/index.js';
import { fixture } from '../support/memfs.js';

interface Row {
  file: string;
  id: string;
  createdAt: string;
  iteration: string;
}

const rows: Row[] = fixture('iteration-labels.txt')
  .split('\n')
  .filter((l) => l.trim() !== '' && !l.startsWith('#'))
  .map((l) => {
    const m = /^(\S+)\s+sandbox\.id=(\S+)\s+createdAt=(\S+)\s.*iteration=(\S+)$/.exec(l);
    if (m === null) throw new Error(`unparsed fixture line: ${l}`);
    return { file: m[1]!, id: m[2]!, createdAt: m[3]!, iteration: m[4]! };
  });

describe('iterationId', () => {
  it('the fixture has all seven rows, including the -08:00 one', () => {
    expect(rows).toHaveLength(7);
    expect(rows.some((r) => r.createdAt.endsWith('-08:00'))).toBe(true);
  });

  it.each(rows)('$file -> $iteration', (r) => {
    expect(iterationId(r.id, r.createdAt)).toBe(r.iteration);
  });

  it('accepts an already parsed instant', () => {
    expect(iterationId('sb-a', { seconds: 1795819502, nanos: 272446868 })).toBe('364890tlaro1q');
  });

  it('changes with the nanoseconds and the id', () => {
    expect(iterationId('sb-a', '2026-11-27T22:45:02.272446869Z')).not.toBe('364890tlaro1q');
    expect(iterationId('sb-A', '2026-11-27T22:45:02.272446868Z')).not.toBe('364890tlaro1q');
  });

  it('rejects a malformed timestamp', () => {
    expect(() => iterationId('x', 'yesterday')).toThrow(TimestampError);
  });
});
