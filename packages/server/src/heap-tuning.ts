// V8 heap sizing for a daemon whose working set is a sawtooth: a scrape at
// N = 1000 allocates ~200 MB that all dies at its end, over ~60 MB live. V8's
// default lets the old generation grow up to ~4x the live size before a full
// GC, so RSS settles near 300-400 MB; a 10% growing step keeps it near 200 MB
// for no measurable CPU (bench/analysis.md).
import { setFlagsFromString } from 'node:v8';

export const HEAP_GROWING_PERCENT = 10;
const FLAG = 'heap-growing-percent';

/** The V8 flag to apply, or undefined when the operator already chose one (node flags or NODE_OPTIONS win). */
export function heapFlag(execArgv: readonly string[], nodeOptions: string | undefined): string | undefined {
  const given = (a: string): boolean => a.replace(/_/g, '-').includes(FLAG);
  if (execArgv.some(given) || (nodeOptions ?? '').split(/\s+/).some(given)) return undefined;
  return `--${FLAG}=${HEAP_GROWING_PERCENT}`;
}

/** Applies heapFlag() to this process; call first thing in the bin. */
export function tuneHeap(): void {
  const flag = heapFlag(process.execArgv, process.env['NODE_OPTIONS']);
  if (flag !== undefined) setFlagsFromString(flag);
}
