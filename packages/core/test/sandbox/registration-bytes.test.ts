// The state-file fast path for registrations it has seen: whatever it recognises must parse
// exactly as the whole file does, and anything it does not must go the whole way.
import { isDeepStrictEqual } from 'node:util';
import { decodeRegistration, type MetricRegistration } from '@org/metricserver-prom-format';
import { describe, expect, it } from 'vitest';
import { readCapture } from '../../../../test-support/captures.js';
import { rng } from '../../../../test-support/rng.js';
import { registrationValueAt } from '../../src/discovery/json-scan.js';
import { type ContainerState, parseStateFile } from '../../src/discovery/state-file.js';
import { RegistrationBytes } from '../../src/sandbox/registration-bytes.js';
import { internRegistration } from '../../src/sandbox/registration-intern.js';

const raw = readCapture('state-file.raw.json');
const doc = JSON.parse(raw) as {
  spec: { annotations?: Record<string, string> };
  sandbox: { registeredMetrics: { metrics: unknown[] } };
};

/** The real state file with its registration's metrics in another order (runsc's order differs per sandbox). */
function reordered(seed: number, edit?: (d: typeof doc) => void): Buffer {
  const d = structuredClone(doc);
  const r = rng(seed);
  d.sandbox.registeredMetrics.metrics.sort(() => r() - 0.5);
  edit?.(d);
  return Buffer.from(JSON.stringify(d), 'utf8');
}

const reader = (): RegistrationBytes =>
  new RegistrationBytes((x) => internRegistration(decodeRegistration(x, '$.sandbox.registeredMetrics')));

/** A parse with its registration decoded and its metrics sorted: what must not change with a reader. */
function normal(s: ContainerState): unknown {
  if (s.sandbox === null) return s;
  const { decodedRegistration, registeredMetrics, ...rest } = s.sandbox;
  let reg: unknown = decodedRegistration ?? registeredMetrics;
  if (decodedRegistration === undefined && registeredMetrics !== null) {
    try {
      reg = decodeRegistration(registeredMetrics, '$');
    } catch (e) {
      reg = `undecodable: ${(e as Error).message}`;
    }
  }
  if (typeof reg === 'object' && reg !== null) {
    const r = reg as MetricRegistration;
    reg = { ...r, metrics: [...r.metrics].sort((a, b) => (a.prometheusName < b.prometheusName ? -1 : 1)) };
  }
  return { ...s, sandbox: { ...rest, registeredMetrics: reg } };
}

describe('registrationValueAt', () => {
  it('finds sandbox.registeredMetrics by structure, not by a key of that name in the spec', () => {
    const bytes = Buffer.from(raw.trim());
    expect(bytes.toString('latin1', registrationValueAt(bytes), registrationValueAt(bytes) + 12)).toBe('{"metrics":[');
    const tricked = reordered(1, (d) => {
      d.spec.annotations = { registeredMetrics: '{"metrics":[' };
    });
    const at = registrationValueAt(tricked);
    expect(tricked.toString('latin1', at - 31, at)).toBe('"originalOomScoreAdj":0,"registeredMetrics":'.slice(-31));
  });
});

describe('RegistrationBytes', () => {
  it('recognises a learned registration in another order and parses the file as the whole parse does', () => {
    const r = reader();
    const first = parseStateFile(reordered(1), 'a.state', r);
    const registration = first.sandbox?.decodedRegistration;
    expect(registration).toBeDefined();
    let recognised = 0;
    for (let seed = 2; seed < 40; seed++) {
      const bytes = reordered(seed);
      const at = registrationValueAt(bytes);
      const hit = r.recognize(bytes, at);
      expect(hit?.registration).toBe(registration);
      if (hit !== undefined) recognised++;
      const fast = parseStateFile(bytes, 'b.state', r);
      expect(fast.sandbox?.decodedRegistration).toBe(registration);
      expect(fast.sandbox?.registeredMetrics).toBe(registration);
      expect(normal(fast)).toStrictEqual(normal(parseStateFile(bytes, 'b.state')));
    }
    expect(recognised).toBe(38);
  });

  it('does not recognise a registration that differs in any metric, count or stage', () => {
    const r = reader();
    parseStateFile(reordered(1), 'a.state', r);
    type M = { description: string; prometheus_name: string };
    const variants: [string, (d: typeof doc) => void][] = [
      ['a description changed', (d) => void ((d.sandbox.registeredMetrics.metrics[3] as M).description += '!')],
      ['a metric missing', (d) => void d.sandbox.registeredMetrics.metrics.pop()],
      ['a metric twice', (d) => void d.sandbox.registeredMetrics.metrics.push(d.sandbox.registeredMetrics.metrics[0])],
      [
        'a metric twice instead of another',
        (d) => void (d.sandbox.registeredMetrics.metrics[1] = d.sandbox.registeredMetrics.metrics[0]),
      ],
      ['another stage', (d) => void ((d.sandbox.registeredMetrics as unknown as { stages: string[] }).stages = ['x'])],
    ];
    for (const [what, edit] of variants) {
      const bytes = reordered(7, edit);
      expect(r.recognize(bytes, registrationValueAt(bytes)), what).toBeUndefined();
      const parsed = parseStateFile(bytes, 'c.state', r);
      expect(parsed.sandbox?.decodedRegistration, what).not.toBe(
        parseStateFile(reordered(2), 'd.state', r).sandbox?.decodedRegistration,
      );
    }
  });

  it('gives way to the whole parse when the sandbox key is written twice', () => {
    const r = reader();
    parseStateFile(reordered(1), 'a.state', r);
    const once = reordered(3).toString('utf8');
    const twice = Buffer.from(`${once.slice(0, -1)},"sandbox":{"id":"other","pid":1}}`, 'utf8');
    expect(r.recognize(twice, registrationValueAt(twice))).toBeDefined(); // the first sandbox's bytes are known
    const parsed = parseStateFile(twice, 'e.state', r);
    expect(parsed.sandbox?.id).toBe('other'); // as JSON.parse reads it: the last key wins
    expect(parsed.sandbox?.registeredMetrics).toBeNull();
  });

  // Corrupted files: with the reader, the same state or the same error as without it.
  it('parses 600 corrupted files alike with and without it', () => {
    const r = reader();
    parseStateFile(reordered(1), 'a.state', r);
    const rand = rng(42);
    let parsed = 0;
    for (let k = 0; k < 600; k++) {
      const bytes = reordered(100 + k);
      for (let m = 0; m < 1 + Math.floor(rand() * 3); m++)
        bytes[Math.floor(rand() * bytes.length)] = Math.floor(rand() * 128);
      const run = (withReader: boolean): unknown => {
        try {
          return normal(parseStateFile(bytes, 'f.state', withReader ? r : undefined));
        } catch (e) {
          return `error: ${(e as Error).message}`;
        }
      };
      const a = run(true);
      if (!isDeepStrictEqual(a, run(false))) expect.fail(`case ${k}: ${JSON.stringify(a).slice(0, 300)}`);
      if (typeof a === 'object') parsed++;
    }
    expect(parsed).toBeGreaterThan(50); // not only errors: many corruptions land in strings
  });
});
