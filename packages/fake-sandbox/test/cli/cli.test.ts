import { existsSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CliError, parseBehaviours, parseFleetArgs } from '../../src/cli/args.js';
import { runCli } from '../../src/cli/main.js';
import { shortRoot } from '../support/client.js';

describe('fleet flags', () => {
  it('parses every flag, in both --flag value and --flag=value forms', () => {
    expect(
      parseFleetArgs([
        'fleet',
        '--root',
        '/r',
        '--metric-server=/m.sock',
        '--count',
        '10',
        '--hosts=2',
        '--seed',
        '4',
        '--boot-ms',
        '5',
        '--behaviour',
        'slow:300=2,garbage,huge=1',
      ]),
    ).toEqual({
      root: '/r',
      metricServer: '/m.sock',
      count: 10,
      hosts: 2,
      seed: 4,
      bootMs: 5,
      behaviours: [
        { behaviour: { name: 'slow', param: 300 }, count: 2 },
        { behaviour: 'garbage', count: 1 },
        { behaviour: 'huge', count: 1 },
      ],
    });
  });

  it.each([
    [['fleet', '--metric-server', '/m', '--count', '1'], '--root is required'],
    [['fleet', '--root', '/r', '--count', '1'], '--metric-server is required'],
    [['fleet', '--root', '/r', '--metric-server', '/m'], '--count is required'],
    [
      ['fleet', '--root', '/r', '--metric-server', '/m', '--count', 'ten'],
      '--count: expected an integer >= 0, got "ten"',
    ],
    [
      ['fleet', '--root', '/r', '--metric-server', '/m', '--count', '1', '--hosts', '0'],
      '--hosts: expected an integer >= 1, got "0"',
    ],
    [['fleet', '--root', '/r', '--bogus', 'x'], 'unknown flag "--bogus"'],
    [['fleet', '--root'], '--root: missing value'],
    [['serve'], 'unknown command "serve"'],
    [[], 'missing command'],
  ])('%j -> %s', (argv, message) => {
    expect(() => parseFleetArgs(argv)).toThrow(new CliError(message));
  });

  it('takes the containerManager.Event behaviours like the others', () => {
    expect(parseBehaviours('event-huge:1000000=2,event-stall,event-negative=3')).toEqual([
      { behaviour: { name: 'event-huge', param: 1000000 }, count: 2 },
      { behaviour: 'event-stall', count: 1 },
      { behaviour: 'event-negative', count: 3 },
    ]);
  });

  it('rejects unknown behaviours and bad syntax in one line', () => {
    expect(() => parseBehaviours('nope')).toThrow('--behaviour: unknown behaviour "nope"');
    expect(() => parseBehaviours('slow=x')).toThrow(
      '--behaviour: cannot parse "slow=x", expected NAME[:PARAM][=COUNT]',
    );
  });
});

describe('runCli', () => {
  it('prints a ready line, runs until the stop signal, and removes everything', async () => {
    const root = shortRoot();
    const out: string[] = [];
    let stop: (s: string) => void = () => {};
    const stopSignal = new Promise<string>((r) => (stop = r));
    const done = runCli(
      ['fleet', '--root', root, '--metric-server', '/m.sock', '--count', '5', '--behaviour', 'garbage=2'],
      {
        out: (l) => out.push(l),
        err: (l) => out.push(`ERR ${l}`),
        stopSignal,
      },
    );
    while (!out.some((l) => l.startsWith('fleet ready:'))) await new Promise((r) => setTimeout(r, 20));
    expect(out[0]).toMatch(new RegExp(`^fleet ready: 5 sandboxes in ${root} `));
    expect(readdirSync(root).filter((f) => f.endsWith('.state'))).toHaveLength(5);
    stop('SIGTERM');
    expect(await done).toBe(0);
    expect(existsSync(root)).toBe(false);
  });

  it('exits 2 with a one-line error and the usage on bad flags', async () => {
    const err: string[] = [];
    const code = await runCli(['fleet', '--root', '/r', '--metric-server', '/m', '--count', 'x'], {
      out: () => {},
      err: (l) => err.push(l),
      stopSignal: new Promise(() => {}),
    });
    expect(code).toBe(2);
    expect(err[0]).toBe('fake-sandbox: --count: expected an integer >= 0, got "x"');
    expect(err[1]).toMatch(/^usage: fake-sandbox fleet/);
  });

  it('exits 1 when more behaviours than sandboxes are asked for', async () => {
    const err: string[] = [];
    const code = await runCli(
      ['fleet', '--root', shortRoot(), '--metric-server', '/m', '--count', '1', '--behaviour', 'garbage=2'],
      {
        out: () => {},
        err: (l) => err.push(l),
        stopSignal: new Promise(() => {}),
      },
    );
    expect(code).toBe(1);
    expect(err[0]).toMatch(/^fake-sandbox: cannot start the fleet: 2 sandboxes with behaviours but --count is 1$/);
  });
});
