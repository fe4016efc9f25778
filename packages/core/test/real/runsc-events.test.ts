// REAL gVisor sandboxes: core's containerManager.Event call, the host cgroup CPU and runsc's
// share against `runsc events --stats` run just before and just after. Needs root, runsc and
// busybox (the team's real-runsc recipe). Without them the suite fails loudly: a skipped
// comparison proves nothing.
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { busyboxBundles, requireRunsc, runRunsc, runscPath } from '../../../../test-support/real-runsc.js';
import { containerCpuNs, needsHostCpu } from '../../src/resources/cpu-share.js';
import { containerEvent } from '../../src/resources/event-call.js';
import type { ContainerEvent } from '../../src/resources/event-decode.js';
import { HostCgroupCpu, isOnlyCgroupV2, stateFileCpuUsageFile } from '../../src/resources/host-cgroup.js';
import { ResourceVerifier } from '../../src/resources/verifier.js';
import { sandboxContainers } from '../../src/sandbox/containers.js';
import { loadSandbox, type SandboxView } from '../../src/sandbox/load.js';
import { UrpcConnection } from '../../src/urpc/connection.js';

interface CliEvent {
  id: string;
  data: { cpu: { usage: { total?: number } }; memory: { usage: { usage?: number } }; pids: { current?: number } };
}

/** `runsc events --stats <id>`: one JSON line, then it exits. */
function cliEvent(root: string, id: string): Promise<CliEvent> {
  return new Promise((resolve, reject) => {
    execFile(runscPath as string, [`--root=${root}`, 'events', '--stats', id], { timeout: 20_000 }, (err, stdout) => {
      if (err) reject(err);
      else resolve(JSON.parse(stdout) as CliEvent);
    });
  });
}

const [BUSY, POD, APP] = ['cre-b1', 'cre-p1', 'cre-q1']; // none a prefix of another (runsc globs by prefix)
let base: string;
let root: string;
let serverAddress: string;
const started: string[] = [];

beforeAll(async () => {
  requireRunsc();
  base = mkdtempSync(join(tmpdir(), 'cre-'));
  root = join(base, 'r');
  serverAddress = join(base, 'm.sock');
  mkdirSync(root);
  const bundle = busyboxBundles(base);
  const flags = [`--root=${root}`, '--network=none', `--metric-server=${serverAddress}`];
  const run = async (id: string, script: string, annotations?: Record<string, string>): Promise<void> => {
    expect(
      await runRunsc([...flags, 'run', '--detach', '--bundle', bundle(id, ['/bin/sh', '-c', script], annotations), id]),
    ).toBe(0);
    started.unshift(id);
  };
  await run(BUSY, 'while :; do :; done');
  await run(POD, 'i=0; while [ $i -lt 30000 ]; do i=$((i+1)); done; sleep 600');
  await run(APP, 'i=0; while [ $i -lt 100000 ]; do i=$((i+1)); done; sleep 600', {
    'io.kubernetes.cri.container-type': 'container',
    'io.kubernetes.cri.sandbox-id': POD,
  });
  await new Promise((r) => setTimeout(r, 2500)); // CPU to share, and APP's loop done
}, 120_000);

afterAll(async () => {
  if (root === undefined) return;
  // Subcontainers before their sandbox's root, the rest in parallel.
  await runRunsc([`--root=${root}`, 'delete', '-force', APP]).catch(() => -1);
  await Promise.all(
    started
      .filter((id) => id !== APP)
      .map((id) => runRunsc([`--root=${root}`, 'delete', '-force', id]).catch(() => -1)),
  );
  rmSync(base, { recursive: true, force: true });
}, 60_000);

const load = (id: string): Promise<SandboxView> => loadSandbox(root, id, { serverAddress });

/** One scrape of a sandbox as the server will do it: Event per container, then one host cgroup read. */
async function scrapeOnce(view: SandboxView, cpu: HostCgroupCpu, conn: UrpcConnection) {
  const containers = sandboxContainers(view);
  const events: ContainerEvent[] = [];
  for (const c of containers) events.push(await containerEvent(conn, c.id, { timeoutMs: 5000 }));
  const host = needsHostCpu(events) ? await cpu.read() : ({ kind: 'none', reason: 'unused' } as const);
  return { containers, events, host, cpuNs: events.map((e) => containerCpuNs(e, host)) };
}

