import { describe, expect, test } from 'vitest';
import { escapeComment, escapeHelp, escapeLabelValue } from '../../src/escape.js';
import {
  assertLabelName,
  assertMetricName,
  InvalidNameError,
  isValidLabelName,
  isValidMetricName,
} from '../../src/names.js';

describe('escaping', () => {
  test('HELP: backslash and newline, nothing else', () => {
    expect(escapeHelp('plain')).toBe('plain');
    expect(escapeHelp('a\\b')).toBe('a\\\\b');
    expect(escapeHelp('line1\nline2')).toBe('line1\\nline2');
    expect(escapeHelp('"quoted" } # {x="y"}')).toBe('"quoted" } # {x="y"}');
    expect(escapeHelp('\\n')).toBe('\\\\n');
  });

  test('label values: backslash, quote, newline', () => {
    expect(escapeLabelValue('plain')).toBe('plain');
    expect(escapeLabelValue('a"b')).toBe('a\\"b');
    expect(escapeLabelValue('a\\b')).toBe('a\\\\b');
    expect(escapeLabelValue('a\nb')).toBe('a\\nb');
    expect(escapeLabelValue('\\"')).toBe('\\\\\\"');
    expect(escapeLabelValue('} # {')).toBe('} # {');
    expect(escapeLabelValue('é😀')).toBe('é😀');
  });

  test('comment text cannot break out of its line', () => {
    expect(escapeComment('a\nb')).toBe('a\\nb');
    expect(escapeComment('ok')).toBe('ok');
  });
});

describe('names', () => {
  test.each(['a', 'A', '_', ':', 'a:b', 'runsc_fs_opens', 'Z9_:'])('metric name %j is valid', (s) => {
    expect(isValidMetricName(s)).toBe(true);
    expect(() => assertMetricName(s)).not.toThrow();
  });
  test.each(['', '1a', 'a-b', 'a b', 'é', 'a\n', 'a{}', 'a.b'])('metric name %j is invalid', (s) => {
    expect(isValidMetricName(s)).toBe(false);
    expect(() => assertMetricName(s)).toThrow(InvalidNameError);
  });
  test.each(['a', 'A', '_', '_a', 'sysno', 'le', 'a9'])('label name %j is valid', (s) => {
    expect(isValidLabelName(s)).toBe(true);
    expect(() => assertLabelName(s)).not.toThrow();
  });
  test.each(['', '__name__', '__x', '9a', 'a:b', 'a-b', 'é', 'a b'])('label name %j is invalid', (s) => {
    expect(isValidLabelName(s)).toBe(false);
    expect(() => assertLabelName(s)).toThrow(InvalidNameError);
  });
});
