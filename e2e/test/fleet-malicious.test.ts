// Every misbehaviour of the fake-sandbox package, alone and all mixed in one
// fleet: the server stays up, honest data is complete and correctly labelled,
// no sandbox's data carries another's labels, every body passes promtool, and
// the 200 MB reply costs the server no more than a bounded amount of memory.
import { BEHAVIOUR_NAMES, type Behaviour, type BehaviourName, type FakeSandbox } from '@org/metricserver-fake-sandbox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Exposition, findSamples, parseExposition, seriesKey } from '../src/exposition.js';
import { expectedSeries, identityLabels, servedSeries } from '../src/fleet/expected.js';
import { type FleetRig, startRig } from '../src/fleet/rig.js';
import { processMemory } from '../src/proc.js';
import { expectPromtoolAccepts } from '../src/promtool.js';
import { scrape } from '../src/scrape.js';

/** Never served: their export cannot be read in time, is malformed, or breaks a verifier rule on every call. */
const ALWAYS_REJECTED = new Set<BehaviourName>([
  'stall-accept',
  'no-answer',
  'half-json',
  'drip',
  'garbage',
  'endless',
  'huge',
  'error-reply',
  'unregistered-metric',
  'wrong-type',
  'unregistered-label',
  'unregistered-label-value',
  'duplicate-series',
  'timestamp-old',
  'timestamp-future',
  'nan-counter',
  'inf-counter',
  'histogram-mismatch',
  'claim-labels',
  'claim-external-labels',
  'meta-imitation',
  'label-escape',
]);
/**
 * Served in scrape 1 / scrape 2, for the rest: a lie against the previous snapshot only shows on the
 * second export (the verifier compares with the last accepted one); `flapping` lies on every second call;
 * `slow` (in time), `ignore-filter` (no filter asked) and the `event-*` ones send honest metrics.
 */
const SERVED_IN: Partial<Record<BehaviourName, [boolean, boolean]>> = {
  flapping: [true, false],
  'counter-decrease': [true, false],
  'int-float-switch': [true, false],
  slow: [true, true],
  'ignore-filter': [true, true],
  // Lies in containerManager.Event only: their exports are honest (resource data is the
  // --resource-metrics rig's business, below).
  'event-stall': [true, true],
  'event-garbage': [true, true],
  'event-huge': [true, true],
  'event-cpu-decrease': [true, true],
  'event-foreign-id': [true, true],
  'event-negative': [true, true],
};
/** Not served by this server at all (they ask for another address or none). */
const NOT_OURS = new Set<BehaviourName>(['wrong-address', 'no-metric-server']);
/** `booting` holds the lock forever; the lifecycle suite covers it. */
const BAD = BEHAVIOUR_NAMES.filter((b) => b !== 'honest' && b !== 'booting');
const PARAMS: Partial<Record<BehaviourName, number>> = { slow: 300 }; // slow but in time: its honest data must appear

const behaviour = (name: BehaviourName): Behaviour =>
  PARAMS[name] === undefined ? { name } : { name, param: PARAMS[name] };
const PER_SANDBOX_TIMEOUT = ['--per-sandbox-timeout=1s'];
const PODS = new Map<string, { name: string; namespace: string }>();

function identity(sb: FakeSandbox) {
  return { id: sb.id, createdAt: sb.createdAt, socketPath: sb.socketPath, pod: PODS.get(sb.id) };
}

async function addHonest(rig: FleetRig, n: number): Promise<FakeSandbox[]> {
  const out: FakeSandbox[] = [];
  for (let i = 0; i < n; i++) {
    const id = rig.fleet.nextId();
    const pod = i % 2 === 0 ? { name: `pod-${id}`, namespace: 'ns-honest' } : undefined;
    if (pod) PODS.set(id, pod);
    out.push(await rig.fleet.add({ id, pod, subcontainers: i === 0 ? [{ id: `${id}-c2`, uid: 1000 }] : [] }));
  }
  return out;
}

async function exportsOf(sbs: FakeSandbox[], filter = ''): Promise<Map<string, Set<string>>> {
  return new Map(
    await Promise.all(sbs.map(async (sb) => [sb.id, await expectedSeries(identity(sb), 'runsc_', filter)] as const)),
  );
}

