// THE FLOOR: the least work that gets every sandbox's snapshot. Connect to each
// control socket, send Metrics.Export, read until the reply's JSON object is
// complete (urpc has no length prefix, so a brace scanner is the minimum), close.
// No decoding, no verification, no rendering. Same concurrency and per-sandbox
// deadline as the server under test, so stalled sandboxes cost both the same.
// With events (the --resource-metrics floor), the same connection then sends
// containerManager.Event for each of the sandbox's containers, one at a time as
// the server must (runsc's urpc server reads one request at a time), and the
// sandbox's host cgroup CPU usage file is read once (runsc events --stats reads it
// too), from a descriptor opened before the runs.
import { closeSync, openSync, readdirSync, readFileSync, readSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { resolveHostCgroup } from '@org/metricserver-core';

const REQUEST = Buffer.from('{"method":"Metrics.Export","arg":{"only_metrics":""}}');
const eventRequest = (id: string): Buffer =>
  Buffer.from(`{"method":"containerManager.Event","arg":${JSON.stringify(id)}}`);

export interface FloorTarget {
  readonly id: string;
  readonly socket: string;
  /** Container ids whose state files name this sandbox (the root container first). */
  readonly containers: readonly string[];
  /** What a pass sends, encoded once (not timed): Export alone, and Export then an Event per container. */
  readonly exportOnly: readonly Buffer[];
  readonly withEvents: readonly Buffer[];
  /** The sandbox process (state file `sandbox.pid`). */
  readonly pid: number;
  /** Its host cgroup CPU usage file, open (see openHostCgroups); -1 when none resolved. */
  usageFd: number;
}

/** Opens each target's host cgroup CPU usage file, resolved as the server resolves it (not timed). */
export async function openHostCgroups(targets: readonly FloorTarget[]): Promise<void> {
  for (const t of targets) {
    const cg = await resolveHostCgroup(t.pid);
    t.usageFd = cg.version === 0 ? -1 : openSync(cg.usageFile, 'r');
  }
}

/** Closes what openHostCgroups opened. */
export function closeHostCgroups(targets: readonly FloorTarget[]): void {
  for (const t of targets) {
    if (t.usageFd >= 0) closeSync(t.usageFd);
    t.usageFd = -1;
  }
}

const USAGE = Buffer.allocUnsafe(4096);

/** Control sockets of the root containers in `root`, with their containers (read once per fleet, not timed). */
export function floorTargets(root: string): FloorTarget[] {
  const roots: { id: string; socket: string; pid: number }[] = [];
  const subs = new Map<string, string[]>();
  for (const name of readdirSync(root)) {
    if (!name.endsWith('.state')) continue;
    const state = JSON.parse(readFileSync(join(root, name), 'utf8')) as {
      id?: string;
      sandbox?: { id?: string; controlSocketPath?: string; pid?: number };
    };
    const sb = state.sandbox;
    if (sb?.id === undefined || state.id === undefined) continue;
    if (sb.id !== state.id) subs.set(sb.id, [...(subs.get(sb.id) ?? []), state.id]);
    else if (sb.controlSocketPath) roots.push({ id: sb.id, socket: sb.controlSocketPath, pid: sb.pid ?? 0 });
  }
  return roots
    .sort((a, b) => (a.id < b.id ? -1 : 1))
    .map((r) => {
      const containers = [r.id, ...(subs.get(r.id) ?? []).sort()];
      return {
        ...r,
        containers,
        exportOnly: [REQUEST],
        withEvents: [REQUEST, ...containers.map(eventRequest)],
        usageFd: -1,
      };
    });
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
  withEvents = false,
): Promise<FloorPass> {
  const t0 = performance.now();
  let next = 0;
  let bytes = 0;
  let answered = 0;
  let failed = 0;
  const worker = async (): Promise<void> => {
    while (next < targets.length) {
      const t = targets[next++] as FloorTarget;
      const n = await readOne(t.socket, withEvents ? t.withEvents : t.exportOnly, timeoutMs);
      if (withEvents && t.usageFd >= 0) readSync(t.usageFd, USAGE, 0, USAGE.length, 0);
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

/**
 * Bytes of the replies to `requests` (sent one after another on one connection, each once the
 * previous reply is complete), or -1 on error/timeout. Hot path: one scanner state, no copies.
 */
function readOne(path: string, requests: readonly Buffer[], timeoutMs: number): Promise<number> {
  return new Promise((resolve) => {
    const sock = connect(path);
    let depth = 0;
    let inString = false;
    let escaped = false;
    let total = 0;
    let next = 0;
    let settled = false;
    const finish = (n: number): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      sock.destroy();
      resolve(n);
    };
    const timer = setTimeout(() => finish(-1), timeoutMs);
    sock.once('connect', () => sock.write(requests[next++] as Buffer));
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
          if (next === requests.length) {
            finish(total + i + 1);
            return;
          }
          // A urpc peer answers one request at a time: nothing follows a reply until the next request.
          sock.write(requests[next++] as Buffer);
        }
      }
      total += chunk.length;
    });
    sock.on('error', () => finish(-1));
    sock.on('close', () => finish(-1));
  });
}