describe('against real runsc sandboxes', () => {
  it('one busy container: the CPU runsc events prints just before and after brackets ours', async () => {
    const view = await load(BUSY);
    const cpu = new HostCgroupCpu(view.pid);
    const conn = new UrpcConnection(view.controlSocketPath, { keep: true });
    try {
      await cpu.read(); // resolved before the bracket, as the server's would be
      const before = await cliEvent(root, BUSY);
      const s = await scrapeOnce(view, cpu, conn);
      const after = await cliEvent(root, BUSY);
      const ours = s.events[0]!;
      expect(s.host.kind).toBe('usage');
      const [cpuNs] = s.cpuNs as [number];
      const lo = before.data.cpu.usage.total!;
      const hi = after.data.cpu.usage.total!;
      expect(lo).toBeGreaterThan(5e8);
      // One container: its share is the host cgroup figure (float64 product, truncated: ±1).
      expect(cpuNs, `CLI ${lo} .. ${hi}`).toBeGreaterThanOrEqual(lo - 1);
      expect(cpuNs, `CLI ${lo} .. ${hi}`).toBeLessThanOrEqual(hi + 1);
      expect(ours.pidsCurrent).toBe(before.data.pids.current);
      expect(ours.pidsCurrent).toBe(after.data.pids.current);
      const mem = [before.data.memory.usage.usage!, after.data.memory.usage.usage!];
      expect(Number(ours.memoryUsageBytes)).toBeGreaterThanOrEqual(Math.min(...mem) - 256 * 1024);
      expect(Number(ours.memoryUsageBytes)).toBeLessThanOrEqual(Math.max(...mem) + 256 * 1024);
      expect(ours.interfaces.map((i) => i.name)).toEqual(['lo']);

      // runsc's lookup and the cgroup the state file records agree on this host.
      expect(cpu.resolved).toEqual({
        version: isOnlyCgroupV2() ? 2 : 1,
        usageFile: stateFileCpuUsageFile(view.rootState.sandbox.cgroup!),
      });
    } finally {
      conn.close();
    }
  });

  it('a pod: each container between the CLI before and after; the verifier accepts scrape after scrape', async () => {
    const view = await load(POD);
    const containers = sandboxContainers(view);
    expect(containers.map((c) => [c.id, c.root, c.containerType])).toEqual([
      [POD, true, ''],
      [APP, false, 'container'],
    ]);
    const cpu = new HostCgroupCpu(view.pid);
    const conn = new UrpcConnection(view.controlSocketPath, { keep: true });
    const verifier = new ResourceVerifier();
    try {
      await cpu.read();
      for (let round = 0; round < 2; round++) {
        const before = await Promise.all(containers.map((c) => cliEvent(root, c.id)));
        const s = await scrapeOnce(view, cpu, conn);
        const after = await Promise.all(containers.map((c) => cliEvent(root, c.id)));
        for (let i = 0; i < containers.length; i++) {
          const lo = before[i]!.data.cpu.usage.total ?? 0; // omitted when 0
          const hi = after[i]!.data.cpu.usage.total ?? 0;
          // Both loops are done, so the shares hold still; a stray 10 ms tick would move them: 1% slack.
          const cpuNs = Number(s.cpuNs[i]);
          expect(cpuNs, `${containers[i]!.id}: CLI ${lo} .. ${hi}`).toBeGreaterThanOrEqual(lo * 0.99);
          expect(cpuNs, `${containers[i]!.id}: CLI ${lo} .. ${hi}`).toBeLessThanOrEqual(hi * 1.01);
          expect(lo, 'each has CPU to share').toBeGreaterThan(0);
          expect(s.events[i]!.pidsCurrent).toBe(after[i]!.data.pids.current ?? 0);
        }
        // The root (pause) container has no memory of its own; the subcontainer gets the sandbox's.
        expect(s.events[0]!.memoryUsageBytes).toBe(0);
        expect(Number(s.events[1]!.memoryUsageBytes)).toBeGreaterThan(0);
        const r = verifier.verify({
          iteration: view.labels.iteration!,
          containers: s.containers,
          events: s.events,
          cpuNs: s.cpuNs,
        });
        expect(r.ok, r.ok ? '' : r.reason.toString()).toBe(true);
      }
      expect(conn.callsOnSocket).toBe(4); // every Event call on the one kept connection
    } finally {
      conn.close();
    }
  });
});