/** The invariants every body must satisfy, whatever the sandboxes did. */
function checkInvariants(exp: Exposition, all: FakeSandbox[]): void {
  const keys = exp.samples.map((s) => seriesKey(s.name, s.labels));
  expect(keys.length - new Set(keys).size, 'duplicate series').toBe(0);
  const byId = new Map(all.map((sb) => [sb.id, identityLabels(identity(sb))]));
  for (const s of exp.samples) {
    if (s.labels.sandbox === undefined) continue;
    const own = byId.get(s.labels.sandbox);
    expect(own, `sample of unknown sandbox ${s.labels.sandbox}: ${s.name}`).toBeDefined();
    for (const k of ['iteration', 'pod_name', 'namespace_name'] as const) {
      expect(s.labels[k], `${s.name}{sandbox=${s.labels.sandbox}} label ${k}`).toBe(own?.[k]);
    }
  }
  expect(findSamples(exp, 'process_start_time_seconds')).toHaveLength(1);
  for (const name of [
    'runsc_meta_num_sandboxes_running',
    'runsc_meta_num_sandboxes_broken_metrics',
    'runsc_meta_num_sandboxes_total',
  ]) {
    expect(findSamples(exp, name), name).toHaveLength(1);
  }
}

function expectComplete(
  exp: Exposition,
  honest: FakeSandbox[],
  before: Map<string, Set<string>>,
  after: Map<string, Set<string>>,
): void {
  for (const sb of honest) {
    const served = servedSeries(exp, sb.id);
    expect(
      [...(before.get(sb.id) ?? [])].filter((k) => !served.has(k)),
      `${sb.id}: exported but not served`,
    ).toEqual([]);
    expect(
      [...served].filter((k) => !after.get(sb.id)?.has(k)),
      `${sb.id}: served but never exported`,
    ).toEqual([]);
  }
}

async function checkedScrape(rig: FleetRig, query = ''): Promise<Exposition> {
  const res = await scrape(rig.server.target, query, 60_000);
  expectPromtoolAccepts(res.body);
  return parseExposition(res.body);
}

describe('each misbehaviour alone next to honest sandboxes', () => {
  let rig: FleetRig;
  let honest: FakeSandbox[];

  beforeAll(async () => {
    rig = await startRig({ flags: PER_SANDBOX_TIMEOUT });
    honest = await addHonest(rig, 3);
  });
  afterAll(async () => {
    await rig?.close();
  });

  for (const name of BAD) {
    it(name, async () => {
      const bad = await rig.fleet.add({ behaviour: behaviour(name) });
      const servedIn: boolean[] = [];
      try {
        for (let i = 0; i < 2; i++) {
          const before = await exportsOf(honest);
          const exp = await checkedScrape(rig);
          const after = await exportsOf(honest);
          checkInvariants(exp, [...honest, bad]);
          expectComplete(exp, honest, before, after);
          const badSamples = exp.samples.filter((s) => s.labels.sandbox === bad.id);
          if (NOT_OURS.has(name)) {
            expect(badSamples).toEqual([]);
          } else {
            expect(findSamples(exp, 'runsc_meta_sandbox_presence', { sandbox: bad.id })).toHaveLength(1);
          }
          if (ALWAYS_REJECTED.has(name)) {
            expect(servedSeries(exp, bad.id)).toEqual(new Set());
            expect(findSamples(exp, 'runsc_meta_num_sandboxes_broken_metrics')[0]?.value).toBe('1');
          }
          servedIn.push(servedSeries(exp, bad.id).size > 0);
        }
        expect(servedIn).toEqual(SERVED_IN[name] ?? [false, false]);
        expect(rig.server.child.exitCode).toBeNull();
      } finally {
        await bad.stop();
      }
    });
  }
});

/** Resource data refused every scrape (with --resource-metrics): the Event reply cannot be read or lies about its id. */
const RESOURCES_REFUSED = new Set<BehaviourName>([
  'event-stall',
  'event-garbage',
  'event-huge',
  'event-foreign-id',
  'event-negative',
]);

