// THE FLOOR: the least work that gets every sandbox's snapshot. Connect to each
// control socket, send Metrics.Export, read until the reply's JSON object is
// complete (urpc has no length prefix, so a brace scanner is the minimum), close.
// No decoding, no verification, no rendering. Same concurrency and per-sandbox
// deadline as the server under test, so stalled sandboxes cost both the same.
import { readdirSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

const REQUEST = Buffer.from('{"method":"Metrics.Export","arg":{"only_metrics":""}}');

export interface FloorTarget {
  readonly id: string;
  readonly socket: string;
}

/** Control sockets of the root containers in `root` (read once per fleet, not timed). */
export function floorTargets(root: string): FloorTarget[] {
  const out: FloorTarget[] = [];
  for (const name of readdirSync(root)) {
    if (!name.endsWith('.state')) continue;
    const state = JSON.parse(readFileSync(join(root, name), 'utf8')) as {
      id?: string;
      sandbox?: { id?: string; controlSocketPath?: string };
    };
    const sb = state.sandbox;
    if (!sb?.controlSocketPath || sb.id === undefined || sb.id !== state.id) continue;
    out.push({ id: sb.id, socket: sb.controlSocketPath });
  }
  return out.sort((a, b) => (a.id < b.id ? -1 : 1));
}

export interface FloorPass {
  readonly ms: number;
  readonly bytes: number;
  readonly answered: number;
  readonly failed: number;
}

export async function floorPass(
  targets: readonly FloorTarget[],
  concurrency: number,
  timeoutMs: number,
): Promise<FloorPass> {
  const t0 = performance.now();
  let next = 0;
  let bytes = 0;
  let answered = 0;
  let failed = 0;
  const worker = async (): Promise<void> => {
    while (next < targets.length) {
      const t = targets[next++] as FloorTarget;
      const n = await readOne(t.socket, timeoutMs);
      if (n < 0) failed++;
      else {
        answered++;
        bytes += n;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, targets.length) }, worker));
  return { ms: performance.now() - t0, bytes, answered, failed };
}

/** Bytes of the reply, or -1 on error/timeout. Hot path: one scanner state, no copies of the data. */
function readOne(path: string, timeoutMs: number): Promise<number> {
  return new Promise((resolve) => {
    const sock = connect(path);
    let depth = 0;
    let inString = false;
    let escaped = false;
    let total = 0;
    let settled = false;
    const finish = (n: number): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      sock.destroy();
      resolve(n);
    };
    const timer = setTimeout(() => finish(-1), timeoutMs);
    sock.once('connect', () => sock.write(REQUEST));
    sock.on('data', (chunk: Buffer) => {
      for (let i = 0; i < chunk.length; i++) {
        const b = chunk[i] as number;
        if (inString) {
          if (escaped) escaped = false;
          else if (b === 0x5c) escaped = true;
          else if (b === 0x22) inString = false;
        } else if (b === 0x22) inString = true;
        else if (b === 0x7b || b === 0x5b) depth++;
        else if ((b === 0x7d || b === 0x5d) && --depth === 0) {
          finish(total + i + 1);
          return;
        }
      }
      total += chunk.length;
    });
    sock.on('error', () => finish(-1));
    sock.on('close', () => finish(-1));
  });
}
