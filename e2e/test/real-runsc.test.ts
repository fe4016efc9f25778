// The built server against real gVisor sandboxes started by real runsc: labels,
// capabilities and spec metadata of served sandboxes, other servers' sandboxes
// ignored, a SIGKILLed sandbox reported and a deleted one gone.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  exportMetrics,
  internRegistration,
  parseStateFile,
  RegistrationBytes,
  registrationValueAt,
  UrpcConnection,
} from '@org/metricserver-core';
import { decodeRegistration } from '@org/metricserver-prom-format';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Exposition, findSamples, parseExposition, seriesKey } from '../src/exposition.js';
import { runTag } from '../src/ids.js';
import { expectedIteration } from '../src/iteration.js';
import { expectPromtoolAccepts } from '../src/promtool.js';
import { fixedWidthIds, RealRunsc } from '../src/runsc/harness.js';
import type { RealStateFile } from '../src/runsc/state-file.js';
import { scrape } from '../src/scrape.js';
import { type RunningServer, startServer } from '../src/server-process.js';

const [podded, rooted, sub, foreign, unmetered, created] = fixedWidthIds(`e2e-${runTag()}r`, 6) as [
  string,
  string,
  string,
  string,
  string,
  string,
];
const PODDED_CAPS = ['CAP_KILL', 'CAP_NET_RAW', 'CAP_SYS_PTRACE'];

let rs: RealRunsc;
let server: RunningServer;

/** Capability names without CAP_ over every container's five sets (what the server must union). */
function capUnion(states: RealStateFile[]): Set<string> {
  const out = new Set<string>();
  for (const st of states) {
    const caps = (st as unknown as { spec: { process: { capabilities?: Record<string, string[] | undefined> } } }).spec
      .process.capabilities;
    for (const set of Object.values(caps ?? {})) for (const c of set ?? []) out.add(c.replace(/^CAP_/, ''));
  }
  return out;
}

async function scrapeChecked(query = ''): Promise<Exposition> {
  const res = await scrape(server.target, query);
  expectPromtoolAccepts(res.body);
  return parseExposition(res.body);
}

/** Series of a sandbox's own metrics (not meta), keyed without values. */
function sandboxOwnSeries(exp: Exposition, id: string): Set<string> {
  return new Set(
    exp.samples
      .filter((s) => s.labels.sandbox === id && !s.name.startsWith('runsc_meta_'))
      .map((s) => seriesKey(s.name, s.labels)),
  );
}

beforeAll(async () => {
  rs = await RealRunsc.create();
  const served = join(rs.root, 'm.sock');
  // podded records the address with %RUNTIME_ROOT% (substituted by the server with its root),
  // rooted the literal path: the server (given %RUNTIME_ROOT%/m.sock itself) serves both.
  await Promise.all([
    rs.run({
      id: podded,
      metricServer: '%RUNTIME_ROOT%/m.sock',
      podName: 'pod-a',
      namespace: 'ns-a',
      capabilities: PODDED_CAPS,
      tz: 'America/Los_Angeles',
    }),
    rs.run({ id: rooted, metricServer: served }).then(() =>
      rs.run({
        id: sub,
        subcontainerOf: rooted,
        metricServer: served,
        capabilities: ['CAP_CHOWN'],
        uid: 1000,
        ociVersion: '1.0.2-dev',
      }),
    ),
    rs.run({ id: foreign, metricServer: join(rs.base, 'other.sock') }),
    rs.run({ id: unmetered }),
    rs.create({ id: created, metricServer: served }), // `runsc create` without start: status "created"
  ]);
  server = await startServer({ root: rs.root, address: '%RUNTIME_ROOT%/m.sock' });
});

afterAll(async () => {
  const st = await server?.stop('SIGTERM');
  await rs?.cleanup();
  if (st && st.code !== 0)
    throw new Error(`server exited ${JSON.stringify(st)} on SIGTERM; output:\n${server.output()}`);
});

