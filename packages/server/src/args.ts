// Go `flag`-style argv parsing: -x, --x, -x=v, --x v, bare booleans; parsing
// stops at the first non-flag (the `metric-server` subcommand) or `--`.

import { lookupFlag } from './flags.js';

export type FlagValues = ReadonlyMap<string, string | boolean>;

export type ParsedArgs =
  | { readonly kind: 'help' }
  | { readonly kind: 'run'; readonly flags: FlagValues; readonly ignored: readonly string[] };

/** A command-line error; `exitCode` follows runsc (2: global flag syntax, 128: everything else). */
export class ArgsError extends Error {
  constructor(
    message: string,
    readonly exitCode: 2 | 128,
  ) {
    super(message);
    this.name = 'ArgsError';
  }
}

const SUBCOMMAND = 'metric-server';

export function parseArgs(argv: readonly string[]): ParsedArgs {
  const flags = new Map<string, string | boolean>();
  const ignored: string[] = [];
  const first = parseFlagRun(argv, 0, flags, ignored, 2);
  if (first.help) return { kind: 'help' };
  let i = first.next;
  if (i < argv.length) {
    const sub = argv[i];
    if (sub !== SUBCOMMAND) {
      throw new ArgsError(`unknown subcommand ${JSON.stringify(sub)}: the only subcommand is "${SUBCOMMAND}"`, 128);
    }
    const second = parseFlagRun(argv, i + 1, flags, ignored, 128);
    if (second.help) return { kind: 'help' };
    i = second.next;
    if (i < argv.length) {
      throw new ArgsError(`unexpected argument ${JSON.stringify(argv[i])} after the ${SUBCOMMAND} flags`, 128);
    }
  }
  return { kind: 'run', flags, ignored };
}

function parseFlagRun(
  argv: readonly string[],
  start: number,
  out: Map<string, string | boolean>,
  ignored: string[],
  exitCode: 2 | 128,
): { next: number; help: boolean } {
  let i = start;
  while (i < argv.length) {
    const arg = argv[i] as string;
    if (arg.length < 2 || arg[0] !== '-') break; // "-" alone and positionals end the run
    let body = arg.slice(1);
    if (body[0] === '-') {
      body = body.slice(1);
      if (body === '') return { next: i + 1, help: false }; // "--" terminator is consumed
    }
    if (body === '' || body[0] === '-' || body[0] === '=') throw new ArgsError(`bad flag syntax: ${arg}`, exitCode);
    const eq = body.indexOf('=');
    const name = eq < 0 ? body : body.slice(0, eq);
    const inline = eq < 0 ? undefined : body.slice(eq + 1);
    i++;
    if (name === 'h' || name === 'help') return { next: i, help: true };
    const def = lookupFlag(name);
    if (!def) throw new ArgsError(`flag provided but not defined: -${name} (see --help)`, exitCode);
    let value: string | boolean;
    if (def.kind === 'bool') {
      if (inline === undefined) value = true;
      else {
        const b = parseGoBool(inline);
        if (b === undefined)
          throw new ArgsError(`invalid boolean value ${JSON.stringify(inline)} for -${name}: parse error`, exitCode);
        value = b;
      }
    } else if (inline !== undefined) {
      value = inline;
    } else {
      if (i >= argv.length) throw new ArgsError(`flag needs an argument: -${name}`, exitCode);
      value = argv[i] as string;
      i++;
    }
    if (def.ignored) ignored.push(name);
    else out.set(name, value); // the last occurrence wins, as in Go
  }
  return { next: i, help: false };
}

function parseGoBool(s: string): boolean | undefined {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(s)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(s)) return false;
  return undefined;
}