describe('all misbehaviours mixed in one fleet (with --resource-metrics)', () => {
  let rig: FleetRig;
  let honest: FakeSandbox[];
  let bad: FakeSandbox[];

  beforeAll(async () => {
    rig = await startRig({ flags: [...PER_SANDBOX_TIMEOUT, '--resource-metrics'] });
    honest = await addHonest(rig, 6);
    bad = [];
    for (const name of BAD) bad.push(await rig.fleet.add({ behaviour: behaviour(name) }));
  });
  afterAll(async () => {
    await rig?.close();
  });

  it('keeps every honest sandbox complete and correctly labelled, scrape after scrape', async () => {
    let lastCpu = new Map<string, number>();
    for (let i = 0; i < 3; i++) {
      const before = await exportsOf(honest);
      const exp = await checkedScrape(rig);
      const after = await exportsOf(honest);
      checkInvariants(exp, [...honest, ...bad]);
      expectComplete(exp, honest, before, after);
      // Resource data: every container of every honest sandbox; none of a sandbox whose Event lies;
      // served CPU never falls (event-cpu-decrease lies in containerUsage, a value runsc's share keeps rising).
      const cpu = new Map<string, number>();
      for (const s of findSamples(exp, 'runsc_container_cpu_usage_seconds_total')) {
        cpu.set(`${s.labels.sandbox}/${s.labels.container_id}`, Number(s.value));
      }
      for (const sb of honest) {
        for (const id of [sb.id, ...sb.subcontainerIds]) expect(cpu.has(`${sb.id}/${id}`), `${sb.id}/${id}`).toBe(true);
      }
      for (const sb of bad) {
        if (!RESOURCES_REFUSED.has(sb.behaviour.name)) continue;
        const own = exp.samples.filter((s) => s.labels.sandbox === sb.id && s.name.startsWith('runsc_container_'));
        expect(own, sb.behaviour.name).toEqual([]);
      }
      for (const [k, v] of lastCpu) if (cpu.has(k)) expect(cpu.get(k)!, k).toBeGreaterThanOrEqual(v);
      lastCpu = cpu;
      for (const sb of bad) {
        if (ALWAYS_REJECTED.has(sb.behaviour.name))
          expect(servedSeries(exp, sb.id), sb.behaviour.name).toEqual(new Set());
        if (NOT_OURS.has(sb.behaviour.name)) expect(exp.samples.filter((s) => s.labels.sandbox === sb.id)).toEqual([]);
      }
      const broken = Number(findSamples(exp, 'runsc_meta_num_sandboxes_broken_metrics')[0]?.value);
      expect(broken).toBeGreaterThanOrEqual(bad.filter((sb) => ALWAYS_REJECTED.has(sb.behaviour.name)).length);
    }
  });

  it('applies the metrics filter and rejects a sandbox that ignores it', async () => {
    const filter = '^fs_';
    const before = await exportsOf(honest, filter);
    const exp = await checkedScrape(rig, `runsc-sandbox-metrics-filter=${encodeURIComponent(filter)}`);
    const after = await exportsOf(honest, filter);
    checkInvariants(exp, [...honest, ...bad]);
    expectComplete(exp, honest, before, after);
    for (const s of exp.samples) {
      if (s.labels.sandbox !== undefined && !s.name.startsWith('runsc_meta_')) expect(s.name).toMatch(/^runsc_fs_/);
    }
    const liar = bad.find((sb) => sb.behaviour.name === 'ignore-filter');
    expect(liar && servedSeries(exp, liar.id)).toEqual(new Set());
  });
});

describe('memory under a 200 MB reply', () => {
  let rig: FleetRig;
  afterAll(async () => {
    await rig?.close();
  });

  it('peaks far below the reply size and does not grow from scrape to scrape', async () => {
    // 200 MB (the fake's default `huge`) and a never-ending reply, next to honest sandboxes.
    rig = await startRig({
      fleet: {
        count: 6,
        behaviours: [
          { behaviour: 'huge', count: 1 },
          { behaviour: 'endless', count: 1 },
        ],
      },
      flags: PER_SANDBOX_TIMEOUT,
    });
    for (let i = 0; i < 3; i++) await checkedScrape(rig);
    // Anonymous RSS after each of 16 more scrapes, both oversized replies in each. One sample
    // can catch the heap just shrunk (CI saw 36 MiB after the warm-up, 58 being usual), so
    // the two halves are compared by their highest sample.
    const anon: number[] = [];
    for (let i = 0; i < 16; i++) {
      await checkedScrape(rig);
      anon.push(processMemory(rig.server.pid).anonRssBytes);
    }
    const end = processMemory(rig.server.pid);
    const firstHalf = Math.max(...anon.slice(0, 8));
    const secondHalf = Math.max(...anon.slice(8));
    const mb = (n: number): string => `${(n / 2 ** 20).toFixed(0)} MiB`;
    const report =
      `anon rss per scrape ${anon.map(mb).join(' ')}; end rss ${mb(end.rssBytes)}, peak ` + `${mb(end.peakRssBytes)}`;
    // Holding the reply would need >= 200 MB; the 16 MiB cap per sandbox keeps node's heap small.
    expect(end.peakRssBytes, report).toBeLessThan(200 * 2 ** 20);
    // No per-scrape growth. The allocator may keep freed read copies (up to one 16 MiB cap
    // per oversized sandbox) and V8's heap may grow to its working size, in steps; holding
    // one capped reply per scrape would put the second half >= 128 MiB above the first.
    expect(secondHalf - firstHalf, report).toBeLessThan(48 * 2 ** 20);
    expect(rig.server.child.exitCode).toBeNull();
  });
});
