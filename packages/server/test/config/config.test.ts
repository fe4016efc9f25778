import { describe, expect, it } from 'vitest';
import { parseArgs } from '../../src/args.js';
import {
  ConfigError,
  configFromFlags,
  DEFAULTS,
  defaultRoot,
  parseGoDurationMs,
  resolveConfig,
} from '../../src/config.js';

const flags = (argv: string[]) => {
  const p = parseArgs(argv);
  if (p.kind !== 'run') throw new Error('help');
  return p.flags;
};

describe('config', () => {
  it('defaults the root like runsc: $XDG_RUNTIME_DIR/runsc, else /var/run/runsc', () => {
    expect(defaultRoot({ XDG_RUNTIME_DIR: '/run/user/7' })).toBe('/run/user/7/runsc');
    expect(defaultRoot({ XDG_RUNTIME_DIR: '' })).toBe('/var/run/runsc');
    expect(defaultRoot({})).toBe('/var/run/runsc');
    expect(configFromFlags(flags(['--metric-server=:1']), {}).root).toBe('/var/run/runsc');
  });

  it('requires --metric-server', () => {
    expect(() => configFromFlags(flags(['--root=/r']), {})).toThrow(ConfigError);
    expect(() => configFromFlags(flags(['--root=/r']), {})).toThrow(/--metric-server/);
  });

  it('substitutes %RUNTIME_ROOT% (every occurrence) and rejects %ID% with the spec message', () => {
    expect(resolveConfig({ root: '/r', metricServer: '%RUNTIME_ROOT%/m-%RUNTIME_ROOT%.sock' }).address).toBe(
      '/r/m-/r.sock',
    );
    expect(() => resolveConfig({ root: '/r', metricServer: '/x/%ID%.sock' })).toThrow(
      "metric server address contains '%ID%': /x/%ID%.sock; this should have been replaced by the parent process",
    );
  });

  it('applies documented defaults', () => {
    const c = resolveConfig({ root: '/r', metricServer: ':1' });
    expect(c).toMatchObject({
      exporterPrefix: 'runsc_',
      perSandboxTimeoutMs: DEFAULTS.perSandboxTimeoutMs,
      scrapeConcurrency: 1024,
      maxConcurrentScrapes: 8,
      maxResponseBytes: 16 << 20,
      allowProfiling: false,
      allowUnknownRoot: false,
      pidFile: undefined,
    });
  });

  it('parses our own knobs and rejects bad values in one line', () => {
    const c = configFromFlags(
      flags([
        '--metric-server=:1',
        '--per-sandbox-timeout=2.5s',
        '--scrape-concurrency=16',
        '--max-response-bytes=4096',
        '--max-concurrent-scrapes=2',
      ]),
      {},
    );
    expect(c).toMatchObject({
      perSandboxTimeoutMs: 2500,
      scrapeConcurrency: 16,
      maxResponseBytes: 4096,
      maxConcurrentScrapes: 2,
    });
    expect(() => configFromFlags(flags(['--metric-server=:1', '--scrape-concurrency=lots']), {})).toThrow(
      /--scrape-concurrency/,
    );
    expect(() => resolveConfig({ root: '/r', metricServer: ':1', scrapeConcurrency: 0 })).toThrow(ConfigError);
  });

  it('parses Go durations', () => {
    expect(parseGoDurationMs('8s', 'x')).toBe(8000);
    expect(parseGoDurationMs('1m30s', 'x')).toBe(90_000);
    expect(parseGoDurationMs('250ms', 'x')).toBe(250);
    expect(parseGoDurationMs('1500us', 'x')).toBe(2);
    expect(() => parseGoDurationMs('8', 'x')).toThrow(ConfigError);
    expect(() => parseGoDurationMs('soon', 'x')).toThrow(ConfigError);
  });
});
