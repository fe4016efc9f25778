// `fake-sandbox fleet` flags. Every mistake is one line naming the flag.
import { type BehaviourName, isBehaviourName } from '../behaviour.js';
import type { BehaviourCount, FleetOptions } from '../fleet/fleet.js';

export class CliError extends Error {
  override name = 'CliError';
}

export const USAGE =
  'usage: fake-sandbox fleet --root DIR --metric-server ADDR --count N [--behaviour NAME[:PARAM][=COUNT],...] ' +
  '[--hosts K] [--seed S] [--boot-ms MS]';

const intFlag = (flag: string, v: string, min: number): number => {
  if (!/^\d+$/.test(v)) throw new CliError(`${flag}: expected an integer >= ${min}, got "${v}"`);
  const n = Number(v);
  if (n < min || !Number.isSafeInteger(n)) throw new CliError(`${flag}: expected an integer >= ${min}, got "${v}"`);
  return n;
};

/** `slow:500=3,garbage,huge=2`: NAME, optional :PARAM (ms or bytes), optional =COUNT (default 1). */
export function parseBehaviours(spec: string): BehaviourCount[] {
  return spec
    .split(',')
    .filter((s) => s.trim() !== '')
    .map((item) => {
      const m = /^([a-z-]+)(?::(\d+))?(?:=(\d+))?$/.exec(item.trim());
      if (!m) throw new CliError(`--behaviour: cannot parse "${item}", expected NAME[:PARAM][=COUNT]`);
      const name = m[1] as string;
      if (!isBehaviourName(name)) throw new CliError(`--behaviour: unknown behaviour "${name}"`);
      const count = m[3] === undefined ? 1 : intFlag('--behaviour', m[3], 1);
      const param = m[2] === undefined ? undefined : Number(m[2]);
      return {
        behaviour: param === undefined ? (name as BehaviourName) : { name: name as BehaviourName, param },
        count,
      };
    });
}

export function parseFleetArgs(argv: readonly string[]): FleetOptions {
  const [cmd, ...rest] = argv;
  if (cmd !== 'fleet') throw new CliError(cmd === undefined ? 'missing command' : `unknown command "${cmd}"`);
  const values = new Map<string, string>();
  const known = new Set(['--root', '--metric-server', '--count', '--behaviour', '--hosts', '--seed', '--boot-ms']);
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i] as string;
    const eq = arg.indexOf('=');
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    if (!known.has(flag)) throw new CliError(`unknown flag "${flag}"`);
    let value: string | undefined;
    if (eq > 0) value = arg.slice(eq + 1);
    else value = rest[++i];
    if (value === undefined) throw new CliError(`${flag}: missing value`);
    if (values.has(flag)) throw new CliError(`${flag} given twice`);
    values.set(flag, value);
  }
  const root = values.get('--root');
  const metricServer = values.get('--metric-server');
  const count = values.get('--count');
  if (!root) throw new CliError('--root is required');
  if (!metricServer) throw new CliError('--metric-server is required');
  if (count === undefined) throw new CliError('--count is required');
  const hosts = values.get('--hosts');
  const seed = values.get('--seed');
  const bootMs = values.get('--boot-ms');
  const behaviours = values.get('--behaviour');
  return {
    root,
    metricServer,
    count: intFlag('--count', count, 0),
    ...(hosts !== undefined ? { hosts: intFlag('--hosts', hosts, 1) } : {}),
    ...(seed !== undefined ? { seed: intFlag('--seed', seed, 0) } : {}),
    ...(bootMs !== undefined ? { bootMs: intFlag('--boot-ms', bootMs, 0) } : {}),
    ...(behaviours !== undefined ? { behaviours: parseBehaviours(behaviours) } : {}),
  };
}