describe('real runsc sandboxes', () => {
  it('serves both sandboxes that name this server, with the labels runsc itself computes', async () => {
    const exp = await scrapeChecked();
    const poddedState = rs.state(podded);
    const rootedState = rs.state(rooted);
    expect(poddedState.createdAt).toMatch(/[+-]0[78]:00$/); // the offset case of the iteration label
    const poddedLabels = {
      sandbox: podded,
      iteration: expectedIteration(podded, poddedState.createdAt),
      pod_name: 'pod-a',
      namespace_name: 'ns-a',
    };
    const rootedLabels = { sandbox: rooted, iteration: expectedIteration(rooted, rootedState.createdAt) };
    for (const labels of [poddedLabels, rootedLabels]) {
      const opens = findSamples(exp, 'runsc_fs_opens', { sandbox: labels.sandbox });
      expect(opens).toHaveLength(1);
      expect(opens[0]?.labels).toEqual(labels);
      expect(Number(opens[0]?.value)).toBeGreaterThan(0); // busybox opened its own binary at least
    }
    // What real runsc prints for the root containers: same series (names + label sets), our extra labels aside.
    for (const [id, extra] of [
      [podded, { pod_name: 'pod-a', namespace_name: 'ns-a' }],
      [rooted, {}],
    ] as const) {
      const cli = parseExposition(rs.exportMetrics(id));
      const expected = new Set(cli.samples.map((s) => seriesKey(s.name, { ...s.labels, ...extra })));
      expect(sandboxOwnSeries(exp, id)).toEqual(expected);
    }
  });

  it('reports capabilities, spec metadata and sandbox metadata from the state files', async () => {
    const exp = await scrapeChecked();
    const caps = (id: string): Set<string> =>
      new Set(
        findSamples(exp, 'runsc_meta_sandbox_capabilities', { sandbox: id }).map((s) => s.labels.capability ?? ''),
      );
    expect(caps(podded)).toEqual(new Set(PODDED_CAPS.map((c) => c.replace(/^CAP_/, ''))));
    const rootedUnion = capUnion([rs.state(rooted), rs.state(sub)]);
    expect(rootedUnion.has('CHOWN')).toBe(true);
    expect(caps(rooted)).toEqual(rootedUnion);

    const spec = (id: string) => findSamples(exp, 'runsc_meta_spec_metadata', { sandbox: id });
    expect(spec(podded)).toHaveLength(1);
    expect(spec(podded)[0]?.labels).toMatchObject({ hasuid0: 'true', ociversion: expect.stringMatching(/^1\./) });
    // root uid 0 + sub uid 1000 -> true; differing ociVersions -> INCONSISTENT.
    expect(spec(rooted)[0]?.labels).toMatchObject({ hasuid0: 'true', ociversion: 'INCONSISTENT' });

    for (const id of [podded, rooted]) {
      const meta = findSamples(exp, 'runsc_meta_sandbox_metadata', { sandbox: id });
      expect(meta).toHaveLength(1);
      expect(meta[0]?.labels).toMatchObject(rs.state(id).sandbox?.metricMetadata ?? {});
      expect(findSamples(exp, 'runsc_meta_sandbox_running', { sandbox: id })[0]?.value).toBe('1');
      expect(findSamples(exp, 'runsc_meta_sandbox_presence', { sandbox: id })[0]?.value).toBe('1');
      const created = Number(findSamples(exp, 'runsc_meta_sandbox_creation_time_seconds', { sandbox: id })[0]?.value);
      expect(Math.abs(created * 1000 - Date.parse(rs.state(id).createdAt))).toBeLessThan(1);
    }
    expect(findSamples(exp, 'runsc_meta_num_sandboxes_running')[0]?.value).toBe('3');
    expect(findSamples(exp, 'runsc_meta_num_sandboxes_broken_metrics')[0]?.value).toBe('0');
  });

  it('serves a created-but-not-started sandbox like runsc export-metrics sees it', async () => {
    expect(rs.state(created).status).toBe('created');
    const exp = await scrapeChecked();
    expect(findSamples(exp, 'runsc_meta_sandbox_running', { sandbox: created }).map((s) => s.value)).toEqual(['1']);
    const cli = parseExposition(rs.exportMetrics(created));
    expect(sandboxOwnSeries(exp, created)).toEqual(new Set(cli.samples.map((s) => seriesKey(s.name, s.labels))));
  });

  it('applies the metrics filter as runsc export-metrics does, and the capability filter', async () => {
    const filter = '^fs_';
    const exp = await scrapeChecked(
      `runsc-sandbox-metrics-filter=${encodeURIComponent(filter)}&runsc-capability-filter=NET_`,
    );
    for (const [id, extra] of [
      [podded, { pod_name: 'pod-a', namespace_name: 'ns-a' }],
      [rooted, {}],
    ] as const) {
      const cli = parseExposition(rs.exportMetrics(id, [`--sandbox-metrics-filter=${filter}`]));
      expect(cli.samples.length).toBeGreaterThan(0);
      expect(sandboxOwnSeries(exp, id)).toEqual(
        new Set(cli.samples.map((s) => seriesKey(s.name, { ...s.labels, ...extra }))),
      );
    }
    const caps = findSamples(exp, 'runsc_meta_sandbox_capabilities', { sandbox: podded }).map(
      (s) => s.labels.capability,
    );
    expect(caps).toEqual(['NET_RAW']);
  });

  // Start-up parses each state file's registration only once per distinct registration:
  // later files are recognised by the bytes runsc wrote for each metric, in any order.
  it('recognises one real registration in every other real state file, whatever its metric order', () => {
    const reader = new RegistrationBytes((raw) => internRegistration(decodeRegistration(raw, '$')));
    const ids = [podded, rooted, foreign, created];
    const files = ids.map((id) => readFileSync(join(rs.root, `${id}_sandbox:${id}.state`)));
    const orders = files.map((b) =>
      JSON.parse(b.toString())
        .sandbox.registeredMetrics.metrics.map((m: { name: string }) => m.name)
        .join(),
    );
    expect(new Set(orders).size).toBeGreaterThan(1); // runsc lists the metrics in another order per sandbox
    const first = parseStateFile(files[0]!, 'first', reader).sandbox?.decodedRegistration;
    expect(first).toBeDefined();
    for (const [k, bytes] of files.entries()) {
      if (k === 0) continue;
      expect(reader.recognize(bytes, registrationValueAt(bytes))?.registration, ids[k]).toBe(first);
      const parsed = parseStateFile(bytes, ids[k]!, reader);
      const whole = parseStateFile(bytes, ids[k]!);
      expect(parsed.sandbox?.decodedRegistration).toBe(first);
      expect({ ...parsed, sandbox: { ...parsed.sandbox, registeredMetrics: null, decodedRegistration: null } }).toEqual(
        {
          ...whole,
          sandbox: { ...whole.sandbox, registeredMetrics: null, decodedRegistration: null },
        },
      );
    }
  });

  // The server keeps one control-socket connection per sandbox from scrape to scrape:
  // runsc's urpc server must answer sequential calls on it, filtered or not.
  it('answers sequential exports on one kept connection', async () => {
    const conn = new UrpcConnection(rs.state(podded).sandbox!.controlSocketPath, { keep: true });
    try {
      const all = await exportMetrics('', '', { connection: conn });
      const fs = await exportMetrics('', '^fs_', { connection: conn });
      const again = await exportMetrics('', '', { connection: conn });
      expect(conn.callsOnSocket).toBe(3);
      expect(fs.data.length).toBeGreaterThan(0);
      expect(fs.data.every((d) => d.metric.name.startsWith('fs_'))).toBe(true);
      expect(fs.data.length).toBeLessThan(all.data.length);
      expect(again.data.length).toBeGreaterThanOrEqual(all.data.length - 5);
    } finally {
      conn.close();
    }
  });

  it('ignores sandboxes of another metric server and sandboxes without one', async () => {
    const exp = await scrapeChecked();
    expect(exp.samples.filter((s) => s.labels.sandbox === foreign || s.labels.sandbox === unmetered)).toEqual([]);
    expect(exp.samples.some((s) => s.labels.sandbox === sub)).toBe(false); // a subcontainer is not a sandbox
  });

  it('drops a SIGKILLed sandbox (not counted broken), keeps serving the other, and stays clean after runsc delete', async () => {
    await rs.kill9(rooted);
    const exp = await scrapeChecked();
    // Dropped by the discovery pass that starts the scrape (its pid is dead), as the Go server does.
    expect(exp.samples.filter((s) => s.labels.sandbox === rooted)).toEqual([]);
    expect(findSamples(exp, 'runsc_meta_num_sandboxes_running')[0]?.value).toBe('2');
    expect(findSamples(exp, 'runsc_meta_num_sandboxes_broken_metrics')[0]?.value).toBe('0');
    expect(findSamples(exp, 'runsc_fs_opens', { sandbox: podded })).toHaveLength(1);

    await rs.deleteForce([sub, rooted]);
    const after = await scrapeChecked();
    expect(after.samples.filter((s) => s.labels.sandbox === rooted)).toEqual([]);
    expect(findSamples(after, 'runsc_fs_opens', { sandbox: podded })).toHaveLength(1);
    expect(findSamples(after, 'runsc_meta_num_sandboxes_running')[0]?.value).toBe('2');
  });
});
