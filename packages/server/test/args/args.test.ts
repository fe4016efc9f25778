import { describe, expect, it } from 'vitest';
import { ArgsError, parseArgs } from '../../src/args.js';
import { helpText, SERVER_FLAGS } from '../../src/flags.js';

const run = (argv: string[]) => {
  const p = parseArgs(argv);
  if (p.kind !== 'run') throw new Error('expected run');
  return p;
};

function argsError(argv: string[]): ArgsError {
  try {
    parseArgs(argv);
  } catch (e) {
    if (e instanceof ArgsError) return e;
    throw e;
  }
  throw new Error(`no error for ${argv.join(' ')}`);
}

describe('Go flag syntax', () => {
  it('accepts -x, --x, -x=v, --x v and bare booleans', () => {
    const p = run([
      '-root=/r',
      '--metric-server',
      ':9',
      '--allow-profiling',
      '-allow-unknown-root=false',
      '-exporter-prefix',
      'p_',
    ]);
    expect(Object.fromEntries(p.flags)).toEqual({
      root: '/r',
      'metric-server': ':9',
      'allow-profiling': true,
      'allow-unknown-root': false,
      'exporter-prefix': 'p_',
    });
  });

  it("takes runsc's form: global flags, the metric-server subcommand, then its flags", () => {
    const p = run([
      '--root=/r',
      '--metric-server=/s.sock',
      'metric-server',
      '--exporter-prefix=x_',
      '--pid-file',
      '/p',
    ]);
    expect(p.flags.get('root')).toBe('/r');
    expect(p.flags.get('exporter-prefix')).toBe('x_');
    expect(p.flags.get('pid-file')).toBe('/p');
  });

  it('allows an empty value with = (an empty exporter prefix is legal)', () => {
    expect(run(['--exporter-prefix=', '--metric-server=:1']).flags.get('exporter-prefix')).toBe('');
  });

  it('accepts and ignores runsc global flags, bool and valued, reporting them', () => {
    const p = run(['--debug', '--debug-log', '/tmp/x/', '--platform=systrap', '-root', '/r', 'metric-server']);
    expect(p.ignored).toEqual(['debug', 'debug-log', 'platform']);
    expect(p.flags.get('root')).toBe('/r');
    expect(p.flags.has('debug')).toBe(false);
  });

  it('stops at -- and lets the last occurrence win', () => {
    const p = run(['--root=/a', '--root=/b', '--']);
    expect(p.flags.get('root')).toBe('/b');
  });

  it('answers help for -h, -help and --help, also after the subcommand', () => {
    expect(parseArgs(['-h']).kind).toBe('help');
    expect(parseArgs(['--help']).kind).toBe('help');
    expect(parseArgs(['--root=/r', 'metric-server', '-help']).kind).toBe('help');
  });
});

describe('errors and exit codes', () => {
  it('exits 2 for a malformed flag before the subcommand', () => {
    expect(argsError(['--bogus']).exitCode).toBe(2);
    expect(argsError(['--bogus']).message).toBe('flag provided but not defined: -bogus (see --help)');
    expect(argsError(['---root=/r']).exitCode).toBe(2);
    expect(argsError(['--root']).message).toBe('flag needs an argument: -root');
    expect(argsError(['--allow-profiling=yes']).message).toBe(
      'invalid boolean value "yes" for -allow-profiling: parse error',
    );
  });

  it('exits 128 for subcommand flag errors, unknown subcommands and stray arguments', () => {
    expect(argsError(['metric-server', '--bogus']).exitCode).toBe(128);
    const unknown = argsError(['--root=/r', 'list']);
    expect(unknown.exitCode).toBe(128);
    expect(unknown.message).toContain('unknown subcommand "list"');
    expect(argsError(['metric-server', 'extra']).exitCode).toBe(128);
  });
});

describe('help', () => {
  it('documents every flag and the ignored runsc flags', () => {
    const text = helpText();
    for (const f of SERVER_FLAGS) expect(text).toContain(`--${f.name}`);
    expect(text).toContain('--debug-log');
    expect(text).toContain('Exit status');
  });
});
